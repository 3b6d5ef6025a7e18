use super::ParseError;

/// A client identifier: 1-100 visible ASCII characters without spaces (RFC 6749 allows any
/// VSCHAR; we keep to what survives URLs, forms and Basic auth unescaped).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
}
