//! YAML reading shared by every YAML loader: one set of parser options (strict booleans,
//! budgets against alias bombs and deep nesting), errors mapped onto file positions, and the
//! rule for templated files (`{{ ... }}`) that are not YAML.

use serde::de::DeserializeOwned;

use crate::load::LoadError;
use crate::location::Location;

/// Parser options used for every input YAML file.
pub fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.strict_booleans = true;
    o
}

/// Outcome of reading a YAML input that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlFailure {
    /// Not valid YAML (or not of the expected shape): an SS001 finding.
    Invalid(LoadError),
    /// A template (`{{ ... }}` outside `${{ }}`) that is not valid YAML: skipped, with a note.
    Template(LoadError),
}

/// Parses every document of `text` as `T`.
pub fn parse_documents<T: DeserializeOwned>(rel: &str, text: &str) -> Result<Vec<T>, YamlFailure> {
    serde_saphyr::from_str_multiple_with_options::<T, Vec<T>>(text, options()).map_err(|e| {
        let err = to_load_error(rel, &e);
        if is_template(text) {
            YamlFailure::Template(LoadError {
                message: format!("{rel} is a template ({{{{ ... }}}}), not YAML: skipped"),
                loc: err.loc,
            })
        } else {
            YamlFailure::Invalid(err)
        }
    })
}

/// Checks that `text` is valid YAML (all documents), without building anything.
pub fn check(rel: &str, text: &str) -> Result<(), YamlFailure> {
    parse_documents::<serde::de::IgnoredAny>(rel, text).map(|_| ())
}

/// Whether the text holds template markers `{{` that are not GitHub's `${{`.
pub fn is_template(text: &str) -> bool {
    text.match_indices("{{")
        .any(|(i, _)| i == 0 || text.as_bytes().get(i - 1) != Some(&b'$'))
}

/// Maps a parser error onto the file, keeping its position when the parser knows one.
pub fn to_load_error(rel: &str, e: &serde_saphyr::Error) -> LoadError {
    let first_line = e
        .to_string()
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    match e.location() {
        Some(l) if l.line() > 0 => {
            let line = u32::try_from(l.line()).unwrap_or(1);
            let col = u32::try_from(l.column()).unwrap_or(1).max(1);
            LoadError {
                message: format!("{rel}: invalid YAML: {first_line}"),
                loc: Location::point(rel, line, col),
            }
        }
        _ => LoadError::at_file(rel, format!("{rel}: invalid YAML: {first_line}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_positions_and_templates() {
        let err = check(
            "ci.yml",
            "on:\n  pull_request:\n    branches: [main, x\n\njobs: {}\n",
        );
        match err {
            Err(YamlFailure::Invalid(e)) => assert!(e.loc.line >= 3, "{e:?}"),
            other => panic!("expected invalid, got {other:?}"),
        }
        assert!(check("ok.yml", "a: 1\n---\nb: [1, 2]\n").is_ok());
        let tpl = "groups:\n{{ range .Values.x }}\n  - a\n{{ end }}\n";
        assert!(matches!(check("t.yml", tpl), Err(YamlFailure::Template(_))));
        assert!(!is_template("run: echo ${{ github.sha }}"));
    }

    #[test]
    fn alias_bombs_and_deep_nesting_fail_cleanly() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(check("bomb.yml", &bomb).is_err());
        let deep = "[".repeat(100_000);
        assert!(check("deep.yml", &deep).is_err());
    }
}
