use std::fmt;

use serde::{Deserialize, Serialize};

use super::ParseError;

/// A client identifier: 1-100 visible ASCII characters without spaces (RFC 6749 allows any
/// VSCHAR; we keep to what survives URLs, forms and Basic auth unescaped).
///
/// Serialised as the plain string; deserialising parses it again, so stored JSON never yields an
/// unchecked value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let ok = (1..=100).contains(&value.len())
            && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'));
        if ok {
            Ok(Self(value.to_string()))
        } else {
            Err(ParseError(format!(
                "invalid client id {value:?}: use 1-100 letters, digits, '-', '_', '.', '~'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClientId {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, ParseError> {
        Self::parse(&value)
    }
}

impl From<ClientId> for String {
    fn from(value: ClientId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        assert!(ClientId::parse("portal-app_1").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse("a:b").is_err());
    }

    #[test]
    fn serialises_as_the_plain_string_and_parses_back() {
        let id = ClientId::parse("portal").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""portal""#);
        assert_eq!(serde_json::from_str::<ClientId>(r#""portal""#).unwrap(), id);
        assert!(serde_json::from_str::<ClientId>(r#""a b""#).is_err());
    }
}
