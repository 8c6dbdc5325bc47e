//! Backups of the files `import --remove-plaintext` changed. Each holds the file's old
//! text, password included, so it is the user's alone (0600 in a 0700 folder) and lives in
//! the config folder, not next to the file: start-up files are often links into a dotfiles
//! repository, where a backup holding the password could be committed. `doctor` lists
//! them and `import --forget-backups` deletes them, since a backup of a password never
//! expires by itself.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::config::Paths;
use crate::error::{Error, Result};

/// The folder the backups go to.
pub fn folder(paths: &Paths) -> PathBuf {
    paths.dir().join("backups")
}

/// Copies `text` (of the file `path`) to a new file in `dir`, mode 0600, named after the
/// file and the time.
pub(crate) fn write(dir: &Path, path: &Path, text: &str) -> Result<PathBuf> {
    crate::config::create_private_dir(dir)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for n in 0..100 {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let backup = dir.join(format!("{}.{now}{suffix}", name.trim_start_matches('.')));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(&backup) {
            Ok(mut f) => {
                f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| Error::io(&backup, e))?;
                return Ok(backup);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&backup, e)),
        }
    }
    Err(Error::io(path, std::io::Error::other("no free backup file name")))
}

/// The backups in `dir`, sorted (none when the folder does not exist).
pub fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_type().map_err(|e| Error::io(entry.path(), e))?.is_file() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Deletes every backup in `dir` and the folder once empty; the files deleted.
pub fn forget(dir: &Path) -> Result<Vec<PathBuf>> {
    let files = list(dir)?;
    for f in &files {
        std::fs::remove_file(f).map_err(|e| Error::io(f, e))?;
    }
    // A folder that holds something else stays as it is.
    let _ = std::fs::remove_dir(dir);
    Ok(files)
}
