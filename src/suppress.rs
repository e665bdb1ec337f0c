//! Inline suppressions: `# shipshape: ignore[DF005,DF006] reason until=YYYY-MM-DD` on a
//! finding's line or the line above it, in YAML files and Dockerfiles (any `#` comment). A
//! suppression without a reason still suppresses but is reported; an expired one stops
//! suppressing and says so; one that suppresses nothing is reported as unused.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::finding::{Notification, Severity};
use crate::location::Location;

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Rule IDs it names.
    pub rules: Vec<String>,
    /// The reason written after the IDs (without `until=`).
    pub reason: String,
    /// `until=` date (`YYYY-MM-DD`), when given.
    pub until: Option<String>,
    /// Where the comment is.
    pub loc: Location,
}

/// Parses the suppression comment of one line, if any.
pub fn parse_line(file: &str, line_no: u32, line: &str) -> Option<Suppression> {
    let at = line.find("shipshape:")?;
    if !line[..at].contains('#') {
        return None;
    }
    let rest = line[at + "shipshape:".len()..].trim_start();
    let rest = rest.strip_prefix("ignore[")?;
    let (ids, tail) = rest.split_once(']')?;
    let rules: Vec<String> = ids
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    let mut until = None;
    let mut words = Vec::new();
    for w in tail.split_whitespace() {
        match w.strip_prefix("until=") {
            Some(d) => until = Some(d.to_string()),
            None => words.push(w),
        }
    }
    let col = u32::try_from(line[..at].chars().count()).unwrap_or(0) + 1;
    Some(Suppression {
        rules,
        reason: words.join(" "),
        until,
        loc: Location::point(file, line_no, col),
    })
}

/// Today's date as `YYYY-MM-DD` (UTC), from the system clock.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Applies the suppressions found in `sources` to findings given as (rule, file, line):
/// returns, for each finding, the justification of the suppression that silences it (`None`:
/// not suppressed), and notifications about the suppressions themselves.
pub fn apply(
    findings: &[(String, String, u32)],
    sources: &BTreeMap<String, Arc<str>>,
    today: &str,
) -> (Vec<Option<String>>, Vec<Notification>) {
    let mut by_file: BTreeMap<&str, Vec<(Suppression, bool)>> = BTreeMap::new();
    for (file, _, _) in findings.iter().map(|(_, f, l)| (f.as_str(), (), l)) {
        if by_file.contains_key(file) {
            continue;
        }
        let list = sources
            .get(file)
            .map(|text| {
                text.lines()
                    .enumerate()
                    .filter_map(|(i, l)| {
                        parse_line(file, u32::try_from(i + 1).unwrap_or(u32::MAX), l)
                    })
                    .map(|s| (s, false))
                    .collect()
            })
            .unwrap_or_default();
        by_file.insert(file, list);
    }
    let mut notes = Vec::new();
    let mut suppressed = Vec::with_capacity(findings.len());
    for (rule, file, line) in findings {
        let mut hit: Option<String> = None;
        if let Some(list) = by_file.get_mut(file.as_str()) {
            for (s, used) in list.iter_mut() {
                let near = s.loc.line == *line || s.loc.line + 1 == *line;
                if !near || !s.rules.iter().any(|r| r.eq_ignore_ascii_case(rule)) {
                    continue;
                }
                let expired = s.until.as_deref().is_some_and(|u| u < today);
                *used = true;
                if !expired {
                    hit = Some(s.reason.clone());
                }
            }
        }
        suppressed.push(hit);
    }
    for list in by_file.values() {
        for (s, used) in list {
            let ids = s.rules.join(",");
            if let Some(u) = s.until.as_deref().filter(|u| *u < today) {
                notes.push(Notification {
                    level: Severity::Warning,
                    message: format!(
                        "{}: suppression of {ids} expired on {u}; it no longer applies",
                        s.loc.file
                    ),
                    location: s.loc.clone(),
                });
            } else if !used {
                notes.push(Notification {
                    level: Severity::Note,
                    message: format!(
                        "{}: unused suppression of {ids}: nothing is reported here",
                        s.loc.file
                    ),
                    location: s.loc.clone(),
                });
            } else if s.reason.is_empty() {
                notes.push(Notification {
                    level: Severity::Warning,
                    message: format!("{}: suppression of {ids} gives no reason", s.loc.file),
                    location: s.loc.clone(),
                });
            }
        }
    }
    (suppressed, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_reason_and_expiry() {
        let s = parse_line(
            "Dockerfile",
            3,
            "USER root # shipshape: ignore[df005, DF006] needs root for apt until=2099-01-01",
        )
        .expect("parses");
        assert_eq!(s.rules, vec!["DF005", "DF006"]);
        assert_eq!(s.reason, "needs root for apt");
        assert_eq!(s.until.as_deref(), Some("2099-01-01"));
        assert!(parse_line("x", 1, "echo shipshape: ignore[DF005]").is_none());
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn same_line_line_above_expiry_and_unused() {
        let text = "# shipshape: ignore[DF005] root needed\nUSER root\nFROM node # shipshape: ignore[DF004]\n# shipshape: ignore[DF006] old until=2000-01-01\nFROM node:latest\n# shipshape: ignore[DF007] nothing here\n";
        let mut sources = BTreeMap::new();
        sources.insert("Dockerfile".to_string(), Arc::<str>::from(text));
        let f = |r: &str, l: u32| (r.to_string(), "Dockerfile".to_string(), l);
        let (sup, notes) = apply(
            &[f("DF005", 2), f("DF004", 3), f("DF006", 5), f("DF001", 2)],
            &sources,
            "2026-11-26",
        );
        let flags: Vec<bool> = sup.iter().map(Option::is_some).collect();
        assert_eq!(flags, vec![true, true, false, false]);
        assert_eq!(sup[0].as_deref(), Some("root needed"));
        let msgs: Vec<&str> = notes.iter().map(|n| n.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("DF004 gives no reason")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("expired on 2000-01-01")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("unused suppression of DF007")),
            "{msgs:?}"
        );
    }
}
