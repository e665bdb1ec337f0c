//! `shipshape model`: the model policies see for a root, as JSON or YAML, or the value of a
//! CEL expression over it.

use super::*;

/// `shipshape model`: loads a root as `check` does (its configuration's environment names
/// classify deploy jobs) and prints the model, or a query's value.
pub(super) fn model(args: ModelArgs) -> u8 {
    let root = args.path.unwrap_or_else(|| PathBuf::from("."));
    let cfg_path = match crate::plan::config_path(args.config.as_deref(), args.no_config, &root) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_ERROR;
        }
    };
    let (set, cfg) = match crate::plan::configured(
        cfg_path.as_deref(),
        &args.policies.policy,
        args.policies.no_builtin,
    ) {
        Ok((set, cfg)) => (set, cfg.unwrap_or_default()),
        Err(e) => {
            eprintln!("{e}");
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
