//! The command line: the tray (no arguments), a window process, or `--version`; and the
//! kinds of window (their labels are the `--window` values).

/// A window of the window process. The label is also the capability's window name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// The login dialog.
    Login,
    /// The servers window.
    Servers,
}

impl WindowKind {
    /// The window label (`login`, `servers`).
    pub fn label(self) -> &'static str {
        match self {
            WindowKind::Login => "login",
            WindowKind::Servers => "servers",
        }
    }

    /// The kind with this label.
    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            "login" => Some(WindowKind::Login),
            "servers" => Some(WindowKind::Servers),
            _ => None,
        }
    }

    /// The window's title.
    pub fn title(self) -> &'static str {
        match self {
            WindowKind::Login => "Log in to MLflow",
            WindowKind::Servers => "MLflow servers",
        }
    }

    /// The window's size in logical pixels.
    pub fn size(self) -> (f64, f64) {
        match self {
            WindowKind::Login => (440.0, 520.0),
            WindowKind::Servers => (760.0, 480.0),
        }
    }
}

/// What this process is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The tray icon and menu; never creates a webview.
    Tray,
    /// A short-lived window process: opens `kind` and exits when its last window closes.
    Window {
        /// The window to open.
        kind: WindowKind,
        /// For the login dialog: the server to prefill ("Log in again").
        server: Option<String>,
    },
    /// Print the version and exit.
    Version,
    /// Print the usage and exit.
    Help,
}

/// The usage text.
pub const USAGE: &str = "\
usage: mlflow-login-tray                  start the tray icon (or open the servers window when
                                          the desktop shows no tray)
       mlflow-login-tray --window login [--server NAME]
       mlflow-login-tray --window servers
       mlflow-login-tray --version";

impl Mode {
    /// Parses the arguments (without the program name).
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Self, String> {
        let mut args = args.into_iter();
        let mut kind = None;
        let mut server = None;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--version" | "-V" => return Ok(Mode::Version),
                "--help" | "-h" => return Ok(Mode::Help),
                "--window" => {
                    let value = args.next().ok_or("--window needs a value: login or servers")?;
                    kind = Some(
                        WindowKind::from_label(&value)
                            .ok_or(format!("unknown window \"{value}\": use login or servers"))?,
                    );
                }
                "--server" => server = Some(args.next().ok_or("--server needs a server name")?),
                other => return Err(format!("unexpected argument \"{other}\"")),
            }
        }
        match (kind, server) {
            (Some(kind), server) => Ok(Mode::Window { kind, server }),
            (None, Some(_)) => Err("--server goes with --window login".into()),
            (None, None) => Ok(Mode::Tray),
        }
    }

    /// The arguments that start this mode (for spawning a window process).
    pub fn to_args(&self) -> Vec<String> {
        match self {
            Mode::Tray => Vec::new(),
            Mode::Version => vec!["--version".into()],
            Mode::Help => vec!["--help".into()],
            Mode::Window { kind, server } => {
                let mut v = vec!["--window".to_string(), kind.label().to_string()];
                if let Some(s) = server {
                    v.extend(["--server".to_string(), s.clone()]);
                }
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Mode, String> {
        Mode::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_and_round_trips() {
        assert_eq!(parse(&[]), Ok(Mode::Tray));
        assert_eq!(parse(&["--version"]), Ok(Mode::Version));
        let login = Mode::Window { kind: WindowKind::Login, server: Some("prod".into()) };
        assert_eq!(parse(&["--window", "login", "--server", "prod"]), Ok(login.clone()));
        assert_eq!(Mode::parse(login.to_args()), Ok(login));
        assert!(parse(&["--window", "nope"]).is_err());
        assert!(parse(&["--server", "x"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
