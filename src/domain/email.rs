use super::ParseError;

/// An email address, trimmed and lower-cased so that it compares case-insensitively.
/// The check is deliberately loose (one `@`, something on both sides, a dot in the domain):
/// the only real proof of an address is a message that arrives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let normalized = value.trim().to_lowercase();
        let valid = match normalized.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !normalized.chars().any(char::is_whitespace)
                    && normalized.len() <= 254
            }
            None => false,
        };
        if valid { Ok(Self(normalized)) } else { Err(ParseError(format!("invalid email address {value:?}"))) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_space() {
        assert_eq!(Email::parse("  An.Patient@Example.ORG ").unwrap().as_str(), "an.patient@example.org");
    }

    #[test]
    fn refuses_malformed() {
        for bad in ["", "no-at", "@example.org", "a@b", "a@b@c.org", "a b@c.org", "a@.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
