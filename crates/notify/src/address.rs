//! Which URLs kinoflow may call. A callback URL that resolves to a loopback,
//! private, link-local or otherwise internal address could make the server
//! reach what only it can reach; such URLs are refused unless the operator
//! allows them. The check runs when the URL is given and again before each
//! delivery, and the delivery connects to the addresses that were checked,
//! so a name that changes its answer in between gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::Url;

/// The longest URL accepted.
const MAX_URL_LEN: usize = 2048;
/// How long the name of a URL's host may take to resolve.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// A URL that may be called, with the addresses it resolved to.
#[derive(Debug, Clone)]
pub struct CheckedUrl {
    pub url: Url,
    pub host: String,
    pub addresses: Vec<SocketAddr>,
}

/// Parses and resolves `text`; refuses what is not http(s), and internal
/// addresses unless `allow_private`. The error is a sentence for the user.
pub async fn check_url(text: &str, allow_private: bool) -> Result<CheckedUrl, String> {
    if text.len() > MAX_URL_LEN {
        return Err(format!("the URL is longer than {MAX_URL_LEN} characters"));
    }
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the URL must start with http:// or https://, not {}:",
            url.scheme()
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| "the URL has no host".to_owned())?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let lookup = tokio::net::lookup_host((host.as_str(), port));
    let addresses: Vec<SocketAddr> = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
        .await
        .map_err(|_| {
            format!(
                "the host {host} did not resolve within {} s",
                LOOKUP_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("the host {host} cannot be resolved: {e}"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("the host {host} has no address"));
    }
    if !allow_private {
        if let Some(internal) = addresses.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "the host {host} resolves to {}, an internal address; kinoflow calls only public \
                 addresses unless the operator sets KINOFLOW_WEBHOOK_ALLOW_PRIVATE=true",
                internal.ip()
            ));
        }
    }
    Ok(CheckedUrl {
        url,
        host,
        addresses,
    })
}

/// Whether `ip` is an address on the public Internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

/// The IPv4 address an IPv6 address stands for, in the forms that reach
/// one: mapped (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let last_two = || Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if is_v4_compatible(&s, ip) || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(last_two())
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])))
    } else {
        None
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared_cgnat = a == 100 && (64..128).contains(&b);
    let benchmarking = a == 198 && (b == 18 || b == 19);
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        || shared_cgnat
        || benchmarking)
}

/// `::a.b.c.d`, which `::1` and `::` are not.
fn is_v4_compatible(segments: &[u16; 8], ip: Ipv6Addr) -> bool {
    segments[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified()
}

/// Besides the plainly internal ranges, those whose traffic a translator or
/// tunnel may deliver to an IPv4 address of its choosing: IPv4-translated
/// (`::ffff:0:0/96`), local-use NAT64 (`64:ff9b:1::/48`) and Teredo
/// (`2001::/32`) are not public either.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let unique_local = s[0] & 0xfe00 == 0xfc00;
    let link_local = s[0] & 0xffc0 == 0xfe80;
    let site_local = s[0] & 0xffc0 == 0xfec0;
    let documentation = s[..2] == [0x2001, 0x0db8];
    let ipv4_translated = s[..6] == [0, 0, 0, 0, 0xffff, 0];
    let local_nat64 = s[..3] == [0x64, 0xff9b, 1];
    let teredo = s[..2] == [0x2001, 0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || site_local
        || documentation
        || ipv4_translated
        || local_nat64
        || teredo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:0101::1",
            "fec0::1",
            "::ffff:0:7f00:1",
            "::ffff:0:808:808",
            "64:ff9b:1::a00:1",
            "64:ff9b:1:ffff::808:808",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
            "2001:4860:4860::8888",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn loopback_urls_are_refused_unless_allowed() {
        let refused = check_url("http://127.0.0.1:9/hook", false)
            .await
            .unwrap_err();
        assert!(refused.contains("internal address"), "{refused}");
        let refused = check_url("http://localhost:9/hook", false)
            .await
            .unwrap_err();
        assert!(refused.contains("internal address"), "{refused}");
        let refused = check_url("http://[::1]:9/hook", false).await.unwrap_err();
        assert!(refused.contains("internal address"), "{refused}");
        assert!(check_url("http://127.0.0.1:9/hook", true).await.is_ok());
    }

    #[tokio::test]
    async fn only_http_urls_are_called() {
        let refused = check_url("ftp://example.com/x", true).await.unwrap_err();
        assert!(refused.contains("http://"), "{refused}");
        assert!(check_url("not a url", true).await.is_err());
    }
}
