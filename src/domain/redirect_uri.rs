use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use super::ParseError;

/// A registered redirect URI: absolute, no fragment (RFC 6749 3.1.2), https or http on a loopback
/// host, or a private-use scheme for native apps (RFC 8252). Compared by exact string, except
/// the port of a loopback IP literal (`matches_request`).
///
/// Serialised as the plain string; deserialising parses it again, so stored JSON never yields an
/// unchecked value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let url =
            Url::parse(value).map_err(|e| ParseError(format!("invalid redirect URI {value:?}: {e}")))?;
        if url.fragment().is_some() {
            return Err(ParseError(format!(
                "invalid redirect URI {value:?}: it must not contain a fragment"
            )));
        }
        let ok = match url.scheme() {
            "https" => url.host().is_some(),
            "http" => {
                matches!(url.host(), Some(url::Host::Domain("localhost")))
                    || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
                    || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
            }
            // Private-use schemes of native apps contain a dot (reverse domain name).
            scheme => scheme.contains('.'),
        };
        if !ok {
            return Err(ParseError(format!(
                "invalid redirect URI {value:?}: use https, http on localhost, or a reverse-domain app scheme"
            )));
        }
        Ok(Self(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The redirect URI a request may use with this registration: the exact string, or, for a
    /// native app (`native`: a public client) when this is an `http` loopback IP literal, the same
    /// URI on any port (RFC 8252 7.3: a native app listens on whatever port is free). `localhost`
    /// stays exact, as RFC 8252 8.3 advises; so does every URI of a confidential client, which
    /// is a server with a port of its own. The answer is the requested URI, port included, which
    /// the token request must repeat.
    pub fn matches_request(&self, requested: &str, native: bool) -> Option<RedirectUri> {
        if self.0 == requested {
            return Some(self.clone());
        }
        if !native {
            return None;
        }
        let registered = Url::parse(&self.0).ok()?;
        let loopback_ip = registered.scheme() == "http"
            && match registered.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                _ => false,
            };
        if !loopback_ip {
            return None;
        }
        let port = Url::parse(requested).ok()?.port();
        let mut expected = registered;
        expected.set_port(port).ok()?;
        // Compared as strings, so only the port may differ, and only a URI written as the
        // registered one is (no alternative spellings of the same path or host).
        (expected.as_str() == requested).then(|| RedirectUri::parse(requested).ok()).flatten()
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, ParseError> {
        Self::parse(&value)
    }
}

impl From<RedirectUri> for String {
    fn from(value: RedirectUri) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        for good in [
            "https://portal.example.org/callback",
            "http://localhost:3000/callback",
            "http://127.0.0.1:9/cb",
            "org.example.app:/callback",
        ] {
            assert!(RedirectUri::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "not a url",
            "/relative",
            "http://portal.example.org/callback",
            "https://portal.example.org/cb#frag",
            "javascript:alert(1)",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_ip_literals_match_on_any_port_and_nothing_else_does() {
        let v4 = RedirectUri::parse("http://127.0.0.1/cb").unwrap();
        assert_eq!(
            v4.matches_request("http://127.0.0.1:51234/cb", true).unwrap().as_str(),
            "http://127.0.0.1:51234/cb"
        );
        assert!(v4.matches_request("http://127.0.0.1/cb", true).is_some());
        let v6 = RedirectUri::parse("http://[::1]:8080/cb").unwrap();
        assert!(v6.matches_request("http://[::1]:1/cb", true).is_some());
        for other in [
            "http://127.0.0.1:51234/other",
            "http://127.0.0.1:51234/cb?x=1",
            "http://127.0.0.2:51234/cb",
            "http://[::1]:51234/cb",
            "https://127.0.0.1:51234/cb",
            "http://127.0.0.1:51234/x/../cb",
        ] {
            assert!(v4.matches_request(other, true).is_none(), "{other}");
        }
        let localhost = RedirectUri::parse("http://localhost/cb").unwrap();
        assert!(localhost.matches_request("http://localhost:51234/cb", true).is_none());
        let web = RedirectUri::parse("https://portal.example.org/cb").unwrap();
        assert!(web.matches_request("https://portal.example.org:8443/cb", true).is_none());
        assert!(v4.matches_request("http://127.0.0.1:51234/cb", false).is_none(), "a confidential client");
        assert!(v4.matches_request("http://127.0.0.1/cb", false).is_some());
    }

    #[test]
    fn serialises_as_the_plain_string_and_parses_back() {
        let uri = RedirectUri::parse("https://portal.example.org/cb").unwrap();
        assert_eq!(serde_json::to_string(&uri).unwrap(), r#""https://portal.example.org/cb""#);
        assert_eq!(serde_json::from_str::<RedirectUri>(r#""https://portal.example.org/cb""#).unwrap(), uri);
        assert!(serde_json::from_str::<RedirectUri>(r#""http://portal.example.org/cb""#).is_err());
    }
}
