//! The command line: clap definitions and the `run` function that maps a parsed command to
//! output and an exit status (0 clean, 1 findings at or above `--fail-on`, 2 usage error).
//! Parsing the CLI does no I/O.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::finding::{RootReport, Severity};
use crate::policy::PolicySet;
use crate::{VERSION, report};

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
            let cfg_path = match config.map_or_else(
                || crate::config::discover(std::path::Path::new(".")),
                |c| Ok(Some(c)),
            ) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{:?}", miette::Report::new(*e));
                    return EXIT_ERROR;
                }
            };
            let chain = match cfg_path.map(|p| crate::config::read(&p)).transpose() {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{:?}", miette::Report::new(*e));
                    return EXIT_ERROR;
                }
            };
            let mut policies = policies;
            for d in chain.iter().flat_map(|c| c.policy_dirs()) {
                if !policies.policy.contains(&d) {
                    policies.policy.push(d);
                }
            }
            let Ok(set) = load_policies(&policies) else {
                return EXIT_ERROR;
            };
            let cfg = match chain.map(|c| crate::config::validate(&c, &set)).transpose() {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{:?}", miette::Report::new(*e));
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

/// `shipshape model`: loads a root as `check` does (its configuration's environment names
/// classify deploy jobs) and prints the model, or a query's value.
fn model(args: ModelArgs) -> u8 {
    let root = args.path.unwrap_or_else(|| PathBuf::from("."));
    let cfg_path = if args.no_config {
        Ok(None)
    } else {
        args.config
            .map_or_else(|| crate::config::discover(&root), |c| Ok(Some(c)))
    };
    let chain = match cfg_path.and_then(|p| p.map(|p| crate::config::read(&p)).transpose()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(*e));
            return EXIT_ERROR;
        }
    };
    let mut policies = args.policies;
    for d in chain.iter().flat_map(|c| c.policy_dirs()) {
        if !policies.policy.contains(&d) {
            policies.policy.push(d);
        }
    }
    let Ok(set) = load_policies(&policies) else {
        return EXIT_ERROR;
    };
    let cfg = match chain.map(|c| crate::config::validate(&c, &set)).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(*e));
            return EXIT_ERROR;
        }
    };
    let loaded = match crate::load_root(
        &root,
        &root.display().to_string(),
        &cfg.environments,
        &cfg.definitions,
    ) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    // The whole model is written straight from its types, fields in declaration order.
    let text = match &args.query {
        None => match args.format {
            ModelFormat::Json => {
                serde_json::to_string_pretty(&loaded.repo).map_err(|e| e.to_string())
            }
            ModelFormat::Yaml => serde_saphyr::to_string(&loaded.repo).map_err(|e| e.to_string()),
        },
        Some(q) => {
            let repo = match crate::policy::val::from_model(&loaded.repo) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_ERROR;
                }
            };
            let v = match set.query(q, &*repo, &cfg.definitions) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("{:?}", miette::Report::new(*e));
                    return EXIT_ERROR;
                }
            };
            match args.format {
                ModelFormat::Json => serde_json::to_string_pretty(&v).map_err(|e| e.to_string()),
                ModelFormat::Yaml => serde_saphyr::to_string(&v).map_err(|e| e.to_string()),
            }
        }
    };
    let text = text.map(|mut t| {
        if !t.ends_with('\n') {
            t.push('\n');
        }
        t
    });
    match text {
        Ok(t) => print_out(&t),
        Err(e) => {
            eprintln!("error: cannot write the model: {e}");
            EXIT_ERROR
        }
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

fn check(args: CheckArgs) -> u8 {
    let options = crate::plan::PlanOptions {
        paths: args.paths.clone(),
        config: args.config.clone(),
        no_config: args.no_config,
        policy_dirs: args.policies.policy.clone(),
        no_builtin: args.policies.no_builtin,
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        show_suppressed: args.show_suppressed,
        baseline: args.baseline.clone(),
        repo_root: args.repo_root.clone(),
    };
    let plan = match crate::plan::Plan::new(&options) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_ERROR;
        }
    };
    // Progress on standard error, only when it is a terminal (see `progress`).
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let outcome = crate::progress::with_progress(
        std::io::stderr(),
        show_progress,
        plan.roots().len(),
        crate::progress::DELAY,
        |finished| plan.run(finished),
    );
    // A root that cannot be checked is named and fails the run (exit 2), but the other
    // roots are still reported.
    for e in &outcome.root_errors {
        eprintln!("error: {e}");
    }
    let bad_roots = outcome.root_errors.len();
    let reports = outcome.reports;
    if reports.is_empty() {
        return EXIT_ERROR;
    }
    if let (Some(path), stale @ 1..) = (plan.baseline_path(), outcome.stale_baseline)
        && !args.quiet
    {
        eprintln!(
            "note: {stale} finding(s) of baseline {} no longer occur (fixed or changed); \
             --write-baseline refreshes it",
            path.display()
        );
    }
    if let Some(path) = &args.write_baseline {
        let text = crate::baseline::render(&reports);
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write baseline {}: {e}", path.display());
            return EXIT_ERROR;
        }
    }
    let metas = plan.metas();
    let mut specs = args.reports.clone();
    let format = if args.concise {
        Some(Format::Concise)
    } else {
        args.format
    };
    if format.is_some() || args.output.is_some() || specs.is_empty() {
        specs.insert(
            0,
            ReportSpec {
                format: format.unwrap_or(Format::Human),
                path: args.output.clone(),
            },
        );
    }
    if specs.iter().filter(|s| s.path.is_none()).count() > 1 {
        eprintln!(
            "error: more than one report would go to standard output; give all but one a file \
             (--report FORMAT=FILE)"
        );
        return EXIT_ERROR;
    }
    let mut ctx = report::Context::new(&metas, VERSION);
    ctx.category = args.category.as_deref();
    ctx.sarif_single_run = args.sarif_single_run;
    ctx.quiet = args.quiet;
    ctx.statistics = args.statistics;
    let mut write_failed = false;
    for spec in &specs {
        ctx.color = matches!(spec.format, Format::Human | Format::Concise)
            && match spec.path {
                // A file is coloured only when asked to.
                Some(_) => args.color == ColorChoice::Always,
                None => use_color(
                    args.color,
                    std::io::stdout().is_terminal(),
                    &ColorEnv::from_env(),
                ),
            };
        let text = match render(spec.format, &reports, &ctx) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        };
        let written = match &spec.path {
            Some(path) => write_report_file(path, &text),
            None => write_stdout(&text),
        };
        if let Err(e) = written {
            eprintln!("error: {e}");
            write_failed = true;
        }
    }
    if let Some(Err(e)) = args
        .sarif_dir
        .as_ref()
        .map(|dir| write_sarif_dir(dir, &reports, &ctx))
    {
        eprintln!("error: {e}");
        write_failed = true;
    }
    if write_failed {
        return EXIT_ERROR;
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Note => Some(Severity::Note),
        FailOn::Never => None,
    };
    // A policy that failed to evaluate left its rule unchecked, and a root that could not be
    // checked left all of them: the run cannot vouch for it.
    if bad_roots > 0 || reports.iter().any(|r| r.policy_failures > 0) {
        return EXIT_ERROR;
    }
    // Recording a baseline accepts today's findings: it does not fail the run.
    let threshold = threshold.filter(|_| args.write_baseline.is_none());
    let failing = threshold.is_some_and(|t| {
        reports
            .iter()
            .flat_map(|r| &r.findings)
            .any(|f| f.severity >= t)
    });
    if failing { EXIT_FINDINGS } else { EXIT_OK }
}

/// Renders one report of `reports` in `format`.
fn render(
    format: Format,
    reports: &[RootReport],
    ctx: &report::Context<'_>,
) -> Result<String, String> {
    Ok(match format {
        Format::Human | Format::Concise => {
            let summary = report::summarize(reports);
            if ctx.quiet
                && summary.findings() == 0
                && reports.iter().all(|r| r.notifications.is_empty())
            {
                String::new()
            } else if format == Format::Concise {
                report::concise::render(reports, ctx)
            } else {
                report::human::render(reports, ctx)
            }
        }
        Format::Sarif if ctx.sarif_single_run => {
            pretty(&report::sarif::render_single_run(reports, ctx)?)
        }
        Format::Sarif => pretty(&report::sarif::render(reports, ctx)?),
        Format::Json => pretty(&report::json::render(reports, ctx.version)),
        Format::Github => report::github::render(reports, ctx),
        Format::Markdown => report::markdown::render(reports, ctx),
        Format::Gitlab => pretty(&report::gitlab::render(reports, ctx)),
        Format::Junit => report::junit::render(reports, ctx),
    })
}

/// Writes a report to `path`. GitHub's job summary file (`$GITHUB_STEP_SUMMARY`) is shared
/// by the step's commands, so a report written there is appended, as GitHub asks; any other
/// file is replaced.
fn write_report_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    let summary = std::env::var_os("GITHUB_STEP_SUMMARY");
    let result = if summary.is_some_and(|s| !s.is_empty() && std::path::Path::new(&s) == path) {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
    } else {
        std::fs::write(path, text.as_bytes())
    };
    result.map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes one SARIF file per root into `dir` (created when missing), each named after the
/// root's run id (`services/api` → `services-api.sarif`, the repository root →
/// `<directory name>.sarif`).
fn write_sarif_dir(
    dir: &std::path::Path,
    reports: &[RootReport],
    ctx: &report::Context<'_>,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let ids = report::sarif::run_ids(reports, ctx.category);
    let mut names = std::collections::BTreeSet::new();
    for (r, id) in reports.iter().zip(&ids) {
        let mut one = *ctx;
        // Each file is its own upload: its run keeps the id it has among all roots.
        one.category = Some(id.as_str());
        let text = pretty(&report::sarif::render(std::slice::from_ref(r), &one)?);
        let stem = sarif_file_stem(r);
        let mut name = format!("{stem}.sarif");
        let mut n = 1;
        while !names.insert(name.clone()) {
            n += 1;
            name = format!("{stem}-{n}.sarif");
        }
        let path = dir.join(&name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The file name (without `.sarif`) of a root's SARIF file: its path in the repository with
/// `-` for `/`, or the repository directory's name for a repository root.
fn sarif_file_stem(r: &RootReport) -> String {
    let path = if r.repo_dir.is_empty() {
        r.repo_root
            .as_deref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "root".to_string())
    } else {
        r.repo_dir.clone()
    };
    let stem: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches(['-', '.']).to_string();
    if stem.is_empty() {
        "root".to_string()
    } else {
        stem
    }
}

/// The colour-related environment variables, as read by [`use_color`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColorEnv {
    /// `NO_COLOR`: any non-empty value disables colour.
    pub no_color: Option<String>,
    /// `CLICOLOR_FORCE`: any non-empty value but `0` forces colour.
    pub clicolor_force: Option<String>,
    /// `TERM`: `dumb` disables colour.
    pub term: Option<String>,
}

impl ColorEnv {
    /// The variables of this process's environment (values that are not Unicode count as set
    /// and non-empty).
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var_os(name).map(|v| v.into_string().unwrap_or_else(|_| "?".to_string()))
        };
        ColorEnv {
            no_color: var("NO_COLOR"),
            clicolor_force: var("CLICOLOR_FORCE"),
            term: var("TERM"),
        }
    }
}

/// Whether human (and concise) output on standard output is coloured: `--color always` or
/// `never` win over everything; otherwise (auto), by the usual conventions in this order:
/// a non-empty `NO_COLOR` disables, a non-empty `CLICOLOR_FORCE` other than `0` forces,
/// `TERM=dumb` disables, and else colour is used exactly when writing to a terminal.
pub fn use_color(choice: ColorChoice, to_terminal: bool, env: &ColorEnv) -> bool {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set(&env.no_color) => false,
        ColorChoice::Auto
            if set(&env.clicolor_force) && env.clicolor_force.as_deref() != Some("0") =>
        {
            true
        }
        ColorChoice::Auto if env.term.as_deref() == Some("dumb") => false,
        ColorChoice::Auto => to_terminal,
    }
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_choice_then_the_environment_then_the_terminal() {
        let env = |no_color: Option<&str>, force: Option<&str>, term: Option<&str>| ColorEnv {
            no_color: no_color.map(str::to_string),
            clicolor_force: force.map(str::to_string),
            term: term.map(str::to_string),
        };
        let plain = env(None, None, Some("xterm-256color"));
        let auto = ColorChoice::Auto;
        // Auto: a terminal, and nothing else.
        assert!(use_color(auto, true, &plain));
        assert!(!use_color(auto, false, &plain));
        assert!(use_color(auto, true, &ColorEnv::default()));
        // NO_COLOR: any non-empty value disables, even with CLICOLOR_FORCE; empty is unset.
        assert!(!use_color(auto, true, &env(Some("1"), None, None)));
        assert!(!use_color(auto, true, &env(Some("0"), Some("1"), None)));
        assert!(use_color(auto, true, &env(Some(""), None, None)));
        // CLICOLOR_FORCE: non-empty and not 0 forces, also to a pipe and a dumb terminal.
        assert!(use_color(auto, false, &env(None, Some("1"), None)));
        assert!(use_color(
            auto,
            false,
            &env(Some(""), Some("yes"), Some("dumb"))
        ));
        assert!(!use_color(auto, false, &env(None, Some("0"), None)));
        assert!(!use_color(auto, false, &env(None, Some(""), None)));
        // TERM=dumb disables on a terminal.
        assert!(!use_color(auto, true, &env(None, None, Some("dumb"))));
        assert!(!use_color(auto, true, &env(None, Some("0"), Some("dumb"))));
        // --color always/never win over everything.
        for e in [
            plain.clone(),
            env(Some("1"), None, Some("dumb")),
            env(None, Some("1"), None),
        ] {
            for terminal in [false, true] {
                assert!(use_color(ColorChoice::Always, terminal, &e));
                assert!(!use_color(ColorChoice::Never, terminal, &e));
            }
        }
    }
}
