//! `env --format dotenv|json`: the variables for tools, not shells.
//!
//! A `.env` file has no standard, and the readers it is for disagree (issue 13 #4). What
//! each one does with a quoted value, from their sources and checked against the real
//! python-dotenv and npm `dotenv` by `tests/dotenv/run.sh`:
//!
//! | reader | `'...'` | `"..."` |
//! | --- | --- | --- |
//! | python-dotenv 1.2 | `\\` and `\'` are escapes; `${X}` expanded | escapes `\\ \' \" \n \t ...`; `${X}` expanded |
//! | npm `dotenv` 18 (both parsers) | literal; `\r` in the file becomes `\n` | `\n`, `\r` are escapes; `\r` becomes `\n` |
//! | docker compose (compose-go) | literal; a `\` before the closing `'` escapes it | `\n`, `\r`, `\\`, `\"` escapes; `$X`, `${X}` expanded |
//!
//! So a value is written `'...'` when it holds no `'`, no `\\` and does not end in `\`;
//! else `"..."` when it holds none of `"`, `\`, `$`; and refused otherwise, as is a value
//! with a carriage return (npm turns it into a line feed) or a `${...}` (python-dotenv
//! expands it in every quoting). A refusal names the variable and the reason and points to
//! `mlflow-login exec` and `--format json`: a `.env` file that changes a password is worse
//! than none. `docker run --env-file` takes values verbatim, quotes included, and is not
//! a reader this format is for.

use crate::env::EnvVar;
use crate::error::{Error, Result};

/// `NAME='value'` lines of the variables that are set, or an error naming the first value
/// that no quoting keeps intact in every reader.
pub fn render_dotenv(vars: &[EnvVar]) -> Result<String> {
    let mut out = String::new();
    for var in vars {
        if let Some(value) = &var.value {
            let quoted = dotenv_quote(value.expose()).map_err(|why| {
                Error::invalid(
                    "format",
                    format!(
                        "{} cannot be written to a .env file that python-dotenv, npm dotenv and docker compose all read back unchanged: {why}; use `mlflow-login exec NAME -- COMMAND` or `--format json` instead",
                        var.name
                    ),
                )
            })?;
            out.push_str(var.name);
            out.push('=');
            out.push_str(&quoted);
            out.push('\n');
        }
    }
    Ok(out)
}

/// `value` quoted for every `.env` reader in the table above, or why it cannot be.
pub(crate) fn dotenv_quote(value: &str) -> std::result::Result<String, &'static str> {
    if value.contains('\r') {
        return Err("it holds a carriage return, which npm dotenv turns into a line feed");
    }
    if has_posix_expansion(value) {
        return Err("it holds `${...}`, which python-dotenv expands in every kind of quotes");
    }
    if !value.contains('\'') && !value.contains(r"\\") && !value.ends_with('\\') {
        return Ok(format!("'{value}'"));
    }
    if !value.contains(['"', '\\', '$']) {
        return Ok(format!("\"{value}\""));
    }
    Err(
        "it holds a single quote together with a double quote, a backslash or a `$`, which no quoting keeps in all of them",
    )
}

/// Whether python-dotenv's `${NAME}` / `${NAME:-default}` pattern matches somewhere:
/// `\$\{[^}:]*(:-[^}]*)?\}` (python-dotenv `variables.py`).
fn has_posix_expansion(value: &str) -> bool {
    value.match_indices("${").any(|(i, _)| {
        let rest = &value[i + 2..];
        let name_end = rest.find(['}', ':']).unwrap_or(rest.len());
        match rest[name_end..].chars().next() {
            Some('}') => true,
            Some(':') => rest[name_end..].starts_with(":-") && rest[name_end + 2..].contains('}'),
            _ => false,
        }
    })
}

/// One JSON object of the variables that are set, and a newline.
pub fn render_json(vars: &[EnvVar]) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        vars.iter().filter_map(|v| v.value.as_ref().map(|x| (v.name.to_string(), x.expose().into()))).collect();
    format!("{}\n", serde_json::Value::Object(map))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::secret::Secret;

    #[test]
    fn quoting_rules() {
        assert_eq!(dotenv_quote("p$HOME #x\n=é").unwrap(), "'p$HOME #x\n=é'");
        assert_eq!(dotenv_quote(r"a\b").unwrap(), r"'a\b'");
        assert_eq!(dotenv_quote("it's #1\n").unwrap(), "\"it's #1\n\"");
        assert_eq!(dotenv_quote("").unwrap(), "''");
        for refused in ["a\rb", "${HOME}", "x${A:-b}y", r"a\\b", r"a\", r"it's\", "it's $5", "it's \"x\""] {
            assert!(dotenv_quote(refused).is_err(), "{refused:?}");
        }
        // Not python-dotenv's pattern, so kept.
        for kept in ["${", "${a", "${a:b}", "$}{", "$ {x}"] {
            assert!(dotenv_quote(kept).is_ok(), "{kept:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_variable_and_the_way_out() {
        let vars = [
            EnvVar { name: "MLFLOW_TRACKING_URI", value: Some(Secret::new("https://h".into())) },
            EnvVar { name: "MLFLOW_TRACKING_PASSWORD", value: Some(Secret::new("it's ${X}".into())) },
        ];
        let err = render_dotenv(&vars).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        let msg = err.to_string();
        assert!(msg.starts_with("MLFLOW_TRACKING_PASSWORD cannot be written"), "{msg}");
        assert!(msg.contains("mlflow-login exec") && !msg.contains("it's"), "no value in the message: {msg}");
    }
}
