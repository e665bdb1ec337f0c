//! Task runners (turbo, nx, lerna): which tasks an invocation runs, read from its words, like
//! the package-manager classifier beside it. Used for CI runs and Dockerfile `RUN`s alike.

/// Tasks named by a task runner invocation: `turbo run A B`, `turbo A`, `nx run-many -t A,B`,
/// `nx affected -t A B`, `nx run P:A`, `lerna run A`.
pub fn runner_tasks(tool: &str, args: &[String]) -> Vec<String> {
    let positional = |skip_values: &[&str]| -> Vec<String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--" {
                break;
            }
            if a.starts_with('-') {
                if !a.contains('=') && skip_values.contains(&a.as_str()) {
                    i += 1;
                }
            } else {
                out.push(a.clone());
            }
            i += 1;
        }
        out
    };
    let split = |v: &str| -> Vec<String> {
        v.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    match tool {
        "turbo" => {
            let words = positional(&[
                "--filter",
                "-F",
                "--concurrency",
                "--cache-dir",
                "--log-order",
                "--output-logs",
            ]);
            let words = if words.first().map(String::as_str) == Some("run") {
                &words[1..]
            } else {
                &words[..]
            };
            words
                .iter()
                .filter(|w| !matches!(w.as_str(), "prune" | "login" | "link" | "gen" | "daemon"))
                .cloned()
                .collect()
        }
        "lerna" => {
            let words = positional(&["--scope", "--ignore", "--since", "--concurrency"]);
            if words.first().map(String::as_str) == Some("run") {
                words[1..].iter().take(1).cloned().collect()
            } else {
                Vec::new()
            }
        }
        "nx" => {
            let mut out = Vec::new();
            let mut i = 0;
            while i < args.len() {
                let a = &args[i];
                if let Some(v) = a
                    .strip_prefix("--targets=")
                    .or_else(|| a.strip_prefix("--target="))
                    .or_else(|| a.strip_prefix("-t="))
                {
                    out.extend(split(v));
                } else if a == "-t" || a == "--targets" || a == "--target" {
                    i += 1;
                    while i < args.len() && !args[i].starts_with('-') {
                        out.extend(split(&args[i]));
                        i += 1;
                    }
                    continue;
                }
                i += 1;
            }
            if out.is_empty() {
                let words = positional(&[
                    "--projects",
                    "-p",
                    "--base",
                    "--head",
                    "--configuration",
                    "-c",
                    "--parallel",
                ]);
                match words.first().map(String::as_str) {
                    Some("run") => {
                        if let Some(t) = words.get(1) {
                            out.push(t.rsplit(':').next().unwrap_or(t).to_string());
                        }
                    }
                    Some(
                        "run-many" | "affected" | "graph" | "reset" | "show" | "init" | "migrate"
                        | "format:check" | "format:write",
                    )
                    | None => {}
                    Some(t) if t.contains(':') => {
                        out.push(t.split(':').nth(1).unwrap_or(t).to_string())
                    }
                    Some(t) => out.push(t.to_string()),
                }
            }
            out
        }
        _ => Vec::new(),
    }
}
