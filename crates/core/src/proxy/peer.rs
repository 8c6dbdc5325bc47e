//! Whose process is at the other end of a loopback connection.
//!
//! Linux: the kernel knows every socket's owner. It is asked for the one socket whose local
//! address is the connection's peer address and whose remote address is ours, over
//! netlink (`NETLINK_SOCK_DIAG`, as `ss` asks: one lookup by address, tens of
//! microseconds). Where netlink does not answer, the socket tables (`/proc/net/tcp`, as
//! identd reads them) are searched instead: the kernel writes them by walking its whole
//! connection hash, several milliseconds on a machine with much memory, however few
//! sockets there are.
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
    let found = sock_diag::owner(peer, local).or_else(|| {
        ["/proc/net/tcp", "/proc/net/tcp6"]
            .iter()
            .filter_map(|table| std::fs::read_to_string(table).ok())
            .find_map(|table| owner(&table, peer, local))
    });
    found == Some(me)
}

/// The kernel's socket lookup over netlink (`sock_diag(7)`): one request naming the socket
/// by its four addresses, one answer with its owner. Plain bytes in the kernel's layout
/// (`linux/inet_diag.h`), through nix's safe socket calls.
#[cfg(target_os = "linux")]
pub(crate) mod sock_diag {
    use std::net::{IpAddr, SocketAddr};
    use std::os::fd::AsRawFd as _;

    use nix::sys::socket::{
        AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto, socket,
    };

    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLM_F_REQUEST: u16 = 1;
    /// `nlmsghdr` (16 bytes) and `inet_diag_req_v2` (56).
    const REQUEST_LEN: usize = 72;
    /// Where `idiag_uid` lies in the answer: after the `nlmsghdr` and 64 bytes of
    /// `inet_diag_msg` (family, state, timer, retrans; the socket id, 48; expires, rqueue,
    /// wqueue).
    const UID_AT: usize = 16 + 64;

    /// The owner of the TCP socket at `peer` connected to `local`, if the kernel finds it.
    pub(crate) fn owner(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
        let fd =
            socket(AddressFamily::Netlink, SockType::Datagram, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkSockDiag)
                .ok()?;
        let request = request(peer, local)?;
        sendto(fd.as_raw_fd(), &request, &NetlinkAddr::new(0, 0), MsgFlags::empty()).ok()?;
        let mut answer = [0u8; 512];
        // The kernel answers before `sendto` returns; a system that does not (an emulation
        // with the socket but not the answer) leaves nothing to wait for.
        let n = recv(fd.as_raw_fd(), &mut answer, MsgFlags::MSG_DONTWAIT).ok()?;
        uid_of(&answer[..n], peer, local)
    }

    /// The request for one socket: its family, TCP, any state, its address and port
    /// (`peer`) and its remote's (`local`), no interface, no cookie.
    pub(crate) fn request(peer: SocketAddr, local: SocketAddr) -> Option<[u8; REQUEST_LEN]> {
        let family: u8 = match (peer.ip(), local.ip()) {
            (IpAddr::V4(_), IpAddr::V4(_)) => libc_consts::AF_INET,
            (IpAddr::V6(_), IpAddr::V6(_)) => libc_consts::AF_INET6,
            _ => return None,
        };
        let mut r = [0u8; REQUEST_LEN];
        r[0..4].copy_from_slice(&(REQUEST_LEN as u32).to_ne_bytes());
        r[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        r[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        // seq and pid (8..16): 0, the kernel answers this socket.
        r[16] = family;
        r[17] = libc_consts::IPPROTO_TCP;
        r[20..24].copy_from_slice(&u32::MAX.to_ne_bytes()); // every state
        r[24..26].copy_from_slice(&peer.port().to_be_bytes());
        r[26..28].copy_from_slice(&local.port().to_be_bytes());
        let octets = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        let (src, dst) = (octets(peer.ip()), octets(local.ip()));
        r[28..28 + src.len()].copy_from_slice(&src);
        r[44..44 + dst.len()].copy_from_slice(&dst);
        // idiag_if (60..64): 0; idiag_cookie (64..72): INET_DIAG_NOCOOKIE.
        r[64..72].fill(0xff);
        Some(r)
    }

    /// The uid in the kernel's answer, if it is the connected socket asked for: `None` for
    /// an error answer (no such socket), one too short, one of another state (a lookup by
    /// address falls back to a listening socket on the client's address, and a closed
    /// socket's TIME_WAIT entry has no owner) or of other addresses.
    pub(crate) fn uid_of(answer: &[u8], peer: SocketAddr, local: SocketAddr) -> Option<u32> {
        const LISTEN: u8 = 10;
        const TIME_WAIT: u8 = 6;
        const NEW_SYN_RECV: u8 = 12;
        let len = u32::from_ne_bytes(answer.get(0..4)?.try_into().ok()?) as usize;
        let kind = u16::from_ne_bytes(answer.get(4..6)?.try_into().ok()?);
        if kind != SOCK_DIAG_BY_FAMILY || len < UID_AT + 4 || len > answer.len() {
            return None;
        }
        let (family, state) = (answer[16], answer[17]);
        if matches!(state, LISTEN | TIME_WAIT | NEW_SYN_RECV) {
            return None;
        }
        // The socket id: source port, destination port (big-endian), source and destination
        // addresses (16 bytes each; an IPv6 socket shows an IPv4 peer IPv4-mapped).
        let address = |addr: SocketAddr| -> Option<[u8; 16]> {
            let mut out = [0u8; 16];
            match (addr.ip(), family) {
                (IpAddr::V4(v4), libc_consts::AF_INET) => out[..4].copy_from_slice(&v4.octets()),
                (IpAddr::V4(v4), libc_consts::AF_INET6) => out = v4.to_ipv6_mapped().octets(),
                (IpAddr::V6(v6), libc_consts::AF_INET6) => out = v6.octets(),
                _ => return None,
            }
            Some(out)
        };
        let same = answer[20..22] == peer.port().to_be_bytes()
            && answer[22..24] == local.port().to_be_bytes()
            && answer[24..40] == address(peer)?
            && answer[40..56] == address(local)?;
        if !same {
            return None;
        }
        Some(u32::from_ne_bytes(answer.get(UID_AT..UID_AT + 4)?.try_into().ok()?))
    }

    /// The kernel's numbers (`AF_INET`, `AF_INET6`, `IPPROTO_TCP`), fixed by its ABI.
    mod libc_consts {
        pub(super) const AF_INET: u8 = 2;
        pub(super) const AF_INET6: u8 = 10;
        pub(super) const IPPROTO_TCP: u8 = 6;
    }
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
