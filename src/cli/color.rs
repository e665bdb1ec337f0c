//! Whether human output is coloured: `--color`, then the ecosystem's environment conventions
//! (`NO_COLOR`, `CLICOLOR_FORCE`, `TERM=dumb`), then whether the output is a terminal.

use super::ColorChoice;

/// The colour-related environment variables, as read by [`use_color`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColorEnv {
    /// `NO_COLOR`: any non-empty value disables colour.
    pub no_color: Option<String>,
    /// `CLICOLOR_FORCE`: any non-empty value but `0` forces colour.
    pub clicolor_force: Option<String>,
    /// `TERM`: `dumb` disables colour.
    pub term: Option<String>,
}

impl ColorEnv {
    /// The variables of this process's environment (values that are not Unicode count as set
    /// and non-empty).
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var_os(name).map(|v| v.into_string().unwrap_or_else(|_| "?".to_string()))
        };
        ColorEnv {
            no_color: var("NO_COLOR"),
            clicolor_force: var("CLICOLOR_FORCE"),
            term: var("TERM"),
        }
    }
}

/// Whether human (and concise) output on standard output is coloured: `--color always` or
/// `never` win over everything; otherwise (auto), by the usual conventions in this order:
/// a non-empty `NO_COLOR` disables, a non-empty `CLICOLOR_FORCE` other than `0` forces,
/// `TERM=dumb` disables, and else colour is used exactly when writing to a terminal.
pub fn use_color(choice: ColorChoice, to_terminal: bool, env: &ColorEnv) -> bool {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set(&env.no_color) => false,
        ColorChoice::Auto
            if set(&env.clicolor_force) && env.clicolor_force.as_deref() != Some("0") =>
        {
            true
        }
        ColorChoice::Auto if env.term.as_deref() == Some("dumb") => false,
        ColorChoice::Auto => to_terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ColorChoice;

    #[test]
    fn colour_follows_the_choice_then_the_environment_then_the_terminal() {
        let env = |no_color: Option<&str>, force: Option<&str>, term: Option<&str>| ColorEnv {
            no_color: no_color.map(str::to_string),
            clicolor_force: force.map(str::to_string),
            term: term.map(str::to_string),
        };
        let plain = env(None, None, Some("xterm-256color"));
        let auto = ColorChoice::Auto;
        // Auto: a terminal, and nothing else.
        assert!(use_color(auto, true, &plain));
        assert!(!use_color(auto, false, &plain));
        assert!(use_color(auto, true, &ColorEnv::default()));
        // NO_COLOR: any non-empty value disables, even with CLICOLOR_FORCE; empty is unset.
        assert!(!use_color(auto, true, &env(Some("1"), None, None)));
        assert!(!use_color(auto, true, &env(Some("0"), Some("1"), None)));
        assert!(use_color(auto, true, &env(Some(""), None, None)));
        // CLICOLOR_FORCE: non-empty and not 0 forces, also to a pipe and a dumb terminal.
        assert!(use_color(auto, false, &env(None, Some("1"), None)));
        assert!(use_color(
            auto,
            false,
            &env(Some(""), Some("yes"), Some("dumb"))
        ));
        assert!(!use_color(auto, false, &env(None, Some("0"), None)));
        assert!(!use_color(auto, false, &env(None, Some(""), None)));
        // TERM=dumb disables on a terminal.
        assert!(!use_color(auto, true, &env(None, None, Some("dumb"))));
        assert!(!use_color(auto, true, &env(None, Some("0"), Some("dumb"))));
        // --color always/never win over everything.
        for e in [
            plain.clone(),
            env(Some("1"), None, Some("dumb")),
            env(None, Some("1"), None),
        ] {
            for terminal in [false, true] {
                assert!(use_color(ColorChoice::Always, terminal, &e));
                assert!(!use_color(ColorChoice::Never, terminal, &e));
            }
        }
    }
}
