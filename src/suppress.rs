//! Inline suppressions: `# shipshape: ignore[DF005,DF006] reason until=YYYY-MM-DD` on a
//! finding's line or the line above it, in YAML files and Dockerfiles (any `#` comment). A
//! suppression without a reason still suppresses but is reported; an expired one stops
//! suppressing and says so; one that suppresses nothing is reported as unused.

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Notification, Severity};
use crate::location::Location;
use crate::model::Suppression;

/// Parses the suppression comment of one line, if any; `today` (`YYYY-MM-DD`) decides whether
/// its `until=` date has passed.
pub fn parse_line(file: &str, line_no: u32, line: &str, today: &str) -> Option<Suppression> {
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
    let mut until = String::new();
    let mut words = Vec::new();
    for w in tail.split_whitespace() {
        match w.strip_prefix("until=") {
            Some(d) => until = d.to_string(),
            None => words.push(w),
        }
    }
    let until_valid = is_date(&until);
    let col = u32::try_from(line[..at].chars().count()).unwrap_or(0) + 1;
    Some(Suppression {
        rules,
        reason: words.join(" "),
        expired: until_valid && until.as_str() < today,
        until,
        until_valid,
        loc: Location::point(file, line_no, col),
    })
}

/// Every suppression comment of a file's text.
pub fn parse_text(file: &str, text: &str, today: &str) -> Vec<Suppression> {
    if !text.contains("shipshape:") {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| parse_line(file, u32::try_from(i + 1).unwrap_or(u32::MAX), l, today))
        .collect()
}

/// Whether `s` is a calendar date written `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Applies `suppressions` to findings given as (rule, file, line): returns, for each
/// finding, the justification of the suppression that silences it (`None`: not suppressed),
/// and notifications about suppressions that name a rule not loaded (`known` holds the IDs
/// that are), silence nothing, or name a rule an organisation config locked (`locked`: rule
/// and config path; such rules cannot be suppressed inline). An expired suppression silences
/// nothing (SS002 says it expired); SS002 findings themselves cannot be suppressed inline.
pub fn apply(
    findings: &[(String, String, u32)],
    suppressions: &[Suppression],
    known: &BTreeSet<String>,
    locked: &[(String, String)],
) -> (Vec<Option<String>>, Vec<Notification>) {
    let locked_by = |rule: &str| {
        locked
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(rule))
            .map(|(_, by)| by.as_str())
    };
    let mut at: BTreeMap<(&str, u32), Vec<usize>> = BTreeMap::new();
    for (i, s) in suppressions.iter().enumerate() {
        at.entry((s.loc.file.as_str(), s.loc.line))
            .or_default()
            .push(i);
        at.entry((s.loc.file.as_str(), s.loc.line.saturating_add(1)))
            .or_default()
            .push(i);
    }
    let mut used = vec![false; suppressions.len()];
    let suppressed = findings
        .iter()
        .map(|(rule, file, line)| {
            if rule == SELF_RULE || locked_by(rule).is_some() {
                return None;
            }
            let mut hit = None;
            for &i in at.get(&(file.as_str(), *line)).into_iter().flatten() {
                let s = &suppressions[i];
                if s.expired || !s.rules.iter().any(|r| r.eq_ignore_ascii_case(rule)) {
                    continue;
                }
                used[i] = true;
                hit.get_or_insert_with(|| s.reason.clone());
            }
            hit
        })
        .collect();
    let mut notes = Vec::new();
    for (s, used) in suppressions.iter().zip(used) {
        for rule in &s.rules {
            if let Some(by) = locked_by(rule) {
                notes.push(Notification {
                    level: Severity::Warning,
                    message: format!(
                        "{}: rule {rule} is locked by {by}: inline suppressions do not apply to it",
                        s.loc.file
                    ),
                    location: s.loc.clone(),
                });
            }
        }
        let unknown: Vec<&str> = s
            .rules
            .iter()
            .filter(|r| !known.contains(*r))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            notes.push(Notification {
                level: Severity::Warning,
                message: format!(
                    "{}: suppression names unknown rule {}; `shipshape rules` lists them",
                    s.loc.file,
                    unknown.join(",")
                ),
                location: s.loc.clone(),
            });
        } else if !used
            && !s.expired
            && !s.rules.is_empty()
            && !s.rules.iter().all(|r| locked_by(r).is_some())
        {
            notes.push(Notification {
                level: Severity::Note,
                message: format!(
                    "{}: unused suppression of {}: no such finding on this line or the next",
                    s.loc.file,
                    s.rules.join(",")
                ),
                location: s.loc.clone(),
            });
        }
    }
    (suppressed, notes)
}

/// The rule reporting suppression problems; its findings cannot be suppressed inline.
pub const SELF_RULE: &str = "SS002";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_reason_and_expiry() {
        let s = parse_line(
            "Dockerfile",
            3,
            "USER root # shipshape: ignore[df005, DF006] needs root for apt until=2099-01-01",
            "2026-11-26",
        )
        .expect("parses");
        assert_eq!(s.rules, vec!["DF005", "DF006"]);
        assert_eq!(s.reason, "needs root for apt");
        assert_eq!(s.until, "2099-01-01");
        assert!(s.until_valid && !s.expired);
        assert_eq!((s.loc.line, s.loc.col), (3, 13));
        assert!(parse_line("x", 1, "echo shipshape: ignore[DF005]", "2026-11-26").is_none());
        assert!(parse_line("x", 1, "# shipshape: ignore DF005", "2026-11-26").is_none());
        let old = parse_line(
            "x",
            1,
            "# shipshape: ignore[DF005] r until=2026-11-25",
            "2026-11-26",
        );
        assert!(old.is_some_and(|s| s.expired));
        let same_day = parse_line(
            "x",
            1,
            "# shipshape: ignore[DF005] r until=2026-11-26",
            "2026-11-26",
        );
        assert!(
            same_day.is_some_and(|s| !s.expired),
            "valid through its date"
        );
    }

    #[test]
    fn dates_are_checked_against_the_calendar() {
        for ok in ["2024-02-29", "2026-12-31", "2000-02-29"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-1-01",
            "tomorrow",
            "",
            "2026-04-31",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn same_line_line_above_expiry_unknown_and_unused() {
        let text = "# shipshape: ignore[DF005] root needed\nUSER root\nFROM node # shipshape: ignore[DF004]\n# shipshape: ignore[DF006] old until=2000-01-01\nFROM node:latest\n# shipshape: ignore[DF007] nothing here\n\n# shipshape: ignore[XX001] typo\n";
        let sups = parse_text("Dockerfile", text, "2026-11-26");
        assert_eq!(sups.len(), 5);
        let f = |r: &str, l: u32| (r.to_string(), "Dockerfile".to_string(), l);
        let known: BTreeSet<String> = ["DF001", "DF004", "DF005", "DF006", "DF007", "SS002"]
            .map(String::from)
            .into();
        let (sup, notes) = apply(
            &[
                f("DF005", 2),
                f("DF004", 3),
                f("DF006", 5),
                f("DF001", 2),
                f("DF005", 3),
                f("SS002", 3),
            ],
            &sups,
            &known,
            &[],
        );
        let flags: Vec<bool> = sup.iter().map(Option::is_some).collect();
        assert_eq!(flags, vec![true, true, false, false, false, false]);
        assert_eq!(sup[0].as_deref(), Some("root needed"));
        assert_eq!(sup[1].as_deref(), Some(""));
        let msgs: Vec<(Severity, u32, &str)> = notes
            .iter()
            .map(|n| (n.level, n.location.line, n.message.as_str()))
            .collect();
        assert_eq!(
            msgs,
            vec![
                (
                    Severity::Note,
                    6,
                    "Dockerfile: unused suppression of DF007: no such finding on this line or the next"
                ),
                (
                    Severity::Warning,
                    8,
                    "Dockerfile: suppression names unknown rule XX001; `shipshape rules` lists them"
                ),
            ]
        );
    }

    #[test]
    fn locked_rules_cannot_be_suppressed_inline() {
        let text = "# shipshape: ignore[DF005] the entrypoint drops privileges\nUSER root\n";
        let sups = parse_text("Dockerfile", text, "2026-11-26");
        let known: BTreeSet<String> = ["DF005"].map(String::from).into();
        let locked = [("DF005".to_string(), "org.yaml".to_string())];
        let (sup, notes) = apply(
            &[("DF005".to_string(), "Dockerfile".to_string(), 2)],
            &sups,
            &known,
            &locked,
        );
        assert_eq!(sup, vec![None]);
        let msgs: Vec<&str> = notes.iter().map(|n| n.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "Dockerfile: rule DF005 is locked by org.yaml: inline suppressions do not apply to it"
            ],
            "one warning, and not also an unused note"
        );
    }
}
