//! Rule metadata: what reports and `shipshape rules`/`explain` need to know about a rule,
//! independent of how its CEL expressions are evaluated.

use serde::Serialize;

use crate::finding::Severity;

/// The documentation of one rule, in fixed sections (as written in its policy file).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleDocs {
    /// What the rule checks, in a few sentences.
    pub what: String,
    /// Why it matters.
    pub why: String,
    /// An example that fails the rule (file contents, shown as code).
    pub failing: String,
    /// The same example fixed.
    pub passing: String,
    /// Decisions taken where the catalog is silent (may be empty).
    pub decisions: String,
    /// One or two sentences on how to fix a finding: shown as help under every finding.
    pub fix: String,
    /// The fix in GitLab's terms (`when: manual`, `allow_failure`, `rules:`), shown instead
    /// of `fix` under findings in GitLab CI files; empty when `fix` serves both providers.
    pub fix_gitlab: String,
}

/// The tool's home page (SARIF `tool.driver.informationUri`), under which the built-in rules'
/// reference lives.
pub const INFORMATION_URI: &str = "https://github.com/shipshape-dev/shipshape";

/// The web address of a built-in rule's section of the rule reference (`docs/rules.md`).
pub fn rule_reference_uri(id: &str) -> String {
    format!(
        "{INFORMATION_URI}/blob/main/docs/rules.md#{}",
        id.to_ascii_lowercase()
    )
}

/// Everything about a rule except its expressions.
#[derive(Debug, Clone, Serialize)]
pub struct RuleMeta {
    /// Stable rule ID, e.g. `DF005`.
    pub id: String,
    /// Short title, e.g. "runs as a non-root user".
    pub title: String,
    /// Default severity.
    pub severity: Severity,
    /// Free-form tags (`docker`, `security`, `ci`, ...), reported in SARIF `properties.tags`.
    pub tags: Vec<String>,
    /// Whether the rule's findings are security findings: only those carry a GitHub code
    /// scanning `security-severity`; the others are ordinary alerts ranked by level.
    pub security: bool,
    /// The policy's own `security-severity` (0.0–10.0) at its default severity.
    pub security_severity: Option<f64>,
    /// How often the rule's findings are right (SARIF `precision`).
    pub precision: crate::policy::schema::Precision,
    /// The rule's documentation.
    pub docs: RuleDocs,
    /// Where the documentation lives on the web (SARIF `helpUri`), when known.
    pub help_uri: Option<String>,
}

impl RuleMeta {
    /// The fix shown under a finding: in GitLab's terms for a finding in a GitLab CI file
    /// (when the rule has them), else `fix`.
    pub fn fix_for(&self, gitlab: bool) -> &str {
        if gitlab && !self.docs.fix_gitlab.trim().is_empty() {
            self.docs.fix_gitlab.trim()
        } else {
            self.docs.fix.trim()
        }
    }

    /// `fix`, followed by the GitLab fix when there is one.
    fn fix_both(&self) -> String {
        let gitlab = self.docs.fix_gitlab.trim();
        if gitlab.is_empty() {
            self.docs.fix.trim().to_string()
        } else {
            format!(
                "{}

On GitLab: {gitlab}",
                self.docs.fix.trim()
            )
        }
    }

    /// The rule's documentation as Markdown (used by `explain` and SARIF `help.markdown`).
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# {} — {}\n\nSeverity: **{}**\n\n## What it checks\n\n{}\n\n## Why\n\n{}\n\n## How to fix\n\n{}\n",
            self.id,
            self.title,
            self.severity,
            self.docs.what.trim(),
            self.docs.why.trim(),
            self.fix_both()
        );
        if !self.docs.failing.trim().is_empty() {
            out.push_str(&format!(
                "\n## Failing example\n\n```\n{}\n```\n",
                self.docs.failing.trim_end()
            ));
        }
        if !self.docs.passing.trim().is_empty() {
            out.push_str(&format!(
                "\n## Passing example\n\n```\n{}\n```\n",
                self.docs.passing.trim_end()
            ));
        }
        if !self.docs.decisions.trim().is_empty() {
            out.push_str(&format!(
                "\n## Decisions\n\n{}\n",
                self.docs.decisions.trim()
            ));
        }
        out
    }

    /// The rule's documentation as plain text (SARIF `help.text`).
    pub fn plain_text(&self) -> String {
        let mut out = format!(
            "{} — {}\n\n{}\n\nWhy: {}\n\nFix: {}\n",
            self.id,
            self.title,
            self.docs.what.trim(),
            self.docs.why.trim(),
            self.fix_both()
        );
        if !self.docs.decisions.trim().is_empty() {
            out.push_str(&format!("\nDecisions: {}\n", self.docs.decisions.trim()));
        }
        out
    }

    /// The `security-severity` reported to GitHub code scanning for a security rule whose
    /// severity in effect (after configuration) is `severity`: the policy's own value at its
    /// default severity, else 7.0 (high) for errors, 4.0 (medium) for warnings, 1.0 (low) for
    /// notes. `None` for a rule that is not a security rule.
    pub fn security_severity_at(&self, severity: Severity) -> Option<f64> {
        if !self.security {
            return None;
        }
        let own = self
            .security_severity
            .filter(|v| v.is_finite() && severity == self.severity);
        Some(
            own.unwrap_or(match severity {
                Severity::Error => 7.0,
                Severity::Warning => 4.0,
                Severity::Note => 1.0,
            })
            .clamp(0.0, 10.0),
        )
    }
}
