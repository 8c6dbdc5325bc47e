//! The `[mlflow]` section of MLflow's credentials file, read as Python's `configparser`
//! reads it with default settings (`=` or `:`, `#`/`;` comment lines, `%%` for `%`).

use std::ops::Range;

use super::scan::Vars;
use crate::env::{PASSWORD, USERNAME};

/// The section's username and password (each with its 1-based line), and its 0-based line
/// range.
pub(crate) fn mlflow_ini(text: &str) -> Option<(Vars, Range<usize>)> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.trim() == "[mlflow]")?;
    let end = lines
        .iter()
        .skip(start + 1)
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |n| start + 1 + n);
    let mut vars = Vars::default();
    for (i, line) in lines.iter().enumerate().take(end).skip(start + 1) {
        let t = line.trim();
        if t.is_empty() || t.starts_with(['#', ';']) {
            continue;
        }
        let Some((key, value)) = t.split_once(['=', ':']) else { continue };
        let var = match key.trim().to_ascii_lowercase().as_str() {
            "mlflow_tracking_username" => USERNAME,
            "mlflow_tracking_password" => PASSWORD,
            _ => continue,
        };
        vars.values.insert(var, (value.trim().replace("%%", "%"), i + 1));
    }
    Some((vars, start..end))
}

/// Whether the text of MLflow's credentials file holds a password MLflow would send
/// (a non-empty `mlflow_tracking_password` in its `[mlflow]` section).
pub fn mlflow_credentials_password(text: &str) -> bool {
    mlflow_ini(text).is_some_and(|(vars, _)| vars.values.get(PASSWORD).is_some_and(|(v, _)| !v.is_empty()))
}
