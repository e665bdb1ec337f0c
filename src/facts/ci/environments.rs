//! Deployment environments: the staging and production names (configurable), and the
//! environments a job deploys to, matched as whole words.

use super::expand::expand_matrix;
use crate::model::ci::Job;

/// Staging environment names (matched as words).
pub const STAGING: &[&str] = &[
    "staging",
    "stage",
    "stg",
    "preprod",
    "pre-prod",
    "preproduction",
    "pre-production",
    "uat",
];
/// Production environment names (matched as words).
pub const PRODUCTION: &[&str] = &["production", "prod", "prd", "live"];

/// The names that make a deploy job a staging or a production deploy (configuration
/// `environments`; the defaults are [`STAGING`] and [`PRODUCTION`]). A name matches when its
/// words appear together in an environment, job or workflow name: `eu-prod` matches
/// `deploy-eu-prod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environments {
    /// Staging names.
    pub staging: Vec<String>,
    /// Production names.
    pub production: Vec<String>,
}

impl Default for Environments {
    fn default() -> Self {
        let own = |l: &[&str]| l.iter().map(|s| (*s).to_string()).collect();
        Environments {
            staging: own(STAGING),
            production: own(PRODUCTION),
        }
    }
}

/// Lower-case words of a text (`deploy-prod` → `deploy`, `prod`), with `pre` joined to a
/// following `prod`/`production` whatever separates them (`pre-prod`, `pre_prod` and
/// `Pre Production` are the words `preprod` and `preproduction`, never `prod`).
pub(super) fn words(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    for w in lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        match out.last_mut() {
            Some(last) if last == "pre" && (w == "prod" || w == "production") => {
                last.push_str(w);
            }
            _ => out.push(w.to_string()),
        }
    }
    out
}

/// Whether the words of one of `names` appear together, in order, among the words of `text`.
fn names_env(text: &str, names: &[String]) -> bool {
    let text = words(text);
    names.iter().any(|n| {
        let n = words(n);
        !n.is_empty() && text.windows(n.len()).any(|w| w == n.as_slice())
    })
}

/// The environments a job deploys to (catalog: "deploy job / environment").
pub fn deploy_environments(job: &Job, environments: &Environments) -> Vec<String> {
    let mut out = Vec::new();
    // A GitLab job whose environment action is one of these records no deployment: an
    // `on_stop` job, a job that only prepares, verifies or accesses the environment.
    if matches!(
        job.environment_action.as_str(),
        "stop" | "prepare" | "verify" | "access"
    ) {
        return out;
    }
    let envs = [
        ("staging", environments.staging.as_slice()),
        ("production", environments.production.as_slice()),
    ];
    if job.has_environment && !job.environment.is_empty() {
        // `environment: ${{ matrix.target }}` names each listed value; an input choosing the
        // environment names each of its choices.
        let mut names = expand_matrix(&job.environment, job);
        names.extend(job.environment_choices.iter().cloned());
        // One environment is one kind: a name that matches a staging name is staging even
        // when it also holds a production word.
        for environment in names {
            let kind = envs
                .iter()
                .find(|(_, list)| names_env(&environment, list))
                .map(|(name, _)| *name);
            if let Some(kind) = kind
                && !out.iter().any(|o| o == kind)
            {
                out.push(kind.to_string());
            }
        }
        return out;
    }
    let label = format!("{} {}", job.id, job.name).to_ascii_lowercase();
    let deployish = ["deploy", "release", "rollout", "promote"]
        .iter()
        .any(|w| label.contains(w));
    let file = job.pipeline.rsplit('/').next().unwrap_or(&job.pipeline);
    for (name, list) in envs {
        let by_name = deployish && names_env(&label, list);
        let by_workflow = label.contains("deploy")
            && (names_env(&job.pipeline_name, list) || names_env(file, list));
        if by_name || by_workflow {
            out.push(name.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_match_as_whole_words_in_order() {
        let names = |l: &[&str]| l.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let prod = names(&["prod", "eu-live"]);
        assert!(names_env("deploy-prod", &prod));
        assert!(names_env("Deploy EU live", &prod));
        assert!(!names_env("live-eu", &prod), "words in order");
        assert!(!names_env("production", &prod), "whole words, not prefixes");
        assert!(!names_env("deploy-pre-prod", &prod), "pre-prod is one word");
        assert!(names_env("pre-prod", &names(&["pre-prod"])));
        assert!(
            !names_env("pre_prod", &prod),
            "pre joins prod whatever the separator"
        );
        assert!(!names_env("Pre Production", &names(&["production"])));
        assert!(names_env("pre_production-eu", &names(&["pre-production"])));
    }
}
