use super::ParseError;

/// A tenant's URL name: 2-40 characters of `a-z`, `0-9` and inner `-`.
/// It appears in paths and cookie names, so the alphabet is deliberately narrow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let ok_chars = value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if (2..=40).contains(&value.len()) && ok_chars && !value.starts_with('-') && !value.ends_with('-') {
            Ok(Self(value.to_string()))
        } else {
            Err(ParseError(format!(
                "invalid tenant slug {value:?}: use 2-40 lower-case letters, digits and inner hyphens"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        assert!(TenantSlug::parse("kliniek-west").is_ok());
        assert!(TenantSlug::parse("a1").is_ok());
        for bad in ["", "a", "Upper", "-x", "x-", "a_b", "a/b", "ümlaut"] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }
}
