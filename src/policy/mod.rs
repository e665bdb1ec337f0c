//! The policy engine: loads policy files (built-in ones embedded in the binary, user ones
//! from `--policy DIR`), validates and compiles every CEL expression once at start-up
//! (a bad policy is a diagnostic pointing into its YAML file), and evaluates policies
//! against a repository model into raw findings.
//!
//! This module owns the compiled policy and its parts, the policy set and the errors. Its
//! children: `load` (the built-in pack and policy directories), `compile` (validating a
//! policy file and compiling its CEL, errors placed in the YAML), `eval` (evaluation
//! contexts, `--query`, a policy's findings), `needs` (which parts of the model a policy
//! reads), and the CEL support modules below.

mod compile;
mod eval;
pub mod fields;
pub mod functions;
mod load;
pub mod meta;
mod needs;
pub mod schema;
pub mod val;

use std::collections::BTreeMap;
use std::sync::Arc;

use cel::{Env, Program};
use miette::{Diagnostic, NamedSource, SourceSpan};

use crate::location::Location;
use crate::policy::meta::RuleMeta;
use crate::policy::schema::{OptionSpec, TestCase};

pub use compile::parse_expectation;
pub use eval::node_location;
pub use needs::{Needs, heaviest_read, scan_needs};

/// A policy that could not be loaded or compiled: rendered with its source and a label on
/// the offending part of the YAML file.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(shipshape::policy))]
pub struct PolicyError {
    /// What is wrong.
    pub message: String,
    /// The policy file.
    #[source_code]
    pub src: NamedSource<String>,
    /// The offending span.
    #[label("{label}")]
    pub span: SourceSpan,
    /// Label text.
    pub label: String,
    /// Path of the policy file (for plain-text callers).
    pub path: String,
}

/// An expression given on the command line (`shipshape model --query`) that does not
/// compile or fails to evaluate: rendered with the expression and a label on the offending part.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(shipshape::query))]
pub struct QueryError {
    /// What is wrong.
    pub message: String,
    /// The expression.
    #[source_code]
    pub src: NamedSource<String>,
    /// The offending span.
    #[label("{label}")]
    pub span: SourceSpan,
    /// Label text.
    pub label: String,
}

/// An error while evaluating a policy on one repository.
#[derive(Debug, Clone, thiserror::Error)]
#[error("policy {policy} ({path}) failed on {root}: {message}")]
pub struct EvalError {
    /// The policy's ID.
    pub policy: String,
    /// The policy file.
    pub path: String,
    /// The repository root it was evaluated on.
    pub root: String,
    /// The interpreter's message.
    pub message: String,
}

/// One compiled CEL expression and where it came from.
struct Expr {
    program: Program,
}

/// A message template: literal text and `{{ CEL }}` parts.
struct Template {
    parts: Vec<Part>,
}

enum Part {
    Text(String),
    Expr(Expr),
}

/// What a policy evaluates.
enum Body {
    Violations(Expr),
    Require { cond: Expr, at: Option<Expr> },
}

/// A loaded, compiled policy.
pub struct Policy {
    /// The rule's metadata.
    pub meta: RuleMeta,
    /// Where the policy came from (`builtin:policies/DF001.yaml` or a file path).
    pub path: String,
    /// The option specs.
    pub options: BTreeMap<String, OptionSpec>,
    /// The inline test cases.
    pub tests: Vec<TestCase>,
    /// The parts of `repo` the policy's expressions read (see [`Needs`]).
    pub needs: Needs,
    each: Option<Expr>,
    lets: Vec<(String, Expr)>,
    body: Body,
    message: Template,
    missing: Option<Template>,
}

/// A finding before filtering and fingerprinting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFinding {
    /// The rule ID.
    pub rule: String,
    /// The message.
    pub message: String,
    /// Where it points.
    pub location: Location,
}

/// All loaded policies and the CEL environment they were compiled in.
pub struct PolicySet {
    /// Policies sorted by ID.
    pub policies: Vec<Policy>,
    env: Arc<Env>,
}

/// Builds the CEL environment: the standard library plus the strings and lists extensions.
pub(super) fn environment() -> Env {
    let mut env = Env::stdlib();
    // Both extensions register fresh names on a fresh stdlib environment; a failure here
    // would be a programming error caught by every test.
    let _ = env.add_extension(cel::extensions::strings);
    let _ = env.add_extension(cel::extensions::lists);
    env
}

impl PolicySet {
    /// A policy's documentation as Markdown, with its options (type, default, meaning).
    pub fn reference(&self, policy: &Policy) -> String {
        let mut out = policy.meta.markdown();
        if !policy.options.is_empty() {
            out.push_str(
                "\n## Options\n\n| option | type | default | meaning |\n|---|---|---|---|\n",
            );
            for (name, spec) in &policy.options {
                out.push_str(&format!(
                    "| `{name}` | {} | `{}` | {} |\n",
                    format!("{:?}", spec.kind).to_lowercase(),
                    // `|` would end a table cell, even inside a code span.
                    spec.default.to_string().replace('|', "\\|"),
                    spec.doc.trim().replace('\n', " ").replace('|', "\\|")
                ));
            }
        }
        out
    }

    /// The generated rule reference (`docs/rules.md`): every rule's documentation.
    pub fn catalog_markdown(&self) -> String {
        let mut out = String::from(
            "# Rule reference\n\nGenerated from `policies/*.yaml`; a test keeps it in sync (regenerate with\n`SHIPSHAPE_BLESS=1 cargo test`). `shipshape explain RULE` prints one rule.\n\n",
        );
        for p in &self.policies {
            out.push_str(&format!(
                "- [{} — {}](#{})\n",
                p.meta.id,
                p.meta.title,
                p.meta.id.to_ascii_lowercase()
            ));
        }
        for p in &self.policies {
            out.push('\n');
            out.push_str(&format!(
                "<a id=\"{}\"></a>\n\n",
                p.meta.id.to_ascii_lowercase()
            ));
            out.push_str(
                &self
                    .reference(p)
                    .replacen("# ", "## ", 1)
                    .replace("\n## ", "\n### "),
            );
        }
        out
    }

    /// Metadata of every policy, in ID order.
    pub fn metas(&self) -> Vec<RuleMeta> {
        self.policies.iter().map(|p| p.meta.clone()).collect()
    }
}
