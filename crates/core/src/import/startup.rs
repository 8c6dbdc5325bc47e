//! Which environment variables a shell start-up file assigns: the one rule `import` reads
//! values with and `doctor` flags lines with.
//!
//! The forms people write: `export NAME=value`, `NAME=value`, `declare -x` / `typeset -x`,
//! csh's `setenv NAME value` (POSIX-named files), fish's `set -gx NAME value` (`.fish`),
//! PowerShell's `$env:NAME = 'value'` (`.ps1`). The file's name picks the dialect, so a
//! fish line in `.bashrc` is no assignment (bash would not run it as one). Comment lines
//! and reads (`echo $NAME`) assign nothing.

use std::path::Path;

use super::words::{Dialect, word};

/// One line that assigns one of the variables asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The 1-based line.
    pub line: usize,
    /// The variable.
    pub var: &'static str,
    /// Its value as the shell reads it (`Err`: why it cannot be read without running the
    /// shell, e.g. an expansion).
    pub value: Result<String, String>,
}

/// The assignments of `vars` in `text`, the start-up file at `path`, in file order.
pub fn assignments(path: &Path, text: &str, vars: &[&'static str]) -> Vec<Assignment> {
    let dialect = dialect(path);
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let (var, rest) = assigned(line, dialect, vars)?;
            Some(Assignment { line: i + 1, var, value: word(rest, dialect) })
        })
        .collect()
}

pub(crate) fn dialect(path: &Path) -> Dialect {
    match path.extension().and_then(|e| e.to_str()) {
        Some("fish") => Dialect::Fish,
        Some("ps1") => Dialect::Pwsh,
        _ => Dialect::Posix,
    }
}

/// The variable `line` assigns and the text of its value.
fn assigned<'l>(line: &'l str, dialect: Dialect, vars: &[&'static str]) -> Option<(&'static str, &'l str)> {
    let line = line.trim_start();
    let named =
        |rest: &str, sep: &dyn Fn(&str) -> bool| vars.iter().copied().find(|v| rest.strip_prefix(v).is_some_and(sep));
    match dialect {
        Dialect::Posix => {
            if let Some(rest) = line.strip_prefix("setenv").filter(|r| r.starts_with([' ', '\t'])) {
                let rest = rest.trim_start();
                let var = named(rest, &|r: &str| r.starts_with([' ', '\t']) || r.is_empty())?;
                return Some((var, rest[var.len()..].trim_start()));
            }
            let mut rest = line;
            for prefix in ["export ", "declare -x ", "declare -gx ", "typeset -x ", "typeset -gx "] {
                if let Some(r) = rest.strip_prefix(prefix) {
                    rest = r.trim_start();
                    break;
                }
            }
            let var = named(rest, &|r: &str| r.starts_with('='))?;
            Some((var, &rest[var.len() + 1..]))
        }
        Dialect::Fish => {
            if line.split_whitespace().next() != Some("set") {
                return None;
            }
            let mut rest = line.strip_prefix("set")?.trim_start();
            let mut exported = false;
            while rest.starts_with('-') {
                let (flag, r) = rest.split_once(char::is_whitespace)?;
                exported |= !flag.starts_with("--") && flag.contains('x') || flag == "--export";
                rest = r.trim_start();
            }
            let var = named(rest, &|r: &str| r.starts_with([' ', '\t']))?;
            exported.then(|| (var, rest[var.len()..].trim_start()))
        }
        Dialect::Pwsh => {
            let rest = line.strip_prefix("$env:")?;
            let var = vars.iter().copied().find(|v| {
                rest.get(..v.len()).is_some_and(|p| p.eq_ignore_ascii_case(v))
                    && rest[v.len()..].trim_start().starts_with('=')
            })?;
            Some((var, rest[var.len()..].trim_start().strip_prefix('=')?.trim_start()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &[&str] = &["MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"];

    fn one(file: &str, line: &str) -> Option<&'static str> {
        assignments(Path::new(file), line, VARS).first().map(|a| a.var)
    }

    #[test]
    fn lines_that_assign_and_lines_that_do_not() {
        for (file, line) in [
            (".bashrc", "export MLFLOW_TRACKING_PASSWORD=hunter2"),
            (".bashrc", "MLFLOW_TRACKING_URI=https://h"),
            (".zshrc", "  typeset -x MLFLOW_TRACKING_URI=https://h"),
            (".profile", "setenv MLFLOW_TRACKING_URI https://h"),
            ("config.fish", "set -gx MLFLOW_TRACKING_TOKEN abc"),
            ("config.fish", "set -x MLFLOW_TRACKING_URI https://h"),
            ("profile.ps1", "$env:MLFLOW_TRACKING_PASSWORD = 'x'"),
        ] {
            assert!(one(file, line).is_some(), "{file}: {line}");
        }
        for (file, line) in [
            (".bashrc", "# export MLFLOW_TRACKING_PASSWORD=x"),
            (".bashrc", "echo $MLFLOW_TRACKING_URI"),
            (".bashrc", "eval \"$(mlflow-login init bash)\""),
            (".bashrc", "export MLFLOW_TRACKING_URIX=1"),
            (".bashrc", "[ -n \"$MLFLOW_TRACKING_URI\" ] && echo"),
            (".bashrc", "set -gx MLFLOW_TRACKING_TOKEN abc"),
            ("config.fish", "set -g MLFLOW_TRACKING_TOKEN abc"),
        ] {
            assert_eq!(one(file, line), None, "{file}: {line}");
        }
    }
}
