//! `~/.netrc` entries with their place in the file. There is no kept Rust crate that
//! parses netrc *with positions* (needed to delete one entry and nothing else), so a small
//! tokenizer lives here, tested with the module.

use std::ops::Range;

/// One netrc entry (`machine` or `default`), with its place in the file. Its `Debug`
/// redacts the password.
#[derive(Clone, PartialEq, Eq)]
pub struct NetrcEntry {
    /// The host, lower-cased (`None`: the `default` entry).
    pub machine: Option<String>,
    /// `login`.
    pub login: Option<String>,
    /// `password`.
    pub password: Option<String>,
    /// The 1-based line of `machine` / `default`.
    pub line: usize,
    pub(crate) span: Range<usize>,
}

/// The entries of a netrc file. Tokens are separated by white space; a `"quoted token"`
/// may hold spaces and backslash escapes (as Python's `netrc` reads them); a `macdef` body
/// runs to the first empty line.
pub fn netrc_entries(text: &str) -> Vec<NetrcEntry> {
    let tokens = netrc_tokens(text);
    let mut out: Vec<NetrcEntry> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (start, ref word) = tokens[i];
        let value = tokens.get(i + 1).map(|t| t.1.clone());
        match word.as_str() {
            "machine" | "default" | "macdef" => {
                if let Some(last) = out.last_mut()
                    && last.span.end == usize::MAX
                {
                    last.span.end = start;
                }
                if word == "macdef" {
                    // Its body (up to an empty line) is no token of ours.
                    let body_end = text[start..].find("\n\n").map_or(text.len(), |n| start + n + 2);
                    while i < tokens.len() && tokens[i].0 < body_end {
                        i += 1;
                    }
                    continue;
                }
                let machine = if word == "machine" { value.map(|v| v.to_ascii_lowercase()) } else { None };
                let line = text[..start].matches('\n').count() + 1;
                out.push(NetrcEntry { machine, login: None, password: None, line, span: start..usize::MAX });
                i += if word == "machine" { 2 } else { 1 };
                continue;
            }
            "login" | "password" | "account" => {
                if let Some(last) = out.last_mut() {
                    match word.as_str() {
                        "login" => last.login = value,
                        "password" => last.password = value,
                        _ => {}
                    }
                }
                i += 2;
                continue;
            }
            _ => i += 1,
        }
    }
    if let Some(last) = out.last_mut()
        && last.span.end == usize::MAX
    {
        last.span.end = text.len();
    }
    out
}

fn netrc_tokens(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some(&(start, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        if c == '#' && text[..start].rsplit('\n').next().is_some_and(|l| l.trim().is_empty()) {
            // A comment line.
            while it.next_if(|&(_, c)| c != '\n').is_some() {}
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            it.next();
            while let Some((_, c)) = it.next() {
                match c {
                    '"' => break,
                    '\\' => word.extend(it.next().map(|(_, c)| c)),
                    c => word.push(c),
                }
            }
        } else {
            while let Some((_, c)) = it.next_if(|&(_, c)| !c.is_whitespace()) {
                if c == '\\' {
                    word.extend(it.next().map(|(_, c)| c));
                } else {
                    word.push(c);
                }
            }
        }
        out.push((start, word));
    }
    out
}

impl std::fmt::Debug for NetrcEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetrcEntry")
            .field("machine", &self.machine)
            .field("login", &self.login)
            .field("password", &self.password.as_ref().map(|_| "REDACTED"))
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}
