//! Text rules shared by every module: what of untrusted text may reach a terminal, a word
//! a person can paste into a shell, and base64. Values only, no I/O.

/// A character that must not reach a terminal from untrusted text: a control character
/// (escape sequences start with one) or a bidi override (it reorders what is shown).
pub fn unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Keeps server-supplied text printable: no control or bidi-override characters, at most
/// `max` characters (an ellipsis marks a cut).
pub(crate) fn clean(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in text.trim().chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if unprintable(c) {
            // Keep words apart where a newline or tab was.
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

/// `value` as one word for a command line a person copies into bash, zsh, fish or dash: as
/// it is when it holds only characters no shell treats specially, else in single quotes,
/// with each `'` and `\` outside them, backslash-escaped. Inside single quotes POSIX shells
/// take every character as it is, but fish reads `\'` and `\\` as escapes; outside them
/// `\'` and `\\` mean `'` and `\` to all of them (tested in the real shells).
pub(crate) fn shell_word(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("'\\''"),
            '\\' => out.push_str("'\\\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Standard base64 with padding (RFC 4648 §4), as `[Convert]::FromBase64String` reads it
/// (the `base64` crate's; the tests check it against the RFC's vectors and coreutils'
/// `base64 -d`).
pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
