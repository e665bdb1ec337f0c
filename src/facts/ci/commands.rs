//! Container commands: `docker`/`docker compose`/`buildx` subcommands past their global
//! options, container runs and the image tool they start, and health-check URLs.

use crate::definitions::Definitions;

/// Options of `docker` itself (before the subcommand) that take a value.
const DOCKER_GLOBAL_VALUE_FLAGS: &[&str] = &[
    "-c",
    "--context",
    "--config",
    "-H",
    "--host",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];

/// Options of `docker compose` / `docker-compose` (before its subcommand) that take a value.
const COMPOSE_GLOBAL_VALUE_FLAGS: &[&str] = &[
    "-f",
    "--file",
    "-p",
    "--project-name",
    "--profile",
    "--env-file",
    "--project-directory",
    "--ansi",
    "--progress",
    "--parallel",
    "-c",
    "--context",
    "-H",
    "--host",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];

/// Options of `docker buildx` (before its subcommand) that take a value.
const BUILDX_GLOBAL_VALUE_FLAGS: &[&str] = &["--builder"];

/// The words after the leading options: `-f x --ansi never build api` → `build api`.
fn skip_global_options<'a>(args: &'a [String], value_flags: &[&str]) -> &'a [String] {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') {
            break;
        }
        let takes_value = !a.contains('=') && value_flags.contains(&a.as_str());
        i += if takes_value { 2 } else { 1 };
    }
    args.get(i..).unwrap_or_default()
}

/// The subcommand path of a `docker` or `docker-compose` command, with the global options of
/// `docker`, `docker compose` and `docker buildx` skipped: `docker --context ci compose -f
/// x.yml -p app build api` → `compose build api`; `docker-compose -f x build` → `compose
/// build`. `None` for other programs.
pub(super) fn docker_command(name: &str, args: &[String]) -> Option<Vec<String>> {
    let (group, rest) = match name {
        "docker" => {
            let rest = skip_global_options(args, DOCKER_GLOBAL_VALUE_FLAGS);
            match rest.split_first() {
                Some((sub, tail)) if sub == "compose" => ("compose", tail),
                Some((sub, tail)) if sub == "buildx" => ("buildx", tail),
                _ => return Some(rest.to_vec()),
            }
        }
        "docker-compose" => ("compose", args),
        _ => return None,
    };
    let flags = if group == "compose" {
        COMPOSE_GLOBAL_VALUE_FLAGS
    } else {
        BUILDX_GLOBAL_VALUE_FLAGS
    };
    Some(
        std::iter::once(group.to_string())
            .chain(skip_global_options(rest, flags).iter().cloned())
            .collect(),
    )
}

/// `docker run` / `podman run` flags that take a value.
const CONTAINER_VALUE_FLAGS: &[&str] = &[
    "-v",
    "--volume",
    "-e",
    "--env",
    "--env-file",
    "-w",
    "--workdir",
    "--name",
    "--entrypoint",
    "-p",
    "--publish",
    "--network",
    "--net",
    "--mount",
    "-u",
    "--user",
    "--platform",
    "-l",
    "--label",
    "--add-host",
    "--cpus",
    "-m",
    "--memory",
    "--pull",
    "--hostname",
    "-h",
    "--cap-add",
    "--cap-drop",
    "--security-opt",
    "--ulimit",
    "--tmpfs",
    "--shm-size",
];

/// The tool a `docker run` / `podman run` runs, named after the image (`trufflesecurity/
/// trufflehog:latest` → `trufflehog`), with the words after the image.
pub fn container_run(program: &str, args: &[String]) -> Option<(String, Vec<String>)> {
    if !matches!(program, "docker" | "podman") || args.first().map(String::as_str) != Some("run") {
        return None;
    }
    let rest = skip_global_options(&args[1..], CONTAINER_VALUE_FLAGS);
    let (image, tool_args) = rest.split_first()?;
    Some((image_tool(image)?, tool_args.to_vec()))
}

/// The tool an image is named after: its repository's last segment, without tag or digest.
pub fn image_tool(image: &str) -> Option<String> {
    let image = image.trim_start_matches("docker://");
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    let name = last.split(':').next().unwrap_or(last);
    (!name.is_empty() && !name.contains('$')).then(|| name.to_ascii_lowercase())
}

/// A URL whose path ends in one of the health or ready paths of `defs` (by default
/// `/health`, `/healthz`, `/_health` or `/ready`).
pub fn is_health_url(arg: &str, defs: &Definitions) -> bool {
    let a = arg.trim_matches(['"', '\'']);
    if !(a.contains("://") || a.starts_with('/') || a.contains("localhost") || a.contains('$')) {
        return false;
    }
    let path = a
        .split(['?', '#'])
        .next()
        .unwrap_or(a)
        .trim_end_matches('/');
    defs.health_paths
        .iter()
        .chain(&defs.ready_paths)
        .any(|s| path.ends_with(s.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_global_options_are_skipped() {
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let cmd = |n: &str, s: &str| docker_command(n, &words(s)).map(|w| w.join(" "));
        assert_eq!(
            cmd(
                "docker",
                "--context ci compose -f a.yml -p app --profile x build api"
            )
            .as_deref(),
            Some("compose build api")
        );
        assert_eq!(
            cmd("docker-compose", "--file=a.yml --ansi never build").as_deref(),
            Some("compose build")
        );
        assert_eq!(
            cmd("docker", "buildx --builder b build .").as_deref(),
            Some("buildx build .")
        );
        assert_eq!(
            cmd("docker", "compose -f build.yml up").as_deref(),
            Some("compose up")
        );
        assert_eq!(cmd("podman", "build ."), None);
    }

    #[test]
    fn container_runs_name_the_image_tool() {
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            container_run(
                "docker",
                &words(
                    "run --rm -v a:/b -e X=1 --entrypoint sh trufflesecurity/trufflehog:3.1 git file:///b"
                )
            ),
            Some(("trufflehog".to_string(), words("git file:///b")))
        );
        assert_eq!(
            container_run(
                "podman",
                &words("run --volume=a:/b ghcr.io/gitleaks/gitleaks@sha256:ab detect")
            ),
            Some(("gitleaks".to_string(), words("detect")))
        );
        assert_eq!(container_run("docker", &words("build -t x .")), None);
        assert_eq!(container_run("docker", &words("run --rm")), None);
        assert_eq!(image_tool("${IMAGE}"), None);
    }
}
