//! `env --format dotenv|json`: the variables for tools, not shells.
//!
//! A `.env` file has no standard, and the readers it is for disagree. What
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

    // ---- the real readers -------------------------------------------------------------

    /// Hostile passwords: quotes, `$`, `${X}`, backslashes, `#`, line breaks, spaces,
    /// Unicode, `=`, and the shell tests' generated ones.
    pub(crate) fn hostile_values() -> Vec<String> {
        let mut values: Vec<String> = [
            "plain",
            "",
            " ",
            "  lead and trail  ",
            "a'b",
            "'",
            "''",
            "'x'",
            "a\"b",
            "\"",
            "\"x\"",
            "it's \"q\"",
            "$HOME",
            "$",
            "a$b",
            "$$",
            "${HOME}",
            "${",
            "${a",
            "${X:-y}",
            "x${A}y",
            "$(id)",
            "`id`",
            "\\",
            "a\\b",
            "a\\\\b",
            "a\\",
            "\\'",
            "\\\"",
            "\\n",
            "a\\nb",
            "#",
            "#x",
            "a #b",
            "a#b",
            "x # y",
            "\n",
            "a\nb",
            "a\n",
            "a'\nb",
            "\r",
            "a\r\nb",
            "\t",
            "é☃😀",
            "\u{2028}",
            "\u{a0}",
            "\u{feff}x",
            "=",
            "a=b",
            "==",
            "K=V\nL=W",
            "export X=1",
            "a'\"$\\#=\n ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        values.extend(crate::shell::tests::generated_passwords(0xd07e, 2000));
        values
    }

    fn tool_env(var: &str, what: &str) -> String {
        std::env::var(var).unwrap_or_else(|_| {
            panic!("${var} is not set: run tests/dotenv/run.sh, which installs {what} into a cached folder and sets it")
        })
    }

    /// What the real python-dotenv and npm `dotenv` (its default and its `fast` parser)
    /// read from `file`, as key-to-value maps.
    fn real_readers(file: &std::path::Path) -> Vec<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        let python = tool_env("MLL_DOTENV_PYTHON", "python-dotenv");
        let npm = tool_env("MLL_DOTENV_NPM", "npm dotenv");
        let run = |cmd: &mut std::process::Command, who: &str| -> serde_json::Value {
            let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {who}: {e}"));
            assert!(out.status.success(), "{who} failed: {}", String::from_utf8_lossy(&out.stderr));
            serde_json::from_slice(&out.stdout).unwrap()
        };
        let py = run(
            std::process::Command::new(python)
                .args([
                    "-c",
                    "import json, sys\nfrom dotenv import dotenv_values\nprint(json.dumps(dotenv_values(sys.argv[1])))",
                ])
                .arg(file),
            "python-dotenv",
        );
        let js = run(
            std::process::Command::new("node")
                .args([
                    "-e",
                    "const d = require(process.argv[1] + '/node_modules/dotenv');\n\
                     const src = require('fs').readFileSync(process.argv[2], 'utf8');\n\
                     console.log(JSON.stringify([d.parse(src), d.parse(src, { fast: true })]));",
                ])
                .arg(&npm)
                .arg(file),
            "node (npm dotenv)",
        );
        let map = |v: &serde_json::Value| v.as_object().unwrap().clone();
        vec![("python-dotenv", map(&py)), ("npm dotenv", map(&js[0])), ("npm dotenv (fast)", map(&js[1]))]
    }

    /// Every value is refused or read back exactly by every reader, from one file.
    pub(crate) fn check_round_trip(values: &[String]) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        let mut text = String::new();
        let mut kept = Vec::new();
        for (i, value) in values.iter().enumerate() {
            if let Ok(quoted) = dotenv_quote(value) {
                text.push_str(&format!("K{i}={quoted}\n"));
                kept.push((format!("K{i}"), value));
            }
        }
        std::fs::write(&file, &text).unwrap();
        for (reader, got) in real_readers(&file) {
            for (key, want) in &kept {
                let got = got.get(key).and_then(|v| v.as_str());
                assert_eq!(got, Some(want.as_str()), "{reader} read {key} back changed; the file:\n{text}");
            }
            assert_eq!(got.len(), kept.len(), "{reader} read other keys than were written:\n{text}");
        }
    }

    #[test]
    #[ignore = "needs the real python-dotenv and npm dotenv: tests/dotenv/run.sh"]
    fn real_readers_read_back_every_value_not_refused() {
        let values = hostile_values();
        check_round_trip(&values);
        let refused: Vec<&String> = values.iter().filter(|v| dotenv_quote(v).is_err()).collect();
        // The refusals are the exceptions, and the hostile basics all get through.
        assert!(refused.len() * 4 < values.len(), "{} of {} refused", refused.len(), values.len());
        for kept in ["a'b", "a\"b", "$HOME", "a\\b", "#x", "a\nb", " ", "é☃😀", "a=b", "x # y"] {
            assert!(dotenv_quote(kept).is_ok(), "{kept:?}");
        }
    }

    /// Random values (`PROPTEST_CASES` batches of 16, one file): refused or read back.
    #[test]
    #[ignore = "needs the real python-dotenv and npm dotenv: tests/dotenv/run.sh"]
    fn real_readers_read_back_random_values() {
        use proptest::strategy::{Strategy, ValueTree};
        let config = crate::shell::tests::prop_config();
        let mut runner = proptest::test_runner::TestRunner::new(config.clone());
        let strategy = crate::shell::tests::any_value();
        let values: Vec<String> =
            (0..config.cases * 16).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect();
        check_round_trip(&values);
    }
}
