//! Whose process is at the other end of a loopback connection.
//!
//! Linux: the kernel's TCP socket tables (`/proc/net/tcp`, as identd reads it) list every
//! socket of this network namespace with its owner's uid; the client's socket is the one
//! whose local address is the connection's peer address and whose remote address is ours.
//! A client on an IPv6 dual-stack socket (Java and .NET make them by default) that connects
//! to 127.0.0.1 is listed only in `/proc/net/tcp6`, under the IPv4-mapped addresses
//! (`::ffff:127.0.0.1`), so both tables are searched. A connection whose owner is not this
//! process's user, or cannot be found, is refused.
//!
//! Other systems have no such table readable without privileges; there the secret and the
//! cookie are the only proof (see docs/proxy.md).

use std::net::SocketAddr;

/// Whether the connection from `peer` to `local` belongs to this process's own user.
#[cfg(target_os = "linux")]
pub(crate) fn is_own_user(peer: SocketAddr, local: SocketAddr) -> bool {
    let me = nix::unistd::geteuid().as_raw();
    let found = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .find_map(|table| owner(&table, peer, local));
    found == Some(me)
}

/// Elsewhere: no check (documented).
#[cfg(not(target_os = "linux"))]
pub(crate) fn is_own_user(_peer: SocketAddr, _local: SocketAddr) -> bool {
    true
}

/// The uid owning the socket `peer` -> `local` in a `/proc/net/tcp` or `/proc/net/tcp6`
/// table (in the latter an IPv4 pair is looked up by its IPv4-mapped addresses).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn owner(table: &str, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let wanted = [false, true].map(|six| (hex_addr(peer, six), hex_addr(local, six)));
    table.lines().skip(1).find_map(|line| {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (l, r, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
        let is_it =
            |(want_l, want_r): &(String, String)| l.eq_ignore_ascii_case(want_l) && r.eq_ignore_ascii_case(want_r);
        wanted.iter().any(is_it).then(|| uid.parse().ok())?
    })
}

/// An address as a table writes it: each 4 bytes of the address as the host's
/// native-endian u32, then the port, all in hex. `six`: for `/proc/net/tcp6`, where an IPv4
/// address appears IPv4-mapped.
fn hex_addr(addr: SocketAddr, six: bool) -> String {
    let octets = match addr.ip() {
        std::net::IpAddr::V4(v4) if six => v4.to_ipv6_mapped().octets().to_vec(),
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let words: String =
        octets.chunks(4).map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))).collect();
    format!("{words}:{:04X}", addr.port())
}
