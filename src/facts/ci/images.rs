//! Image builds and pushes: the Dockerfile builds a job runs (docker, podman, buildah,
//! kaniko, buildctl) with their context, Dockerfile and tags, and the tags a job pushes,
//! judged mutable or immutable beside the other pushes of the same job.

use super::expand::{expand, expand_command, subst_var};
use super::runs::after_root_variable;
use super::runs::is_gitlab;
use crate::location::Location;
use crate::model::ci::{ImageBuild, Job, Push, Step};
use crate::shell::Command;
use std::collections::{BTreeMap, BTreeSet};

/// Whether a tag expression derives from the commit or release.
pub fn is_immutable_tag(tag: &str, tag_trigger: bool) -> bool {
    let t = tag.trim();
    if t.ends_with(":latest") || t == "latest" {
        return false;
    }
    const REFS: &[&str] = &[
        "github.sha",
        "GITHUB_SHA",
        "github.event.workflow_run.head_sha",
        "github.event.release.tag_name",
        "CI_COMMIT_SHA",
        "CI_COMMIT_SHORT_SHA",
        "CI_COMMIT_TAG",
        "outputs.tags",
        "outputs.version",
        // `fromJSON(steps.meta.outputs.json).tags`
        "outputs.json",
        // The environment `docker/metadata-action` exports to later steps.
        "DOCKER_METADATA_OUTPUT_TAGS",
        "DOCKER_METADATA_OUTPUT_JSON",
        "DOCKER_METADATA_OUTPUT_VERSION",
    ];
    // A shell variable named like a commit SHA (`$GIT_SHA`, `${SHORT_SHA}`) or a
    // `git rev-parse` substitution also derives from the commit.
    let sha_var = regex_lite_sha(t);
    REFS.iter().any(|r| t.contains(r))
        || sha_var
        || t.contains("git rev-parse")
        || (tag_trigger && (t.contains("github.ref_name") || t.contains("GITHUB_REF_NAME")))
}

/// The repository part of an image tag (`ghcr.io/o/app:sha` → `ghcr.io/o/app`).
fn tag_repository(tag: &str) -> &str {
    let t = tag.trim_matches(['"', '\'']);
    let slash = t.rfind('/').map_or(0, |i| i + 1);
    match t[slash..].rfind(':') {
        Some(i) => &t[..slash + i],
        None => t,
    }
}

/// Whether a tag is nothing but one variable reference (`$tag`, `${TAG}`, `${{ x }}`): its
/// value is unknown, so no rule judges it.
fn is_opaque_tag(tag: &str) -> bool {
    let t = tag.trim().trim_matches(['"', '\'']);
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let substitution = (t.starts_with("$(") && t.ends_with(')'))
        || (t.len() > 1 && t.starts_with('`') && t.ends_with('`'));
    substitution
        || (t.starts_with("${{") && t.ends_with("}}") && t.matches("${{").count() == 1)
        || t.strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .is_some_and(ident)
        || t.strip_prefix('$').is_some_and(ident)
}

/// An image is tagged immutably when some push of the same repository by the same job is:
/// `latest` pushed beside `:${{ github.sha }}` in another command is fine. Pushes whose every
/// tag is an opaque variable are not judged.
pub(super) fn settle_pushes(pushes: &mut [Push]) {
    let good: BTreeSet<(String, String)> = pushes
        .iter()
        .filter(|p| p.immutable)
        .flat_map(|p| {
            p.tags
                .iter()
                .map(|t| (p.job.clone(), tag_repository(t).to_string()))
        })
        .collect();
    for p in pushes.iter_mut() {
        let opaque = !p.tags.is_empty() && p.tags.iter().all(|t| is_opaque_tag(t));
        let sibling = p
            .tags
            .iter()
            .any(|t| good.contains(&(p.job.clone(), tag_repository(t).to_string())));
        if opaque || sibling {
            p.immutable = true;
        }
    }
    // One image, one finding: a later push that only adds `latest` to a repository the job
    // already pushed (an extra latest tag of that image) repeats the first, which takes its
    // tags. Pushes of other tags are other images of the repository (`app:migrate`,
    // `app:studio`), each judged.
    let mut first_of: BTreeMap<(String, String), usize> = BTreeMap::new();
    for i in 0..pushes.len() {
        if pushes[i].immutable {
            continue;
        }
        let keys: Vec<(String, String)> = pushes[i]
            .tags
            .iter()
            .map(|t| (pushes[i].job.clone(), tag_repository(t).to_string()))
            .collect();
        let only_latest = pushes[i].tags.iter().all(|t| {
            let t = t.trim_matches(['"', '\'']);
            let slash = t.rfind('/').map_or(0, |i| i + 1);
            t[slash..]
                .rsplit_once(':')
                .is_none_or(|(_, tag)| tag == "latest")
        });
        match keys
            .iter()
            .find_map(|k| first_of.get(k).copied())
            .filter(|_| only_latest)
        {
            Some(first) => {
                let tags = pushes[i].tags.clone();
                for t in tags {
                    if !pushes[first].tags.contains(&t) {
                        pushes[first].tags.push(t);
                    }
                }
                pushes[i].repeats = true;
            }
            None => {
                for k in keys {
                    first_of.entry(k).or_insert(i);
                }
            }
        }
    }
}

/// The values of `-t`/`--tag`/`--tag=` in a command's arguments.
fn tag_flags(a: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < a.len() {
        if (a[i] == "-t" || a[i] == "--tag") && i + 1 < a.len() {
            out.push(a[i + 1].to_string());
            i += 1;
        } else if let Some(v) = a[i].strip_prefix("--tag=") {
            out.push(v.to_string());
        }
        i += 1;
    }
    out
}

/// Tags given with `-t`/`--tag` to the image builds of a job.
fn job_build_tags(job: &Job) -> Vec<String> {
    let mut out = Vec::new();
    for c in job.steps.iter().flat_map(|s| &s.commands) {
        let a: Vec<&str> = c.args.iter().map(String::as_str).collect();
        if matches!(a.as_slice(), ["build", ..] | ["buildx", "build", ..]) {
            out.extend(tag_flags(&a));
        }
    }
    out
}

/// Whether the text holds a `$NAME`/`${NAME}` reference whose name ends in `SHA`.
fn regex_lite_sha(t: &str) -> bool {
    let bytes: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == '$' {
            let mut j = i + 1;
            if bytes.get(j) == Some(&'{') {
                j += 1;
            }
            let start = j;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == '_') {
                j += 1;
            }
            let name: String = bytes[start..j].iter().collect();
            if name.to_ascii_uppercase().ends_with("SHA") {
                return true;
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    false
}

/// The Dockerfile builds of a job's steps (see [`ImageBuild`]). Paths follow the step's
/// working directory and the `cd`s of its script (GitLab: of the job's script so far); a
/// build whose Dockerfile or target still holds an unresolved variable is left out.
pub(super) fn job_image_builds(job: &Job) -> Vec<ImageBuild> {
    let mut out = Vec::new();
    let mut shell_dir = String::new();
    let one_shell = is_gitlab(job);
    for step in &job.steps {
        if !one_shell {
            shell_dir = ci_path("", &step.working_directory).unwrap_or_else(|| "$".to_string());
        }
        let lower = step.uses.to_ascii_lowercase();
        if lower.ends_with("/build-push-action") || lower == "build-push-action" {
            let get = |k: &str| step.with.get(k).map(|v| expand(v, job, step));
            let contexts = get("context").unwrap_or_else(|| vec![String::new()]);
            let files = get("file").unwrap_or_else(|| vec![String::new()]);
            let targets = get("target").unwrap_or_else(|| vec![String::new()]);
            for context in &contexts {
                for file in &files {
                    for target in &targets {
                        let spec = BuildSpec {
                            dockerfile: (!file.trim().is_empty()).then(|| file.clone()),
                            context: Some(context.clone()),
                            target: target.trim().to_string(),
                            dockerfile_in_context: false,
                        };
                        out.extend(spec.resolve(&shell_dir, job, &step.loc));
                    }
                }
            }
            continue;
        }
        for c in &step.commands {
            for v in expand_command(c, job, step) {
                if v.program == "cd" {
                    if let Some(d) = v.args.first() {
                        shell_dir = ci_path(&shell_dir, d).unwrap_or_else(|| "$".to_string());
                    }
                    continue;
                }
                if let Some(spec) = build_spec(&v) {
                    out.extend(spec.resolve(&shell_dir, job, &v.loc));
                }
            }
        }
    }
    out
}

/// What a build command names, before paths are resolved.
#[derive(Debug, Default, PartialEq)]
struct BuildSpec {
    /// The Dockerfile as given, when given.
    dockerfile: Option<String>,
    /// The context as given (`None`: unknown, e.g. `-` for stdin).
    context: Option<String>,
    /// The target stage, empty when none.
    target: String,
    /// Whether a relative `dockerfile` is relative to the context (kaniko, buildctl).
    dockerfile_in_context: bool,
}

impl BuildSpec {
    /// The build with paths made relative to the root; `None` when a path or the target
    /// holds an unresolved variable or points outside the repository.
    fn resolve(&self, cwd: &str, job: &Job, loc: &Location) -> Option<ImageBuild> {
        if self.target.contains('$') {
            return None;
        }
        let context = ci_path(cwd, self.context.as_deref()?)?;
        let dockerfile = match &self.dockerfile {
            Some(f) => ci_path(
                if self.dockerfile_in_context {
                    &context
                } else {
                    cwd
                },
                f,
            )?,
            None => crate::load::join_relative(&context, "Dockerfile"),
        };
        Some(ImageBuild {
            dockerfile,
            context,
            target: self.target.clone(),
            job: job.key.clone(),
            loc: loc.clone(),
        })
    }
}

/// A path written in CI, against the directory `base` (relative to the root): the root
/// variables (`$CI_PROJECT_DIR`, `$GITHUB_WORKSPACE`, `${{ github.workspace }}`) start it from
/// the root. `None` for other absolute paths, URLs and paths still holding a variable.
fn ci_path(base: &str, p: &str) -> Option<String> {
    let p = p.trim();
    let (base, p) = match after_root_variable(p) {
        Some(rest) => ("", rest.trim_start_matches('/')),
        None => (base, p),
    };
    if p.contains('$') || p.contains("://") || p.starts_with('/') || base.contains('$') {
        return None;
    }
    Some(crate::load::join_relative(base, p))
}

/// `docker build` flags (also of `buildx build`, `podman build`, `buildah bud`) that take no
/// value; every other long flag written without `=` takes the next word.
const BUILD_BOOL_FLAGS: &[&str] = &[
    "push",
    "load",
    "no-cache",
    "pull",
    "quiet",
    "rm",
    "force-rm",
    "squash",
    "compress",
    "disable-content-trust",
    "check",
    "layers",
    "no-hosts",
    "debug",
];

/// The Dockerfile build a command runs, if any: `docker|podman build`, `docker buildx build`,
/// `docker image build`, `buildah bud|build`, kaniko's `executor`, `buildctl build`.
fn build_spec(c: &Command) -> Option<BuildSpec> {
    let base = c.program.rsplit('/').next().unwrap_or(&c.program);
    let a: Vec<&str> = c.args.iter().map(String::as_str).collect();
    match base {
        "docker" | "podman" | "buildah" => {
            let rest = match a.as_slice() {
                ["build" | "bud", rest @ ..] => rest,
                ["buildx" | "image" | "builder", "build", rest @ ..] => rest,
                _ => return None,
            };
            if base != "buildah" && a.first() == Some(&"bud") {
                return None;
            }
            let mut spec = BuildSpec::default();
            let mut i = 0;
            while i < rest.len() {
                let w = rest[i];
                if w == "--" {
                    break;
                }
                if let Some(flag) = w.strip_prefix("--") {
                    let (name, value) = match flag.split_once('=') {
                        Some((n, v)) => (n, Some(v.to_string())),
                        None if BUILD_BOOL_FLAGS.contains(&flag) => (flag, None),
                        None => {
                            i += 1;
                            (flag, rest.get(i).map(|v| (*v).to_string()))
                        }
                    };
                    match name {
                        "file" => spec.dockerfile = value,
                        "target" => spec.target = value.unwrap_or_default(),
                        _ => {}
                    }
                } else if let Some(short) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
                    // `-q` takes no value; `-f`, `-t`, `-o`, `-m` ... take one (attached or next).
                    let (name, attached) = short.split_at(1);
                    if name != "q" {
                        let value = if attached.is_empty() {
                            i += 1;
                            rest.get(i).map(|v| (*v).to_string())
                        } else {
                            Some(attached.trim_start_matches('=').to_string())
                        };
                        if name == "f" {
                            spec.dockerfile = value;
                        }
                    }
                } else {
                    spec.context = (w != "-").then(|| w.to_string());
                }
                i += 1;
            }
            Some(spec)
        }
        "executor" => {
            let mut spec = BuildSpec {
                dockerfile_in_context: true,
                ..BuildSpec::default()
            };
            for (name, value) in long_options(&a) {
                match name {
                    "context" | "c" => {
                        spec.context = value.map(|v| v.trim_start_matches("dir://").to_string());
                    }
                    "dockerfile" | "f" => spec.dockerfile = value,
                    "target" => spec.target = value.unwrap_or_default(),
                    _ => {}
                }
            }
            Some(spec)
        }
        "buildctl" | "buildctl-daemonless.sh" => {
            if !a.contains(&"build") {
                return None;
            }
            let mut spec = BuildSpec {
                dockerfile_in_context: true,
                ..BuildSpec::default()
            };
            let mut dockerfile_dir: Option<String> = None;
            let mut filename = "Dockerfile".to_string();
            for (name, value) in long_options(&a) {
                let kv = value.as_deref().and_then(|v| v.split_once('='));
                match (name, kv) {
                    ("local", Some(("context", d))) => spec.context = Some(d.to_string()),
                    ("local", Some(("dockerfile", d))) => dockerfile_dir = Some(d.to_string()),
                    ("opt", Some(("filename", f))) => filename = f.to_string(),
                    ("opt", Some(("target", t))) => spec.target = t.to_string(),
                    _ => {}
                }
            }
            // `--local dockerfile=DIR` names the Dockerfile's directory (the context when
            // not given); the path is made relative to the context by `resolve`, so express
            // the file against the shell's directory instead.
            let ctx = spec.context.clone()?;
            let dir = dockerfile_dir.unwrap_or_else(|| ctx.clone());
            let dir = dir.trim_end_matches('/');
            spec.dockerfile = Some(if dir.is_empty() {
                filename
            } else {
                format!("{dir}/{filename}")
            });
            spec.dockerfile_in_context = false;
            Some(spec)
        }
        _ => None,
    }
}

/// The outputs that `run` steps of a job write, by step id and name, with the value as
/// written: `echo "SHORT_SHA=$(echo $GITHUB_SHA | cut -c1-7)" >> $GITHUB_OUTPUT` gives
/// `(vars, SHORT_SHA) → $(echo $GITHUB_SHA | cut -c1-7)`; the legacy
/// `echo "::set-output name=N::V"` counts too. Only `echo`/`printf` words of steps that
/// mention `GITHUB_OUTPUT` or `set-output` are read.
pub(super) fn step_outputs(job: &Job) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for step in &job.steps {
        if step.id.is_empty()
            || !(step.run.contains("GITHUB_OUTPUT") || step.run.contains("set-output"))
        {
            continue;
        }
        for c in &step.commands {
            if !matches!(c.program.as_str(), "echo" | "printf") {
                continue;
            }
            for a in &c.args {
                let pair = match a.strip_prefix("::set-output name=") {
                    Some(rest) => rest.split_once("::"),
                    None => a.split_once('='),
                };
                let Some((name, value)) = pair else { continue };
                let ident = !name.is_empty()
                    && name
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
                if ident {
                    out.insert((step.id.clone(), name.to_string()), value.to_string());
                }
            }
        }
    }
    out
}

/// The long options of a command line, in order: `--name=value` and `--name value` (the
/// next word is taken as the value of any long option written without `=`); other words
/// are skipped.
fn long_options<'a>(a: &[&'a str]) -> Vec<(&'a str, Option<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < a.len() {
        if let Some(flag) = a[i].strip_prefix("--") {
            match flag.split_once('=') {
                Some((n, v)) => out.push((n, Some(v.to_string()))),
                None => {
                    out.push((flag, a.get(i + 1).map(|v| (*v).to_string())));
                    i += 1;
                }
            }
        }
        i += 1;
    }
    out
}

/// Image pushes of one step.
pub(super) fn step_pushes(
    job: &Job,
    step: &Step,
    outputs: &BTreeMap<(String, String), String>,
    out: &mut Vec<Push>,
) {
    let tag_trigger = job
        .triggers
        .iter()
        .any(|t| t.tag_only || t.event == "release");
    let resolve = |t: &str| -> String {
        // `$NAME`/`${NAME}`/`${{ env.NAME }}` from the step's env (GitHub workflow, job and
        // step `env:`; GitLab global and job `variables:`), and `${{ steps.ID.outputs.NAME }}`
        // from what an earlier step of the job writes to `$GITHUB_OUTPUT`, a few levels deep.
        let mut s = t.to_string();
        for _ in 0..4 {
            let before = s.clone();
            for ((id, name), v) in outputs {
                s = s
                    .replace(&format!("${{{{ steps.{id}.outputs.{name} }}}}"), v)
                    .replace(&format!("${{{{steps.{id}.outputs.{name}}}}}"), v);
            }
            for (k, v) in &step.env {
                s = s
                    .replace(&format!("${{{{ env.{k} }}}}"), v)
                    .replace(&format!("${{{{env.{k}}}}}"), v);
                s = subst_var(&s, k, v);
            }
            if s == before {
                break;
            }
        }
        s
    };
    let lower = step.uses.to_ascii_lowercase();
    if lower.ends_with("/build-push-action") || lower == "build-push-action" {
        let push = step
            .with
            .get("push")
            .map(|v| v.trim() != "false")
            .unwrap_or(false)
            || step
                .with
                .get("outputs")
                .is_some_and(|o| o.contains("push=true"));
        if !push {
            return;
        }
        if step
            .with
            .get("outputs")
            .is_some_and(|o| o.contains("push-by-digest=true"))
        {
            return;
        }
        let tags: Vec<String> = step
            .with
            .get("tags")
            .map(|t| {
                t.split(['\n', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(resolve)
                    .collect()
            })
            .unwrap_or_default();
        let immutable = tags.iter().any(|t| is_immutable_tag(t, tag_trigger));
        out.push(Push {
            tags,
            immutable,
            repeats: false,
            job: job.key.clone(),
            loc: step
                .with_locs
                .get("tags")
                .cloned()
                .unwrap_or_else(|| step.loc.clone()),
        });
        return;
    }
    for c in &step.commands {
        let base = c.program.rsplit('/').next().unwrap_or(&c.program);
        if base != "docker" && base != "podman" {
            continue;
        }
        let a: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let tags = match a.as_slice() {
            ["push", rest @ ..] if rest.iter().any(|x| *x == "--all-tags" || *x == "-a") => {
                // Pushes every local tag of the repository: those the job's builds gave it.
                let repo = rest
                    .iter()
                    .find(|x| !x.starts_with('-'))
                    .map(|x| x.to_string())
                    .unwrap_or_default();
                job_build_tags(job)
                    .into_iter()
                    .filter(|t| t.rsplit_once(':').map_or(t.as_str(), |(r, _)| r) == repo)
                    .collect()
            }
            ["push", rest @ ..] => rest
                .iter()
                .filter(|x| !x.starts_with('-'))
                .take(1)
                .map(|s| s.to_string())
                .collect(),
            ["build", rest @ ..] | ["buildx", "build", rest @ ..] if rest.contains(&"--push") => {
                tag_flags(rest)
            }
            ["buildx", "imagetools", "create", rest @ ..] => tag_flags(rest),
            _ => continue,
        };
        // A word that is a command substitution (`$(jq ... <<< "$DOCKER_METADATA_OUTPUT_JSON")`)
        // can expand into the tag flags themselves: a tag list made at run time is not judged.
        let tag_values = tag_flags(&a);
        // So can a bash array expansion (`"${args[@]}"` built from `-t "$t"` pairs).
        if a.iter().any(|w| {
            (w.starts_with("$(") || w.starts_with('`') || w.contains("[@]}") || w.contains("[*]}"))
                && !tag_values.iter().any(|t| t == w)
        }) {
            continue;
        }
        let tags: Vec<String> = tags.iter().map(|t| resolve(t)).collect();
        let immutable = tags.iter().any(|t| is_immutable_tag(t, tag_trigger));
        out.push(Push {
            tags,
            immutable,
            repeats: false,
            job: job.key.clone(),
            loc: c.loc.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell;

    #[test]
    fn build_commands_name_their_dockerfile_context_and_target() {
        let spec = |script: &str| {
            let cmds = shell::parse_script(script, "ci.yml", 1, 1).unwrap_or_default();
            cmds.first().and_then(build_spec).map(|b| {
                let dockerfile = b.dockerfile.unwrap_or_default();
                let context = b.context.unwrap_or_default();
                (dockerfile, context, b.target, b.dockerfile_in_context)
            })
        };
        let s = |a: &str, b: &str, c: &str, d: bool| Some((a.into(), b.into(), c.into(), d));
        let table = [
            (
                "docker build -t x:1 --build-arg A=1 --target=prod -f a/Dockerfile --push ctx",
                s("a/Dockerfile", "ctx", "prod", false),
            ),
            (
                "docker buildx build --platform linux/amd64 --target runner -fDockerfile.web .",
                s("Dockerfile.web", ".", "runner", false),
            ),
            ("podman build -q .", s("", ".", "", false)),
            (
                "buildah bud --file=x/Containerfile x",
                s("x/Containerfile", "x", "", false),
            ),
            ("docker bud .", None),
            ("docker compose build", None),
            (
                "/kaniko/executor --context dir://api --dockerfile=Dockerfile.prod --target prod",
                s("Dockerfile.prod", "api", "prod", true),
            ),
            (
                "buildctl build --frontend dockerfile.v0 --local context=. --local dockerfile=docker --opt filename=api.Dockerfile --opt target=final",
                s("docker/api.Dockerfile", ".", "final", false),
            ),
        ];
        for (script, want) in table {
            assert_eq!(spec(script), want, "{script}");
        }
        assert_eq!(
            ci_path("web", "$CI_PROJECT_DIR/api").as_deref(),
            Some("api")
        );
        assert_eq!(
            ci_path("web", "${{ github.workspace }}").as_deref(),
            Some("")
        );
        assert_eq!(ci_path("web", "../api").as_deref(), Some("api"));
        assert_eq!(ci_path("web", "/srv/api"), None);
        assert_eq!(ci_path("web", "$DIR/api"), None);
    }
}
