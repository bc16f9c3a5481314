//! Where a request comes from, for the limits per client.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The peer address of the request's connection, when the server was built
/// to record it (`serve` does; a router used without connect info does not,
/// and then no per-client limit applies).
pub struct ClientNetwork(Option<IpAddr>);

impl ClientNetwork {
    /// The network to count the client's attempts under: its IPv4 address,
    /// or the /64 of its IPv6 address, since one host commonly holds a whole
    /// /64 and could otherwise use a fresh address for each attempt.
    pub fn network(&self) -> Option<IpAddr> {
        self.0.map(|ip| match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & (u128::MAX << 64);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
            v4 => v4,
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientNetwork {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(ip: &str) -> IpAddr {
        ClientNetwork(Some(ip.parse().unwrap())).network().unwrap()
    }

    #[test]
    fn an_ipv6_client_counts_as_its_64() {
        assert_eq!(network("2001:db8:1:2:3:4:5:6"), network("2001:db8:1:2::9"));
        assert_ne!(network("2001:db8:1:2::1"), network("2001:db8:1:3::1"));
        assert_eq!(network("::ffff:192.0.2.7"), network("192.0.2.7"));
        assert_ne!(network("192.0.2.7"), network("192.0.2.8"));
        assert_eq!(ClientNetwork(None).network(), None);
    }
}
