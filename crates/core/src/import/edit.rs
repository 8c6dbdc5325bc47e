//! Taking plain-text copies out of their files once the keychain holds them: an rc line is
//! commented out (a secret in it replaced by a note naming mlflow-login, so no copy stays),
//! the credentials file's `[mlflow]` section is deleted, a netrc entry is deleted. Each
//! changed file is first copied to a backup ([`super::backups`]), and the file must be as
//! it was when it was scanned (else it is left alone). A file that is a symbolic link is
//! changed where it points, once, however many of the scanned paths lead to it.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::backups;
use crate::error::{Error, Result};

/// One file's change. Its `Debug` shows the path and the edit, never the scanned text
/// (which holds the password).
#[derive(Clone, PartialEq, Eq)]
pub struct Removal {
    /// The file.
    pub path: PathBuf,
    /// Its text when it was scanned.
    pub(crate) original: String,
    pub(crate) edit: Edit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edit {
    /// 0-based lines to comment out; `Some(var)` when the line holds a secret (replaced).
    Comment(Vec<(usize, Option<String>)>),
    /// 0-based lines to delete.
    DeleteLines(Range<usize>),
    /// Bytes to delete.
    DeleteBytes(Range<usize>),
}

/// What happened to one file.
#[derive(Debug)]
pub struct FileChange {
    /// The paths the scan found the file under (more than one when start-up files are
    /// links to one file), in the order given.
    pub paths: Vec<PathBuf>,
    /// The backup of its old text (mode 0600), or why the file was left as it is.
    pub outcome: Result<PathBuf>,
}

/// One real file: its key, its real path, the paths it was found under, its edits.
type ByFile<'a> = (PathBuf, Result<PathBuf>, Vec<PathBuf>, Vec<(&'a Removal, &'a str)>);

/// Takes the plain-text copies out (module docs). `removals` pairs each with the name of
/// the server whose keychain entry now holds the secret, for the note left in its place.
/// Each file is changed once, after its backup is written; one file's failure (changed
/// since it was scanned, unreadable) leaves that file as it is and is reported with it,
/// and the other files are still changed.
pub fn remove_plaintext(removals: &[(&Removal, &str)], backups: &Path) -> Vec<FileChange> {
    // By the file they change: two paths to one file are one change.
    let mut by_file: Vec<ByFile<'_>> = Vec::new();
    for &(r, name) in removals {
        let real = std::fs::canonicalize(&r.path).map_err(|e| Error::io(&r.path, e));
        let key = real.as_ref().map_or_else(|_| r.path.clone(), Clone::clone);
        match by_file.iter_mut().find(|(k, ..)| *k == key) {
            Some((_, _, paths, edits)) => {
                if !paths.contains(&r.path) {
                    paths.push(r.path.clone());
                }
                edits.push((r, name));
            }
            None => by_file.push((key, real, vec![r.path.clone()], vec![(r, name)])),
        }
    }
    by_file
        .into_iter()
        .map(|(_, real, paths, edits)| {
            let outcome = real.and_then(|real| change(&real, &paths[0], &edits, backups));
            FileChange { paths, outcome }
        })
        .collect()
}

fn change(real: &Path, shown: &Path, edits: &[(&Removal, &str)], backups: &Path) -> Result<PathBuf> {
    let now = std::fs::read_to_string(real).map_err(|e| Error::io(shown, e))?;
    if edits.iter().any(|(r, _)| r.original != now) {
        return Err(Error::invalid(
            "file",
            format!("{} changed since it was read: nothing was removed from it; run the import again", shown.display()),
        ));
    }
    let new = apply_edits(&now, edits);
    let backup = backups::write(backups, real, &now)?;
    let perms = std::fs::metadata(real).map_err(|e| Error::io(real, e))?.permissions();
    crate::config::write_atomic(real, new.as_bytes())?;
    std::fs::set_permissions(real, perms).map_err(|e| Error::io(real, e))?;
    Ok(backup)
}

pub(crate) fn apply_edits(text: &str, edits: &[(&Removal, &str)]) -> String {
    let mut comment: BTreeMap<usize, (Option<String>, &str)> = BTreeMap::new();
    let mut delete_lines: Vec<Range<usize>> = Vec::new();
    let mut delete_bytes: Vec<Range<usize>> = Vec::new();
    for &(r, name) in edits {
        match &r.edit {
            Edit::Comment(lines) => comment.extend(lines.iter().map(|(i, secret)| (*i, (secret.clone(), name)))),
            Edit::DeleteLines(range) => delete_lines.push(range.clone()),
            Edit::DeleteBytes(range) => delete_bytes.push(range.clone()),
        }
    }
    let mut text = text.to_string();
    delete_bytes.sort_by_key(|r| std::cmp::Reverse(r.start));
    delete_bytes.dedup();
    for r in delete_bytes {
        text.replace_range(r, "");
    }
    // A removed line becomes a no-op command, not a bare comment: an `if` branch that held
    // only `MLFLOW_TRACKING_*` lines must stay valid shell (`true` is a builtin in sh, bash,
    // zsh and fish). PowerShell takes empty blocks, and `true` is not a command there.
    let powershell = edits.first().is_some_and(|(r, _)| r.path.extension().is_some_and(|e| e == "ps1"));
    let noop = if powershell { "" } else { "true " };
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if delete_lines.iter().any(|r| r.contains(&i)) {
            continue;
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        match comment.get(&i) {
            Some((Some(var), name)) => {
                let nl = if line.ends_with('\n') { "\n" } else { "" };
                out.push_str(&format!(
                    "{indent}{noop}# {var} removed by `mlflow-login import` (server \"{name}\" is in the keychain; the old line is in the backup){nl}"
                ));
            }
            Some((None, name)) => {
                out.push_str(&format!(
                    "{indent}{noop}# (mlflow-login import, server \"{name}\") {}",
                    line.trim_start()
                ));
            }
            None => out.push_str(line),
        }
    }
    out
}

impl std::fmt::Debug for Removal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Removal").field("path", &self.path).field("edit", &self.edit).finish_non_exhaustive()
    }
}
