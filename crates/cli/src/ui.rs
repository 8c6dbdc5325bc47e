//! Terminal output: cargo-style `error:` / `warning:` / `help:` lines on stderr.

use std::io::{IsTerminal, Write};

use crate::failure::Failure;

fn styled(label: &str, ansi: &str) -> String {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        format!("\x1b[1;{ansi}m{label}\x1b[0m")
    } else {
        label.to_string()
    }
}

pub fn print_failure(f: &Failure) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{} {}", styled("error:", "31"), f.message);
    if !f.causes.is_empty() {
        let _ = writeln!(err, "\nCaused by:");
        for c in &f.causes {
            let _ = writeln!(err, "  {c}");
        }
    }
    if let Some(h) = &f.help {
        let _ = writeln!(err, "\n{} {h}", styled("help:", "36"));
    }
}

pub fn warning(msg: impl std::fmt::Display) {
    eprintln!("{} {msg}", styled("warning:", "33"));
}

pub fn note(msg: impl std::fmt::Display) {
    eprintln!("{} {msg}", styled("note:", "36"));
}
