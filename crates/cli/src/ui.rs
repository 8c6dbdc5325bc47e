//! Terminal output: what a command prints on stdout, and cargo-style `error:` /
//! `warning:` / `help:` lines on stderr.
//!
//! Nothing here panics on a failed write. `print!` would: with SIGPIPE ignored (std's
//! start-up does that, so a server closing the connection is an error the verifier can
//! classify, not a silent death), `mlflow-login env | true` gets EPIPE, and a panic in a
//! release build is an abort. A reader that went away (`| head`, `| true`) only
//! loses the rest of the output: the command finishes as it would have. Any other write
//! error (a full disk behind `> file`) fails the command.

use std::fmt;
use std::io::{IsTerminal, Write};

use mlflow_login_core::text::unprintable;

use crate::failure::{self, Failure};

/// `print!` for command output, returning `Result<(), Failure>` instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => { $crate::ui::print(format_args!($($arg)*)) };
}

/// `println!` for command output, returning `Result<(), Failure>` instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::ui::print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` for progress lines: a closed stderr loses the line, never a panic.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::ui::line(format_args!($($arg)*)) };
}

/// Writes to stdout (see the module doc for what a failed write does).
pub fn print(args: fmt::Arguments<'_>) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::new(failure::OTHER, format!("cannot write to standard output: {e}")))
        }
        _ => Ok(()),
    }
}

fn styled(label: &str, ansi: &str) -> String {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        format!("\x1b[1;{ansi}m{label}\x1b[0m")
    } else {
        label.to_string()
    }
}

/// What a message becomes on the terminal: every character that could move the cursor,
/// recolour or retitle the terminal, or reorder the line (core's `unprintable`: control
/// characters, bidi overrides) is shown as `\u{..}`, line breaks kept. Messages quote
/// untrusted text (a project file's key or URL, a team list's name, an identity
/// provider's answer), and this is the one place they are printed.
pub fn shown(msg: impl fmt::Display) -> String {
    let text = msg.to_string();
    if !text.chars().any(|c| c != '\n' && unprintable(c)) {
        return text;
    }
    text.chars()
        .map(|c| if c != '\n' && unprintable(c) { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

pub fn print_failure(f: &Failure) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{} {}", styled("error:", "31"), shown(&f.message));
    if !f.causes.is_empty() {
        let _ = writeln!(err, "\nCaused by:");
        for c in &f.causes {
            let _ = writeln!(err, "  {}", shown(c));
        }
    }
    if let Some(h) = &f.help {
        let _ = writeln!(err, "\n{} {}", styled("help:", "36"), shown(h));
    }
}

/// A line on stderr; a closed stderr loses it (never a panic).
fn stderr_line(label: &str, ansi: &str, msg: impl fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{} {}", styled(label, ansi), shown(msg));
}

pub fn warning(msg: impl fmt::Display) {
    stderr_line("warning:", "33", msg);
}

pub fn note(msg: impl fmt::Display) {
    stderr_line("note:", "36", msg);
}

/// A plain line on stderr (progress, what a command does, the shell hook's one-line
/// hints), cleaned like every other message; a closed stderr loses it.
pub fn line(args: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{}", shown(args));
}

/// Asks `question` on stderr and reads one line of answer from stdin.
pub fn ask(question: &str) -> Result<String, Failure> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut answer)
        .map_err(|e| Failure::new(failure::OTHER, format!("cannot read the answer: {e}")))?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    /// Terminal escape sequences in a message (a project file's key, quoted by a parse
    /// error) reach the terminal as visible text, never as escapes.
    #[test]
    fn messages_show_escapes_as_text() {
        assert_eq!(super::shown("a\u{1b}]0;pwned\u{7}b\nc\u{202e}d"), "a\\u{1b}]0;pwned\\u{7}b\nc\\u{202e}d");
        assert_eq!(super::shown("plain\nlines"), "plain\nlines");
    }
}
