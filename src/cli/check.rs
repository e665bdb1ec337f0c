//! `shipshape check`: builds the run's plan from the flags, runs it, writes every report asked
//! for (`--format`/`--output`, `--report`, `--sarif-dir`) and chooses the exit status.

use super::*;
use crate::finding::RootReport;

pub(super) fn check(args: CheckArgs) -> u8 {
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
    let show_progress = if !args.quiet && std::io::stderr().is_terminal() {
        crate::progress::Show::Redrawn
    } else {
        crate::progress::Show::Nothing
    };
    let outcome = crate::progress::with_progress(
        std::io::stderr(),
        show_progress,
        "roots",
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
    // A root that could not be checked left all its rules unchecked: the run cannot vouch
    // for it.
    if bad_roots > 0 {
        return EXIT_ERROR;
    }
    let threshold = args.fail_on.threshold();
    // Recording a baseline accepts today's findings: it does not fail the run.
    let threshold = threshold.filter(|_| args.write_baseline.is_none());
    match crate::filter::verdict(&reports, threshold) {
        crate::filter::Verdict::Pass => EXIT_OK,
        crate::filter::Verdict::Fail => EXIT_FINDINGS,
        crate::filter::Verdict::Unchecked => EXIT_ERROR,
    }
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
    // The run id's path components (one sanitiser for ids and file names), `-` between them.
    let stem = report::sarif::path_id(&path)
        .trim_end_matches('/')
        .replace('/', "-");
    let stem = stem.trim_matches(['-', '.']);
    if stem.is_empty() {
        "root".to_string()
    } else {
        stem.to_string()
    }
}
