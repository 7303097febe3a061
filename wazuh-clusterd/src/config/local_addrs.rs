//! Which IP addresses belong to this machine: how a node finds itself in a 3.x `<nodes>` list.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, UdpSocket};

/// Answers whether an IP address is one of this machine's own.
///
/// The validation takes this as a parameter so that tests can inject a fixed set of addresses.
pub trait LocalAddresses {
    /// True when `ip` is an address of this machine.
    fn is_local(&self, ip: IpAddr) -> bool;
}

impl LocalAddresses for [IpAddr] {
    fn is_local(&self, ip: IpAddr) -> bool {
        self.contains(&ip)
    }
}

impl<const N: usize> LocalAddresses for [IpAddr; N] {
    fn is_local(&self, ip: IpAddr) -> bool {
        self.contains(&ip)
    }
}

impl LocalAddresses for HashSet<IpAddr> {
    fn is_local(&self, ip: IpAddr) -> bool {
        self.contains(&ip)
    }
}

/// The real machine: an address is local when a UDP socket can be bound to it.
///
/// The kernel refuses to bind an address that no interface has (`EADDRNOTAVAIL`), so this needs
/// no interface listing, no privilege and sends nothing. On Linux every address of
/// `127.0.0.0/8` is local, which lets several nodes run on one machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemAddresses;

impl LocalAddresses for SystemAddresses {
    fn is_local(&self, ip: IpAddr) -> bool {
        !ip.is_unspecified() && UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_local_and_a_documentation_address_is_not() {
        assert!(SystemAddresses.is_local("127.0.0.1".parse().unwrap()));
        assert!(!SystemAddresses.is_local("192.0.2.1".parse().unwrap()));
        assert!(!SystemAddresses.is_local("0.0.0.0".parse().unwrap()));
    }
}
