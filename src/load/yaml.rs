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
        if is_template(text) && template_explains_failure(text, err.loc.line) {
            YamlFailure::Template(LoadError {
                message: format!("{rel} is a template ({{{{ ... }}}}), not YAML: skipped"),
                loc: err.loc,
                outside: false,
            })
        } else {
            YamlFailure::Invalid(err)
        }
    })
}

/// Whether `line` is a top-level mapping key `key` (`key:`, `"key":`, `'key' :`): the cheap
/// text test the content probes use before parsing a file they may not need.
pub fn is_top_level_key(line: &str, key: &str) -> bool {
    line.trim_start_matches(['"', '\''])
        .strip_prefix(key)
        .is_some_and(|r| {
            r.trim_start_matches(['"', '\''])
                .trim_start()
                .starts_with(':')
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

/// Whether a parse failure of a file holding template markers is due to the templating:
/// the text with every `{{ ... }}` neutralised (a line that is only a directive becomes blank,
/// any other marker becomes a same-length plain word) parses, or the error sits on a line
/// that holds a marker. A file whose YAML is broken elsewhere (a stray list item after the
/// last group of a rules file whose annotations say `{{ $labels.instance }}`) is invalid YAML,
/// not a template.
fn template_explains_failure(text: &str, error_line: u32) -> bool {
    let has_marker = |line: &str| is_template(line);
    let lines: Vec<&str> = text.lines().collect();
    let marked = |n: u32| n > 0 && lines.get(n as usize - 1).is_some_and(|l| has_marker(l));
    if marked(error_line) {
        return true;
    }
    let neutral = neutralise_templates(text);
    match serde_saphyr::from_str_multiple_with_options::<
        serde::de::IgnoredAny,
        Vec<serde::de::IgnoredAny>,
    >(&neutral, options())
    {
        Ok(_) => true,
        Err(e) => e
            .location()
            .is_some_and(|l| marked(u32::try_from(l.line()).unwrap_or(0))),
    }
}

/// The text with template markers neutralised, line structure kept: a line that holds only
/// directives (`{{- if .Values.x }}`, `{{ end }}`) becomes empty; every other `{{ ... }}`
/// becomes a run of `x` of the same length.
fn neutralise_templates(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let mut rest = body;
        let mut kept = String::with_capacity(body.len());
        let mut only_directives = true;
        while let Some(start) = rest.find("{{") {
            if start > 0 && rest.as_bytes()[start - 1] == b'$' {
                kept.push_str(&rest[..start + 2]);
                rest = &rest[start + 2..];
                only_directives = false;
                continue;
            }
            let Some(len) = rest[start..].find("}}") else {
                break;
            };
            if !rest[..start].trim().is_empty() {
                only_directives = false;
            }
            kept.push_str(&rest[..start]);
            kept.extend(std::iter::repeat_n('x', len + 2));
            rest = &rest[start + len + 2..];
        }
        if !rest.trim().is_empty() {
            only_directives = false;
        }
        kept.push_str(rest);
        if only_directives && is_template(body) {
            out.push_str(nl);
        } else {
            out.push_str(&kept);
            out.push_str(nl);
        }
    }
    out
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
                outside: false,
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
        assert!(is_top_level_key("services:", "services"));
        assert!(is_top_level_key("\"groups\" : []", "groups"));
        assert!(!is_top_level_key("  services:", "services"));
        assert!(!is_top_level_key("servicesX: 1", "services"));
    }

    #[test]
    fn broken_yaml_with_template_strings_is_invalid_not_a_template() {
        let text = "groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up == 0\n        annotations: {summary: \"down {{ $labels.instance }}\"}\n- \"/etc/prometheus/extra.yml\"\n";
        match check("alerts.yml", text) {
            Err(YamlFailure::Invalid(e)) => assert_eq!(e.loc.line, 7, "{e:?}"),
            other => panic!("expected invalid YAML, got {other:?}"),
        }
        let helm = "{{- if .Values.enabled }}\napiVersion: v1\nkind: X\nmetadata:\n  labels:\n    {{- include \"labels\" . | nindent 4 }}\nspec: {{ .Values.spec }}\n{{- end }}\n";
        assert!(matches!(
            check("t.yaml", helm),
            Err(YamlFailure::Template(_)) | Ok(())
        ));
        assert_eq!(
            neutralise_templates("a: {{ .x }}\n{{ end }}\nb: ${{ c }}\n"),
            "a: xxxxxxxx\n\nb: ${{ c }}\n"
        );
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
