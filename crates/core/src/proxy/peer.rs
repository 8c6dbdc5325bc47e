//! Whose process is at the other end of a loopback connection.
//!
//! Linux: the kernel's TCP socket table (`/proc/net/tcp`, as identd reads it) lists every
//! socket of this network namespace with its owner's uid; the client's socket is the one
//! whose local address is the connection's peer address and whose remote address is ours.
//! A connection whose owner is not this process's user, or cannot be found, is refused.
//!
//! Other systems have no such table readable without privileges; there the secret and the
//! cookie are the only proof (see docs/proxy.md).

use std::net::SocketAddr;

/// Whether the connection from `peer` to `local` belongs to this process's own user.
#[cfg(target_os = "linux")]
pub(crate) fn is_own_user(peer: SocketAddr, local: SocketAddr) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    // The owner of /proc/self is this process's effective uid (no unsafe geteuid call).
    let Ok(me) = std::fs::metadata("/proc/self").map(|m| m.uid()) else { return false };
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else { return false };
    owner(&table, peer, local) == Some(me)
}

/// Elsewhere: no check (documented).
#[cfg(not(target_os = "linux"))]
pub(crate) fn is_own_user(_peer: SocketAddr, _local: SocketAddr) -> bool {
    true
}

/// The uid owning the socket `peer` -> `local` in a `/proc/net/tcp` table.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn owner(table: &str, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let (want_local, want_remote) = (hex_addr(peer)?, hex_addr(local)?);
    table.lines().skip(1).find_map(|line| {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (l, r, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
        (l.eq_ignore_ascii_case(&want_local) && r.eq_ignore_ascii_case(&want_remote)).then(|| uid.parse().ok())?
    })
}

/// An IPv4 address as the table writes it: the address as the host's native-endian u32,
/// then the port, both in hex.
fn hex_addr(addr: SocketAddr) -> Option<String> {
    match addr {
        SocketAddr::V4(v4) => Some(format!("{:08X}:{:04X}", u32::from_ne_bytes(v4.ip().octets()), v4.port())),
        SocketAddr::V6(_) => None,
    }
}
