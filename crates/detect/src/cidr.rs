//! IPv4/IPv6 network ranges for the `cidr` modifier.

use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `10.0.0.0/8`, `fe80::/10`, or a bare address (a full-length prefix).
    pub fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// The mask of the prefix over an address of `bits` bits.
    fn mask(&self, bits: u32) -> u128 {
        let all = if bits == 32 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        all.checked_shl(bits - u32::from(self.prefix))
            .map_or(0, |m| m & all)
    }

    /// The network address: the address with every bit after the prefix cleared.
    pub fn network(&self) -> IpNet {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let m = self.mask(32) as u32;
                IpAddr::V4((u32::from(a) & m).into())
            }
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & self.mask(128)).into()),
        };
        IpNet {
            addr,
            prefix: self.prefix,
        }
    }

    /// Whether the address has bits set after the prefix (`10.1.2.3/8`): not a
    /// network address. The `cidr` modifier rejects such values, as pySigma does
    /// (Python's `ip_network` is strict).
    pub fn host_bits_set(&self) -> bool {
        self.network().addr != self.addr
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(*a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(*a) & mask
            }
            // An IPv4-mapped IPv6 address counts as its IPv4 form.
            (IpAddr::V4(_), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(&IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Parses an event value as an IP address (tolerates a `:port` suffix on IPv4 and
/// `[v6]:port`).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let n = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(n.contains(&"10.255.1.2".parse().unwrap()));
        assert!(!n.contains(&"11.0.0.1".parse().unwrap()));
        assert!(n.contains(&"::ffff:10.1.1.1".parse().unwrap()));
        let all = IpNet::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(&"8.8.8.8".parse().unwrap()));
        let v6 = IpNet::parse("fe80::/10").unwrap();
        assert!(v6.contains(&"fe80::1".parse().unwrap()));
        assert!(!v6.contains(&"2001:db8::1".parse().unwrap()));
        assert!(IpNet::parse("10.0.0.0/33").is_none());
        assert!(!n.host_bits_set());
        let loose = IpNet::parse("10.1.2.3/8").unwrap();
        assert!(loose.host_bits_set());
        assert_eq!(loose.network().to_string(), "10.0.0.0/8");
        assert!(IpNet::parse("fe80::1/10").unwrap().host_bits_set());
        assert_eq!(
            IpNet::parse("fe80::1/10").unwrap().network().to_string(),
            "fe80::/10"
        );
        assert!(!IpNet::parse("10.1.2.3").unwrap().host_bits_set());
        assert!(!IpNet::parse("0.0.0.0/0").unwrap().host_bits_set());
        assert!(IpNet::parse("1.0.0.0/0").unwrap().host_bits_set());
        assert!(IpNet::parse("nonsense").is_none());
        assert_eq!(parse_ip("1.2.3.4:80"), "1.2.3.4".parse().ok());
        assert_eq!(parse_ip("[::1]:80"), "::1".parse().ok());
    }
}
