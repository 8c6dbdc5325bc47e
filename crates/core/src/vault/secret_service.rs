//! The common keychain read on Linux, in four D-Bus messages.
//!
//! `mlflow-login env`, `exec` and the auth plugin read one password per call, so this read
//! is the CLI's hot path. keyring 4's Secret Service store is correct but slow for it: its
//! Diffie-Hellman session set-up does two 1024-bit modular exponentiations by plain
//! square-and-multiply with a division per step and a 1024-bit exponent (about 6 ms of CPU
//! here, a third of a whole `secret-tool lookup`). This module does the same encrypted
//! exchange (`dh-ietf1024-sha256-aes128-cbc-pkcs7`, as libsecret does) with num-bigint's
//! Montgomery `modpow` and a 256-bit exponent (0.7 ms for both), on one connection:
//! Hello, OpenSession, SearchItems, GetSecrets.
//!
//! It only answers the plain cases: exactly one unlocked item, or no item at all. Anything
//! else (a locked item that needs an unlock prompt, several matches, no Secret Service, an
//! answer it does not understand) is [`Lookup::AskKeyring`], and the caller does the read
//! through keyring, which owns prompts and error reporting. Writes and deletes always go
//! through keyring. Both name items the same way: attributes `service` and `username`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use num_bigint::BigUint;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};
use zeroize::Zeroizing;

use super::EntryKey;
use crate::secret::Secret;

const BUS_NAME: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE_IFACE: &str = "org.freedesktop.Secret.Service";
const ALGORITHM: &str = "dh-ietf1024-sha256-aes128-cbc-pkcs7";

/// The second Oakley group (RFC 2409, section 6.2): the prime the Secret Service
/// specification names for this algorithm. The generator is 2.
const OAKLEY_GROUP_2: [u8; 128] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34, //
    0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74, //
    0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD, //
    0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37, //
    0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6, //
    0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED, //
    0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11, 0x7C, 0x4B, 0x1F, 0xE6, //
    0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];

/// What the fast read found.
#[derive(Debug)]
pub(super) enum Lookup {
    /// The one unlocked item's secret.
    Found(Secret),
    /// No item matches, locked or not.
    Absent,
    /// Not a plain case: read through keyring instead.
    AskKeyring,
}

/// Reads the entry's secret, or says to ask keyring.
///
/// The connection and its encrypted session are opened once per process and shared, as
/// keyring's store does, so `status --all` pays for one key exchange, not one per server.
/// A shared session that stopped working (the service restarted) is replaced once.
pub(super) fn lookup(key: &EntryKey) -> Lookup {
    let (session, fresh) = match shared() {
        Some(session) => (session, false),
        None => match Session::open() {
            Ok(session) => (share(session), true),
            Err(GiveUp) => return Lookup::AskKeyring,
        },
    };
    match session.read(key) {
        Ok(found) => found,
        Err(GiveUp) if fresh => Lookup::AskKeyring,
        Err(GiveUp) => match Session::open() {
            Ok(session) => share(session).read(key).unwrap_or(Lookup::AskKeyring),
            Err(GiveUp) => Lookup::AskKeyring,
        },
    }
}

static SHARED: Mutex<Option<Arc<Session>>> = Mutex::new(None);

fn shared() -> Option<Arc<Session>> {
    SHARED.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

fn share(session: Session) -> Arc<Session> {
    let session = Arc::new(session);
    *SHARED.lock().unwrap_or_else(PoisonError::into_inner) = Some(session.clone());
    session
}

/// Why the fast read gave up (only ever turned into [`Lookup::AskKeyring`]).
#[derive(Debug)]
struct GiveUp;

impl From<zbus::Error> for GiveUp {
    fn from(_: zbus::Error) -> Self {
        GiveUp
    }
}

impl From<zbus::zvariant::Error> for GiveUp {
    fn from(_: zbus::zvariant::Error) -> Self {
        GiveUp
    }
}

type SecretStruct = (OwnedObjectPath, Vec<u8>, Vec<u8>, String);

/// A connection to the Secret Service with an open encrypted session. The service drops
/// a client's sessions when it leaves the bus, so there is no Close round trip.
struct Session {
    conn: zbus::blocking::Connection,
    path: OwnedObjectPath,
    aes_key: Zeroizing<[u8; 16]>,
}

impl Session {
    fn open() -> Result<Self, GiveUp> {
        let conn = zbus::blocking::Connection::session()?;
        let keys = Keys::generate()?;
        let reply = call(&conn, "OpenSession", &(ALGORITHM, Value::from(keys.public_bytes())))?;
        let (server_public, path): (OwnedValue, OwnedObjectPath) = reply.body().deserialize()?;
        let server_public = Vec::<u8>::try_from(server_public)?;
        let aes_key = keys.shared_key(&server_public).ok_or(GiveUp)?;
        Ok(Self { conn, path, aes_key })
    }

    fn read(&self, key: &EntryKey) -> Result<Lookup, GiveUp> {
        let attributes = HashMap::from([("service", key.service.as_str()), ("username", key.account.as_str())]);
        let reply = call(&self.conn, "SearchItems", &attributes)?;
        let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) = reply.body().deserialize()?;
        let item = match (unlocked.as_slice(), locked.is_empty()) {
            ([], true) => return Ok(Lookup::Absent),
            ([item], true) => item,
            _ => return Ok(Lookup::AskKeyring),
        };

        let items: &[ObjectPath<'_>] = &[item.as_ref()];
        let reply = call(&self.conn, "GetSecrets", &(items, self.path.as_ref()))?;
        let mut secrets: HashMap<OwnedObjectPath, SecretStruct> = reply.body().deserialize()?;
        let (_, iv, value, _) = secrets.remove(item).ok_or(GiveUp)?;
        let mut plain = decrypt(&self.aes_key, &iv, &value).ok_or(GiveUp)?;
        // keyring stores UTF-8 passwords; anything else is keyring's error to report.
        match String::from_utf8(std::mem::take(&mut *plain)) {
            Ok(text) => Ok(Lookup::Found(Secret::new(text))),
            Err(e) => {
                drop(Zeroizing::new(e.into_bytes()));
                Ok(Lookup::AskKeyring)
            }
        }
    }
}

fn call<B>(conn: &zbus::blocking::Connection, method: &str, body: &B) -> Result<zbus::Message, GiveUp>
where
    B: serde::Serialize + zbus::zvariant::DynamicType,
{
    Ok(conn.call_method(Some(BUS_NAME), SERVICE_PATH, Some(SERVICE_IFACE), method, body)?)
}

/// Our side of the Diffie-Hellman exchange.
///
/// The private exponent has 256 bits, not the prime's 1024: an exponent of twice the
/// group's security strength is enough (NIST SP 800-56A Rev. 3, 5.6.1.1.4; RFC 7919, 5.2;
/// OpenSSL 3 sizes it so for named safe-prime groups), and this group has 80 bits. It
/// makes each exponentiation four times cheaper.
struct Keys {
    private: BigUint,
    prime: BigUint,
}

impl Keys {
    fn generate() -> Result<Self, GiveUp> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|_| GiveUp)?;
        bytes[0] |= 0x80; // a full 256 bits
        Ok(Self { private: BigUint::from_bytes_be(bytes.as_ref()), prime: BigUint::from_bytes_be(&OAKLEY_GROUP_2) })
    }

    fn public_bytes(&self) -> Vec<u8> {
        BigUint::from(2u32).modpow(&self.private, &self.prime).to_bytes_be()
    }

    /// The AES-128 key: HKDF-SHA256 (no salt, no info) of the shared secret, left-padded
    /// to the prime's 128 bytes. `None` for a public key outside 2..p-2.
    fn shared_key(&self, server_public: &[u8]) -> Option<Zeroizing<[u8; 16]>> {
        let theirs = BigUint::from_bytes_be(server_public);
        let one = BigUint::from(1u32);
        if theirs <= one || theirs >= &self.prime - &one {
            return None;
        }
        let shared = theirs.modpow(&self.private, &self.prime).to_bytes_be();
        let mut ikm = Zeroizing::new([0u8; 128]);
        ikm[128 - shared.len()..].copy_from_slice(&shared);
        drop(Zeroizing::new(shared));
        let mut okm = Zeroizing::new([0u8; 16]);
        hkdf::Hkdf::<sha2::Sha256>::new(None, ikm.as_ref()).expand(&[], okm.as_mut()).ok()?;
        Some(okm)
    }
}

/// AES-128-CBC with PKCS#7 padding; `None` when the IV or the padding is wrong.
fn decrypt(key: &[u8; 16], iv: &[u8], data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::{BlockModeDecrypt, KeyIvInit};
    let decryptor = cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv).ok()?;
    decryptor.decrypt_padded_vec::<Pkcs7>(data).ok().map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt(key: &[u8; 16], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
        use aes::cipher::block_padding::Pkcs7;
        use aes::cipher::{BlockModeEncrypt, KeyIvInit};
        cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv).unwrap().encrypt_padded_vec::<Pkcs7>(data)
    }

    #[test]
    fn both_sides_derive_the_same_key() {
        let (a, b) = (Keys::generate().unwrap(), Keys::generate().unwrap());
        let ka = a.shared_key(&b.public_bytes()).unwrap();
        let kb = b.shared_key(&a.public_bytes()).unwrap();
        assert_eq!(*ka, *kb);
        assert_ne!(*ka, [0u8; 16]);
    }

    #[test]
    fn degenerate_public_keys_are_refused() {
        let k = Keys::generate().unwrap();
        let p_minus_1 = (&k.prime - 1u32).to_bytes_be();
        for bad in [vec![], vec![0], vec![1], p_minus_1, OAKLEY_GROUP_2.to_vec()] {
            assert!(k.shared_key(&bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn decrypts_what_was_encrypted_and_refuses_bad_padding() {
        let key = [7u8; 16];
        let iv = [9u8; 16];
        for text in ["", "p", "exactly-16-bytes", "ünïcödé: pass:wörd with spaces"] {
            let sealed = encrypt(&key, &iv, text.as_bytes());
            assert_eq!(decrypt(&key, &iv, &sealed).unwrap().as_slice(), text.as_bytes());
        }
        let mut sealed = encrypt(&key, &iv, b"secret");
        *sealed.last_mut().unwrap() ^= 0xff;
        assert!(decrypt(&key, &iv, &sealed).is_none());
        assert!(decrypt(&key, &iv[..8], &encrypt(&key, &iv, b"x")).is_none());
    }

    /// Against the private gnome-keyring: what keyring writes, this reads; an absent entry
    /// is `Absent`; two matches are left to keyring.
    #[test]
    #[ignore = "needs the private keychain: run under tests/fixtures/with-keyring.sh"]
    fn real_secret_service() {
        use crate::vault::{KeyringVault, Vault, Wait};
        assert!(
            std::env::var_os("MLL_TEST_HOME").is_some(),
            "no private keychain: run under tests/fixtures/with-keyring.sh (or `make test`)"
        );
        let vault = KeyringVault::new(Wait::for_environment());
        let key = |account: &str| EntryKey {
            service: format!("mll-unit-{}:https://h.example.com", std::process::id()),
            account: account.into(),
        };
        let password = "pässwörd: exactly 32 bytes long";
        vault.set(&key("alice"), &Secret::new(password.into())).unwrap();
        match lookup(&key("alice")) {
            Lookup::Found(s) => assert_eq!(s.expose(), password),
            other => panic!("the fast read did not answer: {other:?}"),
        }
        assert!(matches!(lookup(&key("nobody")), Lookup::Absent));

        let status = std::process::Command::new("secret-tool")
            .args(["store", "--label", "twin", "service", &key("alice").service, "username", "alice", "x", "1"])
            .stdin(std::process::Stdio::null())
            .status()
            .expect("secret-tool is missing: apt-get install libsecret-tools");
        assert!(status.success());
        assert!(matches!(lookup(&key("alice")), Lookup::AskKeyring));
        let status = std::process::Command::new("secret-tool")
            .args(["clear", "service", &key("alice").service])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(matches!(lookup(&key("alice")), Lookup::Absent));
    }
}
