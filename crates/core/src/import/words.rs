//! One shell word as the shell reads it, for the forms people write in start-up files:
//! single quotes, double quotes and backslashes in POSIX shells, fish and PowerShell. A
//! word the shell would compute (`$VAR`, `$(cmd)`, backticks) or a quote left open is not
//! guessed at: the caller reports it and leaves the line alone.

/// The quoting rules of one family of shells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// sh, bash, zsh, dash.
    Posix,
    /// fish.
    Fish,
    /// PowerShell.
    Pwsh,
}

/// One shell word, when no expansion is involved; the rest of the line may only be a
/// comment (`Err`: why the value cannot be read).
pub(crate) fn word(s: &str, dialect: Dialect) -> Result<String, String> {
    const EXPANSION: &str = "it uses a shell expansion ($ or `): the shell computes it, mlflow-login does not guess";
    const OPEN: &str = "a quote is not closed on this line";
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | ';' | '&' | '|' => {
                let rest: String = std::iter::once(c).chain(chars).collect();
                let rest = rest.trim_start();
                if rest.is_empty() || rest.starts_with('#') {
                    break;
                }
                return Err(
                    "the line also runs other commands: move the value to a line of its own, or edit it by hand".into(),
                );
            }
            '\'' => loop {
                match chars.next() {
                    None => return Err(OPEN.into()),
                    Some('\'') if dialect == Dialect::Pwsh && chars.peek() == Some(&'\'') => {
                        chars.next();
                        out.push('\'');
                    }
                    Some('\'') => break,
                    Some('\\') if dialect == Dialect::Fish && matches!(chars.peek(), Some('\'' | '\\')) => {
                        out.push(chars.next().unwrap_or_default());
                    }
                    Some(c) => out.push(c),
                }
            },
            '"' => loop {
                match chars.next() {
                    None => return Err(OPEN.into()),
                    Some('"') => break,
                    Some('$' | '`') => return Err(EXPANSION.into()),
                    Some('\\') if dialect != Dialect::Pwsh => match chars.next() {
                        Some(e @ ('$' | '`' | '"' | '\\')) => out.push(e),
                        Some(e) => {
                            out.push('\\');
                            out.push(e);
                        }
                        None => return Err(OPEN.into()),
                    },
                    Some(c) => out.push(c),
                }
            },
            '\\' if dialect != Dialect::Pwsh => match chars.next() {
                Some(e) => out.push(e),
                None => return Err(OPEN.into()),
            },
            '$' | '`' => return Err(EXPANSION.into()),
            '#' if out.is_empty() && dialect != Dialect::Posix => break,
            c => out.push(c),
        }
    }
    Ok(out)
}
