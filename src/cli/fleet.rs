//! `shipshape fleet`: parses its flags into [`crate::fleet::FleetOptions`], runs the fleet
//! with a progress indicator, writes the output directory, and chooses the exit status;
//! `shipshape fleet merge` combines shard outputs.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::{EXIT_ERROR, FailOn, PolicyArgs};
use crate::finding::Severity;
use crate::fleet::scorecard::{Repository, Scorecard};
use crate::fleet::{self, Checked, FleetOptions, render};
use crate::policy::meta::RuleMeta;
use crate::report;

/// Arguments of `fleet`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct FleetArgs {
    /// `merge`: combine shard outputs.
    #[command(subcommand)]
    pub merge: Option<FleetCommand>,
    /// Repositories: checkouts, bare repositories (mirrors), or directories whose
    /// subdirectories are repositories.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<PathBuf>,
    /// A manifest of repositories (YAML, or CSV by its `.csv` name): `name`, `path`, `ref`,
    /// `team`, `tags`, `url`.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// The output directory (scorecard.json/.html/.md/.csv, sarif/).
    #[arg(long, value_name = "DIR", required = true)]
    pub out: Option<PathBuf>,
    /// The ref read from bare repositories (default: HEAD).
    #[arg(long = "ref", value_name = "REF")]
    pub rev: Option<String>,
    /// Repositories checked at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Check only the I-th of N deterministic shards (1 ≤ I ≤ N), e.g. `--shard 2/4`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<fleet::sources::Shard>,
    /// Add what improved and what regressed since this older scorecard.json.
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// One configuration for every repository (e.g. an organisation's, with locked rules),
    /// instead of each repository's own.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use no configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Keep only these rules (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,
    /// Drop these rules (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,
    /// The least severity that makes the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Policy options.
    #[command(flatten)]
    pub policies: PolicyArgs,
}

/// Subcommands of `fleet`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum FleetCommand {
    /// Combine the output directories of shard runs into one scorecard.
    Merge {
        /// Shard output directories.
        #[arg(value_name = "DIR", required = true)]
        dirs: Vec<PathBuf>,
        /// The output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Add what improved and what regressed since this older scorecard.json.
        #[arg(long, value_name = "FILE")]
        compare: Option<PathBuf>,
        /// The least severity that makes the exit status 1.
        #[arg(long, value_enum, default_value_t = FailOn::Error)]
        fail_on: FailOn,
    },
}

/// Without a terminal, a progress line is written every this many repositories.
const PROGRESS_EVERY: usize = 100;

/// Runs `fleet`.
pub fn fleet(args: FleetArgs) -> u8 {
    if let Some(FleetCommand::Merge {
        dirs,
        out,
        compare,
        fail_on,
    }) = args.merge
    {
        let old = match compare.as_deref().map(fleet::read_scorecard).transpose() {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{e}");
                return EXIT_ERROR;
            }
        };
        return match fleet::merge(&dirs, &out) {
            Ok(s) => {
                if let Some(old) = &old
                    && let Err(e) = mark_sarif_dir(&out.join("sarif"), &s, old)
                {
                    eprintln!("error: {e}");
                    return EXIT_ERROR;
                }
                finish(s, &out, old.as_ref(), fail_on.threshold())
            }
            Err(e) => {
                eprintln!("{e}");
                EXIT_ERROR
            }
        };
    }
    let Some(out) = args.out.clone() else {
        eprintln!("error: --out DIR is required");
        return EXIT_ERROR;
    };
    let opts = FleetOptions {
        sources: args.sources,
        manifest: args.manifest,
        rev: args.rev,
        jobs: args.jobs,
        shard: args.shard,
        plan: crate::plan::PlanOptions {
            config: args.config,
            no_config: args.no_config,
            policy_dirs: args.policies.policy,
            no_builtin: args.policies.no_builtin,
            select: args.select,
            ignore: args.ignore,
            ..Default::default()
        },
    };
    // The older scorecard is read first: a wrong path is found before the fleet is checked.
    let old = match args
        .compare
        .as_deref()
        .map(fleet::read_scorecard)
        .transpose()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_ERROR;
        }
    };
    let old_rows: std::collections::BTreeMap<&str, &Repository> = old
        .iter()
        .flat_map(|o| &o.repositories)
        .map(|r| (r.name.as_str(), r))
        .collect();
    let specs = match fleet::select(&opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_ERROR;
        }
    };
    let sarif_dir = out.join("sarif");
    if let Err(e) = std::fs::create_dir_all(&sarif_dir) {
        eprintln!("error: cannot create {}: {e}", sarif_dir.display());
        return EXIT_ERROR;
    }
    // Progress on standard error: redrawn on a terminal, else a line every 100 repositories
    // (a CI log shows how far a long audit is).
    let show = if std::io::stderr().is_terminal() {
        crate::progress::Show::Redrawn
    } else {
        crate::progress::Show::Lines(PROGRESS_EVERY)
    };
    let write_errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let total = specs.len();
    let result = crate::progress::with_progress(
        std::io::stderr(),
        show,
        "repositories",
        total,
        Duration::ZERO,
        |finished| {
            let each = |c: &Checked, metas: &[RuleMeta]| {
                if let Some(r) = &c.report
                    && let Err(e) = write_sarif(
                        &sarif_dir,
                        &c.row.name,
                        r,
                        metas,
                        old.as_ref()
                            .map(|_| old_rows.get(c.row.name.as_str()).copied()),
                    )
                    && let Ok(mut w) = write_errors.lock()
                {
                    w.push(e);
                }
                finished();
            };
            fleet::run(&opts, specs, &each)
        },
    );
    let scorecard = match result {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_ERROR;
        }
    };
    let errors = write_errors.into_inner().unwrap_or_default();
    for e in &errors {
        eprintln!("error: {e}");
    }
    let status = finish(scorecard, &out, old.as_ref(), args.fail_on.threshold());
    if errors.is_empty() {
        status
    } else {
        EXIT_ERROR
    }
}

/// Adds the comparison with `old`, writes the output directory, prints a summary line and
/// returns the exit status.
fn finish(mut s: Scorecard, out: &Path, old: Option<&Scorecard>, t: Option<Severity>) -> u8 {
    if let Some(old) = old {
        s.compare_with(old);
    }
    if let Err(e) = render::write_all(&s, out) {
        eprintln!(
            "error: cannot write the scorecard into {}: {e}",
            out.display()
        );
        return EXIT_ERROR;
    }
    let sum = &s.summary;
    eprintln!(
        "{} repositories: {} passing, {} with findings, {} errored; {} findings; mean score {:.1}; scorecard in {}",
        sum.repositories,
        sum.passing,
        sum.repositories - sum.passing - sum.errored,
        sum.errored,
        sum.findings,
        sum.mean_score,
        out.join("scorecard.html").display()
    );
    for r in s.repositories.iter().filter(|r| r.error.is_some()) {
        eprintln!(
            "error: {}: {}",
            r.name,
            r.error.as_deref().unwrap_or_default()
        );
    }
    fleet::exit_status(&s, t)
}

/// Writes one repository's SARIF file, `sarif/<name>.sarif`, its own analysis category
/// (`shipshape-fleet/<name>/`).
/// With `--compare`, `old` is `Some` (the repository's row in the older scorecard, if it has
/// one) and each result gets its `baselineState`.
fn write_sarif(
    dir: &Path,
    name: &str,
    r: &crate::finding::RootReport,
    metas: &[RuleMeta],
    old: Option<Option<&Repository>>,
) -> Result<(), String> {
    let mut ctx = report::Context::new(metas, crate::VERSION);
    let category = format!("shipshape-fleet/{}", name);
    ctx.category = Some(&category);
    let mut value = report::sarif::render(std::slice::from_ref(r), &ctx)?;
    if let Some(old) = old {
        render::mark_baseline(&mut value, old);
    }
    let path = dir.join(format!("{}.sarif", fleet::sources::sarif_stem(name)));
    let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Marks the SARIF files a merge copied into `dir` against `old` (`fleet merge --compare`).
fn mark_sarif_dir(dir: &Path, merged: &Scorecard, old: &Scorecard) -> Result<(), String> {
    for r in &merged.repositories {
        let path = dir.join(format!("{}.sarif", fleet::sources::sarif_stem(&r.name)));
        let Ok(text) = std::fs::read_to_string(&path) else {
            // A repository that could not be checked has no SARIF file.
            continue;
        };
        let mut value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is no SARIF log: {e}", path.display()))?;
        let row = old.repositories.iter().find(|o| o.name == r.name);
        render::mark_baseline(&mut value, row);
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        std::fs::write(&path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
