//! JUnit XML report for CI test report views (GitLab `artifacts:reports:junit`, Jenkins):
//! every rule is a test case of every root's test suite, failed when the rule has findings
//! there.
//!
//! This module owns XML escaping: markup characters become references and characters XML 1.0
//! does not allow are removed.

use std::fmt::Write as _;

use crate::finding::{Finding, RootReport};

use super::{Context, repo_path};

/// Renders `reports` as a JUnit XML document: a `<testsuites>` element holding one
/// `<testsuite>` per root (named after the root), holding one `<testcase>` per rule of
/// `ctx.rules` (classname: the root, or `shipshape` for `.`; name: `RULE title`; skipped when
/// the root's selection left the rule unchecked), plus one
/// per rule with findings that `ctx.rules` does not know. A rule with findings in the root
/// has a `<failure type="RULE">` whose text lists them as `path:line:col: message`, paths
/// relative to the repository root. The root's tool notifications are its suite's
/// `<system-err>`.
pub fn render(reports: &[RootReport], ctx: &Context<'_>) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures) = (0, 0);
    for report in reports {
        let (t, f) = suite(&mut suites, report, ctx);
        tests += t;
        failures += f;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"shipshape\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n\
         {suites}</testsuites>\n"
    )
}

/// Appends the `<testsuite>` of `report` to `out`; returns its test and failure counts.
fn suite(out: &mut String, report: &RootReport, ctx: &Context<'_>) -> (usize, usize) {
    let mut ids: Vec<&str> = ctx.rules.iter().map(|r| r.id.as_str()).collect();
    for f in &report.findings {
        if !ids.contains(&f.rule.as_str()) {
            ids.push(&f.rule);
        }
    }
    // The default root `.` says nothing as a class name.
    let classname = match report.root.as_str() {
        "" | "." | "./" => "shipshape",
        root => root,
    };
    let mut cases = String::new();
    let mut failures = 0;
    let mut skipped = 0;
    for id in &ids {
        let name = match ctx.rule(id) {
            Some(rule) => format!("{id} {}", rule.title),
            None => (*id).to_string(),
        };
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.rule == *id).collect();
        let _ = write!(
            cases,
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(classname),
            escape(&name)
        );
        if findings.is_empty() {
            if report.unchecked_rules.contains(*id) {
                skipped += 1;
                cases.push_str(">\n      <skipped message=\"not selected\"/>\n    </testcase>\n");
            } else {
                cases.push_str("/>\n");
            }
            continue;
        }
        failures += 1;
        let mut text = String::new();
        for f in &findings {
            let loc = &f.location;
            let _ = writeln!(
                text,
                "{}:{}:{}: {}",
                repo_path(report, &loc.file),
                loc.line,
                loc.col,
                f.message
            );
        }
        let count = findings.len();
        let _ = write!(
            cases,
            ">\n      <failure message=\"{count} finding{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
            if count == 1 { "" } else { "s" },
            escape(id),
            escape_text(&text)
        );
    }
    let _ = write!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n{cases}",
        escape(&report.root),
        ids.len()
    );
    if !report.notifications.is_empty() {
        let mut text = String::new();
        for n in &report.notifications {
            let _ = writeln!(
                text,
                "{}: {}:{}: {}",
                n.level,
                repo_path(report, &n.location.file),
                n.location.line,
                n.message
            );
        }
        let _ = writeln!(out, "    <system-err>{}</system-err>", escape_text(&text));
    }
    out.push_str("  </testsuite>\n");
    (ids.len(), failures)
}

/// `text` escaped for character data: as [`escape`], but tabs and line feeds kept as they
/// are (a carriage return is still a reference, which parsers would otherwise turn into a
/// line feed).
pub fn escape_text(text: &str) -> String {
    escape_with(text, false)
}

/// `text` escaped for an attribute value (or character data): `&`, `<`, `>`, `"` and `'` as
/// entity references, tab, line feed and carriage return as character references (so that
/// attribute values keep them), and characters XML 1.0 does not allow (other C0 controls,
/// U+FFFE, U+FFFF) removed.
pub fn escape(text: &str) -> String {
    escape_with(text, true)
}

/// [`escape`], or [`escape_text`] without `attribute`.
fn escape_with(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' | '\n' if !attribute => out.push(c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if allowed(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whether XML 1.0 allows `c` in a document (`Char` of the specification).
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil;

    /// Checks that `xml` is a well-formed XML 1.0 document of the kind [`render`] writes (a
    /// declaration, then elements, attributes in double quotes, character data and the five
    /// entities or character references); returns the names of the elements in document
    /// order, or what is wrong.
    fn well_formed(xml: &str) -> Result<Vec<String>, String> {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .ok_or("no XML declaration")?;
        let mut stack: Vec<String> = Vec::new();
        let mut names = Vec::new();
        let mut rest = body;
        let mut roots = 0;
        let check_text = |t: &str| -> Result<(), String> {
            if let Some(c) = t.chars().find(|c| !allowed(*c) || *c == '<') {
                return Err(format!("character {c:?} in {t:?}"));
            }
            let mut parts = t.split('&');
            parts.next();
            for p in parts {
                let (entity, _) = p
                    .split_once(';')
                    .ok_or(format!("unterminated & in {t:?}"))?;
                let ok = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
                    || entity
                        .strip_prefix('#')
                        .and_then(|n| n.parse::<u32>().ok())
                        .and_then(char::from_u32)
                        .is_some_and(allowed);
                if !ok {
                    return Err(format!("bad reference &{entity};"));
                }
            }
            Ok(())
        };
        while !rest.is_empty() {
            let Some(open) = rest.find('<') else {
                if !rest.trim().is_empty() {
                    return Err(format!("text after the root: {rest:?}"));
                }
                break;
            };
            let text = &rest[..open];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside the root: {text:?}"));
            }
            check_text(text)?;
            rest = &rest[open + 1..];
            let mut end = None;
            let mut quoted = false;
            for (i, c) in rest.char_indices() {
                match c {
                    '"' => quoted = !quoted,
                    '>' if !quoted => {
                        end = Some(i);
                        break;
                    }
                    '<' => return Err("`<` inside a tag".to_string()),
                    _ => {}
                }
            }
            let end = end.ok_or("unterminated tag")?;
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let top = stack.pop().ok_or("close without open")?;
                if top != name {
                    return Err(format!("</{name}> closes <{top}>"));
                }
                continue;
            }
            let (tag, empty) = match tag.strip_suffix('/') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!("bad element name {name:?}"));
            }
            let mut seen = Vec::new();
            while !attrs.trim().is_empty() {
                let (key, after) = attrs
                    .trim_start()
                    .split_once("=\"")
                    .ok_or("bad attribute")?;
                let (value, after) = after.split_once('"').ok_or("unterminated attribute")?;
                if seen.contains(&key) {
                    return Err(format!("duplicate attribute {key}"));
                }
                seen.push(key);
                check_text(value)?;
                attrs = after;
            }
            if stack.is_empty() {
                roots += 1;
            }
            names.push(name.to_string());
            if !empty {
                stack.push(name.to_string());
            }
        }
        if !stack.is_empty() {
            return Err(format!("unclosed {stack:?}"));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(names)
    }

    fn render_all(reports: &[RootReport]) -> String {
        let rules = testutil::rules();
        render(reports, &Context::new(&rules, "0.1.0"))
    }

    #[test]
    fn matches_snapshot() {
        let mut api = testutil::report("services/api");
        api.repo_dir = "services/api".to_string();
        let mut web = testutil::report("services/web");
        web.repo_dir = "services/web".to_string();
        web.findings.truncate(1);
        web.notifications.clear();
        insta::assert_snapshot!(render_all(&[api, web]));
    }

    /// Rules the selection left unchecked are skipped cases, not passing ones.
    #[test]
    fn unselected_rules_are_skipped() {
        let mut report = testutil::report(".");
        report.unchecked_rules.insert("DF001".to_string());
        let out = render_all(&[report]);
        assert!(well_formed(&out).is_ok(), "{out}");
        assert!(
            out.contains(
                "<testcase classname=\"shipshape\" name=\"DF001 uses a supported base image\">\n      <skipped message=\"not selected\"/>"
            ),
            "{out}"
        );
        assert!(out.contains("skipped=\"1\""), "{out}");
        assert_eq!(out.matches("<skipped").count(), 1);
    }

    #[test]
    fn output_is_well_formed_even_with_hostile_text() {
        let mut report = testutil::report("<root> & \"co\"");
        report.findings[0].message = "a < b && c > 'd' \u{1}\u{b}\u{1b}]]> \u{fffe}é\r\n".into();
        report.findings[1].rule = "X\"<".to_string();
        report.notifications[0].message = "</system-err>\u{0}".to_string();
        let out = render_all(&[report]);
        let names = well_formed(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
        assert_eq!(names[0], "testsuites");
        assert_eq!(names.iter().filter(|n| *n == "testcase").count(), 4);
        assert_eq!(names.iter().filter(|n| *n == "failure").count(), 2);
        assert!(
            out.contains("a &lt; b &amp;&amp; c &gt; &apos;d&apos; ]]&gt; é&#13;\n"),
            "{out}"
        );
        assert!(
            out.contains("testsuite name=\"&lt;root&gt; &amp; &quot;co&quot;\""),
            "{out}"
        );
        assert!(!out.contains('\u{1}') && !out.contains('\u{0}') && !out.contains('\u{fffe}'));
    }

    #[test]
    fn attributes_keep_whitespace_as_references() {
        assert_eq!(escape("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
        assert_eq!(escape_text("a\tb\nc\rd"), "a\tb\nc&#13;d");
        assert_eq!(escape("\u{7}x\u{ffff}"), "x");
    }

    #[test]
    fn the_checker_rejects_broken_documents() {
        let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        assert!(well_formed(&format!("{decl}<a><b></a></b>")).is_err());
        assert!(well_formed(&format!("{decl}<a x=\"1 < 2\"/>")).is_err());
        assert!(well_formed(&format!("{decl}<a>&nope;</a>")).is_err());
        assert!(well_formed(&format!("{decl}<a>\u{1}</a>")).is_err());
        assert!(well_formed(&format!("{decl}<a/><b/>")).is_err());
        assert!(well_formed(&format!("{decl}<a>")).is_err());
        assert_eq!(
            well_formed(&format!("{decl}<a x=\"&amp;\"><b/>t&#10;</a>\n")),
            Ok(vec!["a".to_string(), "b".to_string()])
        );
    }

    #[test]
    fn counts_tests_and_failures() {
        let out = render_all(&[testutil::report("."), testutil::report("other")]);
        assert!(
            out.contains("<testsuites name=\"shipshape\" tests=\"6\" failures=\"4\" errors=\"0\">"),
            "{out}"
        );
        assert!(
            out.contains(
                "<testsuite name=\".\" tests=\"3\" failures=\"2\" errors=\"0\" skipped=\"0\">"
            ),
            "{out}"
        );
    }
}
