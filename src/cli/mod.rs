//! The command line: clap definitions and the `run` function that maps a parsed command to
//! output and an exit status (0 clean, 1 findings at or above `--fail-on`, 2 usage error).
//! Parsing the CLI does no I/O.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::finding::Severity;
use crate::policy::PolicySet;
use crate::{VERSION, report};

mod check;
mod color;
mod fleet;
mod model;

use check::check;
pub use color::{ColorEnv, use_color};
use fleet::fleet;
use model::model;

/// shipshape: checks a repository's CI, Dockerfiles, Compose files, alert rules and app facts
/// against CEL policies.
#[derive(Debug, Parser)]
#[command(name = "shipshape", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check one or more repository roots.
    Check(Box<CheckArgs>),
    /// Audit many repositories (checkouts, bare mirrors, a manifest) into one scorecard
    /// (`fleet merge` combines shard outputs).
    Fleet(Box<fleet::FleetArgs>),
    /// List every rule: ID, severity, title (or everything about each rule as JSON).
    Rules(RulesArgs),
    /// Run the inline test cases of the policies in DIR (the built-in pack without DIR).
    Test {
        /// A directory of policy files.
        dir: Option<PathBuf>,
        /// Run only this rule's cases.
        #[arg(long, value_name = "RULE")]
        rule: Option<String>,
    },
    /// Print the JSON Schema of the configuration file (`shipshape schema config`) or of the
    /// model policies see (`shipshape schema model`).
    Schema {
        /// What to describe: `config` or `model`.
        what: String,
        /// Policy options.
        #[command(flatten)]
        policies: PolicyArgs,
    },
    /// Print the model policies see for a root (`repo`), or the value of a CEL expression
    /// over it (`--query`).
    Model(ModelArgs),
    /// Print a rule's documentation.
    Explain {
        /// The rule ID, e.g. DF005.
        rule: String,
        /// Show the settings in effect under this configuration file (default: the current
        /// directory's, when it has one).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Policy options.
        #[command(flatten)]
        policies: PolicyArgs,
    },
    /// Print a shell completion script (`shipshape completions bash > ...`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff; `shipshape man > shipshape.1`, `shipshape man check >
    /// shipshape-check.1`).
    Man {
        /// A subcommand's page instead of shipshape's.
        subcommand: Option<String>,
    },
}

/// Where policies come from.
#[derive(Debug, Clone, clap::Args)]
pub struct PolicyArgs {
    /// Add the policies in DIR (repeatable).
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Use only the policies given with --policy.
    #[arg(long)]
    pub no_builtin: bool,
}

/// Arguments of `model`.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The repository root (default: the current directory).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ModelFormat::Json)]
    pub format: ModelFormat,
    /// Print the value of this CEL expression instead of the whole model: `repo` is bound, and
    /// the functions policies use are available (e.g. `repo.dockerfiles.map(d, d.path)`).
    #[arg(long, value_name = "EXPR")]
    pub query: Option<String>,
    /// Use this configuration file (default: the root's, as `check` finds it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use no configuration file.
    #[arg(long)]
    pub no_config: bool,
    /// Policy sources (a configuration is checked against them).
    #[command(flatten)]
    pub policies: PolicyArgs,
}

/// Output formats of `model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelFormat {
    /// Pretty-printed JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Arguments of `rules`.
#[derive(Debug, Clone, clap::Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
    /// Policy options.
    #[command(flatten)]
    pub policies: PolicyArgs,
}

/// Output formats of `rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// One line per rule: ID, severity, title.
    Text,
    /// A JSON array of rules with their tags, links and documentation.
    Json,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with source snippets.
    Human,
    /// One line per finding: `path:line:col: severity[RULE] message`.
    Concise,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// shipshape's versioned JSON (docs/json-format.md).
    Json,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
    /// Markdown for a GitHub job summary or a pull request comment.
    Markdown,
    /// GitLab Code Quality JSON (`artifacts:reports:codequality`).
    Gitlab,
    /// JUnit XML (GitLab `artifacts:reports:junit`, Jenkins).
    Junit,
}

/// One report a check writes: a format and a file (standard output when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    /// The format.
    pub format: Format,
    /// The file to write; standard output when `None`.
    pub path: Option<PathBuf>,
}

/// Parses `FORMAT` or `FORMAT=FILE` (the value of `--report`).
fn parse_report_spec(s: &str) -> Result<ReportSpec, String> {
    let (name, path) = match s.split_once('=') {
        Some((name, "")) => {
            return Err(format!("no file after `{name}=`"));
        }
        Some((name, path)) => (name, Some(PathBuf::from(path))),
        None => (s, None),
    };
    let format = Format::from_str(name, true).map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
            .collect();
        format!("unknown format `{name}` (one of: {})", names.join(", "))
    })?;
    Ok(ReportSpec { format, path })
}

/// The least severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors fail.
    Error,
    /// Warnings and errors fail.
    Warning,
    /// Any finding fails.
    Note,
    /// Never fail on findings.
    Never,
}

impl FailOn {
    /// The least severity that fails, or `None` for `never`.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

/// Colour choice for human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Repository roots to check (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format (default: human).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// One line per finding (`--format concise`).
    #[arg(long, conflicts_with = "format")]
    pub concise: bool,
    /// Write the --format report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a report in FORMAT to FILE, or to standard output without `=FILE`
    /// (repeatable, e.g. `--report sarif=shipshape.sarif --report github`). At most one
    /// report goes to standard output.
    #[arg(long = "report", value_name = "FORMAT[=FILE]", value_parser = parse_report_spec)]
    pub reports: Vec<ReportSpec>,
    /// SARIF: the analysis category (`automationDetails.id`) instead of `shipshape/` and the
    /// root's path in its repository.
    #[arg(long, value_name = "NAME")]
    pub category: Option<String>,
    /// SARIF: also write one file per root into DIR (`<root's path in its repository>.sarif`),
    /// each its own analysis category, for checks of more roots than one SARIF file takes.
    #[arg(long, value_name = "DIR")]
    pub sarif_dir: Option<PathBuf>,
    /// SARIF: put all roots into one run (one analysis category; the roots must belong to
    /// one repository).
    #[arg(long)]
    pub sarif_single_run: bool,
    /// Break the summary's counts down per rule (human and concise formats).
    #[arg(long)]
    pub statistics: bool,
    /// The repository the roots belong to (default: the git work tree holding each root, else
    /// the root): report paths are relative to it, so `check services/api` points at
    /// `services/api/Dockerfile`.
    #[arg(long, value_name = "DIR")]
    pub repo_root: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity is kept.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Policy sources.
    #[command(flatten)]
    pub policies: PolicyArgs,
    /// Keep only these rules (comma-separated IDs).
    #[arg(long, value_delimiter = ',', value_name = "RULE,...")]
    pub select: Vec<String>,
    /// Drop these rules (comma-separated IDs).
    #[arg(long, value_delimiter = ',', value_name = "RULE,...")]
    pub ignore: Vec<String>,
    /// Print nothing on success in human and concise formats; only findings and the summary
    /// otherwise. No progress line either.
    #[arg(long, short)]
    pub quiet: bool,
    /// Colour in human and concise output (auto: by NO_COLOR, CLICOLOR_FORCE, TERM and
    /// whether standard output is a terminal).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Use this configuration file for every root (default: the root's `shipshape.yaml`,
    /// `.shipshape.yaml` or `.github/shipshape.yaml`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use no configuration file.
    #[arg(long)]
    pub no_config: bool,
    /// Include findings silenced by inline suppressions (SARIF `suppressions`).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in FILE (to pass to --baseline later); the run then exits 0
    /// whatever it finds.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}

/// Exit status: no finding at or above `--fail-on`.
pub const EXIT_OK: u8 = 0;
/// Exit status: some finding at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: usage error, unreadable root, or a policy that does not compile.
pub const EXIT_ERROR: u8 = 2;

fn load_policies(args: &PolicyArgs) -> Result<PolicySet, u8> {
    PolicySet::load(!args.no_builtin, &args.policy).map_err(|e| {
        eprintln!("{:?}", miette::Report::new(*e));
        EXIT_ERROR
    })
}

/// Runs a parsed command; returns the exit status.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Rules(args) => {
            let Ok(set) = load_policies(&args.policies) else {
                return EXIT_ERROR;
            };
            if args.format == RulesFormat::Json {
                let rules: Vec<serde_json::Value> = set.metas().iter().map(rule_json).collect();
                return print_out(&pretty(&serde_json::Value::Array(rules)));
            }
            let mut out = String::new();
            for m in set.metas() {
                out.push_str(&format!(
                    "{:<8} {:<8} {}\n",
                    m.id,
                    m.severity.as_str(),
                    m.title
                ));
            }
            print_out(&out)
        }
        Command::Explain {
            rule,
            config,
            policies,
        } => {
            let cfg_path =
                match crate::plan::config_path(config.as_deref(), false, std::path::Path::new("."))
                {
                    Ok(p) => p,
                    Err(e) => {
                        eprintln!("{e}");
                        return EXIT_ERROR;
                    }
                };
            let (set, cfg) = match crate::plan::configured(
                cfg_path.as_deref(),
                &policies.policy,
                policies.no_builtin,
            ) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    return EXIT_ERROR;
                }
            };
            match set
                .policies
                .iter()
                .find(|p| p.meta.id.eq_ignore_ascii_case(&rule))
            {
                Some(p) => {
                    let mut text = set.reference(p);
                    if let Some(c) = &cfg {
                        text.push_str(&in_effect(p, c));
                    }
                    print_out(&text)
                }
                None => {
                    eprintln!("error: no rule {rule}; `shipshape rules` lists them");
                    EXIT_ERROR
                }
            }
        }
        Command::Check(args) => check(*args),
        Command::Fleet(args) => fleet(*args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "shipshape", &mut out);
            print_out(&String::from_utf8_lossy(&out))
        }
        Command::Man { subcommand } => {
            let cmd = Cli::command();
            let page = match subcommand {
                None => cmd,
                Some(name) => match cmd.find_subcommand(&name) {
                    Some(sub) => {
                        let (name, title) =
                            (sub.get_name(), format!("shipshape-{}", sub.get_name()));
                        sub.clone()
                            .display_name(title)
                            .bin_name(format!("shipshape {name}"))
                    }
                    None => {
                        eprintln!("error: no subcommand {name}");
                        return EXIT_ERROR;
                    }
                },
            };
            let mut out = Vec::new();
            let man = clap_mangen::Man::new(page).source(format!("shipshape {VERSION}"));
            match man.render(&mut out) {
                Ok(()) => print_out(&String::from_utf8_lossy(&out)),
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_ERROR
                }
            }
        }
        Command::Model(args) => model(args),
        Command::Test { dir, rule } => test_policies(dir, rule),
        Command::Schema { what, policies } => match what.as_str() {
            "config" => {
                let Ok(set) = load_policies(&policies) else {
                    return EXIT_ERROR;
                };
                print_out(&pretty(&crate::config::json_schema(&set)))
            }
            "model" => print_out(&pretty(&crate::model::schema::json_schema())),
            _ => {
                eprintln!(
                    "error: unknown schema {what}; there are `shipshape schema config` and `shipshape schema model`"
                );
                EXIT_ERROR
            }
        },
    }
}

/// The entry of one rule in `rules --format json`: `security_severity` and `help_uri` only
/// when the rule has them.
fn rule_json(m: &crate::policy::meta::RuleMeta) -> serde_json::Value {
    let mut v = serde_json::json!({
        "id": m.id,
        "title": m.title,
        "severity": m.severity.as_str(),
        "tags": m.tags,
        "docs": {
            "what": m.docs.what,
            "why": m.docs.why,
            "failing": m.docs.failing,
            "passing": m.docs.passing,
            "decisions": m.docs.decisions,
            "fix": m.docs.fix,
            "fix_gitlab": m.docs.fix_gitlab,
        },
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(s) = m.security_severity {
            o.insert("security_severity".into(), serde_json::json!(s));
        }
        if let Some(u) = &m.help_uri {
            o.insert("help_uri".into(), serde_json::json!(u));
        }
    }
    v
}

/// The settings of a rule in effect under a configuration.
fn in_effect(p: &crate::policy::Policy, c: &crate::config::Config) -> String {
    let id = &p.meta.id;
    let mut out = format!(
        "\n## In effect ({})\n\n- enabled: {}\n- severity: {}\n",
        c.path
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string()),
        !c.disabled.contains(id),
        c.severities.get(id).copied().unwrap_or(p.meta.severity)
    );
    let set = c.options.get(id);
    for (name, spec) in &p.options {
        let v = set.and_then(|o| o.get(name)).unwrap_or(&spec.default);
        out.push_str(&format!("- option `{name}`: `{v}`\n"));
    }
    if let Some((_, by)) = c.locked.iter().find(|(r, _)| r == id) {
        out.push_str(&format!("- locked by {by}\n"));
    }
    // The deploy classification every rule reading `deploys` sees, when configured.
    let reads_jobs = p.needs.as_ref().is_none_or(|n| {
        n.get("ci")
            .is_some_and(|parts| parts.as_ref().is_none_or(|s| s.contains("jobs")))
    });
    if c.environments != crate::facts::ci::Environments::default() && reads_jobs {
        out.push_str(&format!(
            "- staging names: {}\n- production names: {}\n",
            c.environments.staging.join(", "),
            c.environments.production.join(", ")
        ));
    }
    out
}

fn test_policies(dir: Option<PathBuf>, rule: Option<String>) -> u8 {
    let args = PolicyArgs {
        no_builtin: dir.is_some(),
        policy: dir.into_iter().collect(),
    };
    let Ok(set) = load_policies(&args) else {
        return EXIT_ERROR;
    };
    if set.policies.is_empty() {
        let dirs: Vec<String> = args
            .policy
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        eprintln!("error: no policy files (*.yaml) in {}", dirs.join(", "));
        return EXIT_ERROR;
    }
    if let Some(r) = &rule
        && !set
            .policies
            .iter()
            .any(|p| p.meta.id.eq_ignore_ascii_case(r))
    {
        eprintln!("error: no policy {r} to test");
        return EXIT_ERROR;
    }
    let results = crate::policy_cases::run_cases(&set, rule.as_deref());
    let mut out = String::new();
    for p in &set.policies {
        let chosen = rule
            .as_ref()
            .is_none_or(|r| p.meta.id.eq_ignore_ascii_case(r));
        if chosen && p.tests.is_empty() {
            out.push_str(&format!(
                "WARN {} has no test cases ({})\n",
                p.meta.id, p.path
            ));
        }
    }
    let mut failed = 0;
    for r in &results {
        if r.passed() {
            out.push_str(&format!("PASS {} / {}\n", r.policy, r.case));
            continue;
        }
        failed += 1;
        out.push_str(&format!("FAIL {} / {}\n", r.policy, r.case));
        for m in &r.missing {
            out.push_str(&format!("  - expected, not found: {m}\n"));
        }
        for u in &r.unexpected {
            out.push_str(&format!("  + found, not expected: {u}\n"));
        }
        for e in &r.errors {
            out.push_str(&format!("  ! {e}\n"));
        }
    }
    out.push_str(&format!(
        "{} cases, {} passed, {failed} failed\n",
        results.len(),
        results.len() - failed
    ));
    let code = print_out(&out);
    if code != EXIT_OK {
        code
    } else if failed > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn print_out(s: &str) -> u8 {
    match write_stdout(s) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
    }
}

/// Writes all of `s` to standard output and flushes it. A reader that went away (`| head`)
/// is no error, as with other command-line tools; any other failure (a full disk, a closed
/// descriptor) is, so that a report is never lost silently.
fn write_stdout(s: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(s.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write to standard output: {e}")),
    }
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
