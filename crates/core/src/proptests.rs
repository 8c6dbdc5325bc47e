//! Property tests of URL normalisation and config parsing.
//!
//! `make test` runs a fixed number of cases ([`cases`], `PROPTEST_CASES` overrides);
//! `make fuzz` runs many more. The verifier's classifier has its own, against a real
//! socket, in `verify/tests.rs`.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use crate::config::{ConfigStore, Paths};
use crate::error::{Error, ErrorKind};
use crate::server::normalize_url;

/// Cases per property: `PROPTEST_CASES`, else a number small enough for every `make test`.
pub(crate) fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(64)
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() }
}

/// URL-ish text: a scheme (often http/https, in any case), maybe userinfo, a host, a port,
/// a path with slashes, and sometimes a query or fragment; or any string at all.
fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof!["[hH][tT][tT][pP][sS]?", "[a-z]{1,6}", Just(String::new())];
    let userinfo = prop_oneof![Just(String::new()), "[a-z]{1,5}@", "[a-z]{1,5}:[a-zA-Z0-9!$%]{1,8}@"];
    let host = prop_oneof!["[a-zA-Z0-9.-]{0,20}", "\\[::1\\]", "127\\.0\\.0\\.[0-9]{1,3}", "[a-zä]{1,8}\\.example"];
    let port = prop_oneof![Just(String::new()), ":[0-9]{1,6}", Just(":443".to_string()), Just(":80".to_string())];
    let path = "(/[a-zA-Z0-9%._~ -]{0,6}){0,4}/{0,3}";
    let tail = prop_oneof![Just(String::new()), "\\?[a-z=&]{0,6}", "#[a-z]{0,6}"];
    let structured = (scheme, userinfo, host, port, path, tail)
        .prop_map(|(s, u, h, p, path, t)| format!("  {s}://{u}{h}{p}{path}{t} "));
    prop_oneof![4 => structured, 1 => any::<String>()]
}

proptest! {
    #![proptest_config(config())]

    /// Never panics; what it accepts is http(s), lower-case, without credentials, query,
    /// fragment, default port or trailing slash, and normalising it again changes nothing.
    #[test]
    fn url_normalisation_is_idempotent_and_clean(input in url_like()) {
        match normalize_url(&input) {
            Ok(url) => {
                let text = url.to_string_normalized();
                let parsed = url.url();
                prop_assert!(matches!(parsed.scheme(), "http" | "https"), "{text}");
                prop_assert!(parsed.username().is_empty() && parsed.password().is_none(), "{text}");
                prop_assert!(parsed.query().is_none() && parsed.fragment().is_none(), "{text}");
                prop_assert!(!text.ends_with('/'), "{text}");
                let default_port = if parsed.scheme() == "https" { 443 } else { 80 };
                prop_assert_ne!(parsed.port(), Some(default_port), "{}", text);
                let host = parsed.host_str().unwrap();
                prop_assert_eq!(host, host.to_lowercase());
                let again = normalize_url(&text).unwrap().to_string_normalized();
                prop_assert_eq!(&again, &text);
                // The same URL typed with trailing slashes and an upper-case scheme is the same server.
                let upper = format!("{}/", text.replacen("http", "HTTP", 1));
                prop_assert_eq!(normalize_url(&upper).unwrap().to_string_normalized(), text);
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// A URL with a password is refused without the error repeating it.
    #[test]
    fn credentials_in_a_url_are_refused_and_not_echoed(
        host in "[a-z]{1,10}\\.example", user in "[a-z]{1,6}", password in "[A-Za-z0-9]{12,20}",
    ) {
        let e = normalize_url(&format!("https://{user}:{password}@{host}/mlflow")).unwrap_err();
        prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
        prop_assert!(!e.to_string().contains(&password), "{}", e);
    }
}

/// A valid config with a few servers.
fn valid_config() -> impl Strategy<Value = String> {
    let server =
        ("[a-z][a-z0-9_-]{0,8}", "[a-z]{1,8}", "[a-z]{1,6}", any::<bool>()).prop_map(|(name, host, user, tls)| {
            let extra = if tls { "insecure_tls = true\n" } else { "" };
            format!("[servers.{name}]\nurl = \"https://{host}.example/mlflow\"\nusername = \"{user}\"\n{extra}\n")
        });
    prop::collection::vec(server, 0..4).prop_map(|servers| servers.concat())
}

/// A damaged file: a valid one with bytes cut, inserted or replaced, or truncated.
fn damaged_config() -> impl Strategy<Value = String> {
    let edit = prop_oneof![
        (any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(|(a, b)| (0u8, a, b, String::new())),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>(), "[\\[\\]=\"'\\\\#\n .a-z{},\u{0}-\u{1f}é]{1,6}")
            .prop_map(|(a, b, s)| (1u8, a, b, s)),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(|(a, b)| (2u8, a, b, String::new())),
    ];
    (valid_config(), prop::collection::vec(edit, 1..4)).prop_map(|(text, edits)| {
        let mut chars: Vec<char> = text.chars().collect();
        for (kind, a, b, insert) in edits {
            let len = chars.len().max(1);
            let (i, j) = (a.index(len).min(chars.len()), b.index(len).min(chars.len()));
            let (i, j) = (i.min(j), i.max(j));
            match kind {
                0 => drop(chars.drain(i..j.min(i + 8))),
                1 => drop(chars.splice(i..i, insert.chars())),
                _ => chars.truncate(i),
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the file holds, loading it never panics; a file that is not TOML is a
    /// `Config` error naming the file and a line inside it, and is left as it was.
    #[test]
    fn config_parsing_never_panics_and_names_file_and_line(
        text in prop_oneof![2 => damaged_config(), 1 => valid_config(), 1 => any::<String>()],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = ConfigStore::new(Paths::in_dir(dir.path()));
        let file = store.paths().config_file();
        std::fs::write(&file, &text).unwrap();
        match store.load() {
            Ok(_) => {}
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::Config, "{}", e);
                let Error::Config { path, line, .. } = &e else { unreachable!() };
                prop_assert_eq!(path, &file);
                prop_assert!(e.to_string().starts_with(&file.display().to_string()), "{}", e);
                if toml::from_str::<toml::Table>(&text).is_err() {
                    let line = line.expect("a syntax error names its line");
                    prop_assert!((1..=text.lines().count() + 1).contains(&line), "line {} of {:?}", line, text);
                }
            }
        }
        prop_assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    }
}
