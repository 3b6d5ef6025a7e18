use std::fmt;

use serde::{Deserialize, Serialize};

/// A space-separated scope list (RFC 6749 3.3), de-duplicated, order kept. The only code that
/// knows the format: rows store the string, and are read back with `parse`.
///
/// Serialised as that same string, so stored JSON (a login attempt's request) keeps its shape.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Scope(Vec<String>);

impl Scope {
    pub fn parse(value: &str) -> Self {
        let mut scope = Self::default();
        for item in value.split(' ').filter(|s| !s.is_empty()) {
            scope.push(item);
        }
        scope
    }

    fn push(&mut self, item: &str) {
        if !self.contains(item) {
            self.0.push(item.to_string());
        }
    }

    pub fn contains(&self, item: &str) -> bool {
        self.0.iter().any(|i| i == item)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every item is also in `other` (an empty scope is a subset of anything).
    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.iter().all(|item| other.contains(item))
    }

    /// This scope's items, then those of `other` it lacks.
    pub fn union(&self, other: &Scope) -> Self {
        let mut union = self.clone();
        for item in other.iter() {
            union.push(item);
        }
        union
    }

    /// Only the items tessera knows, so unknown scopes are dropped rather than granted.
    pub fn retain_known(&self, known: &[&str]) -> Self {
        Self(self.0.iter().filter(|i| known.contains(&i.as_str())).cloned().collect())
    }

    pub fn as_string(&self) -> String {
        self.0.join(" ")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl From<String> for Scope {
    fn from(value: String) -> Self {
        Self::parse(&value)
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.as_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dedups_and_filters() {
        let scope = Scope::parse("openid  email openid foo");
        assert!(scope.contains("email"));
        assert_eq!(scope.as_string(), "openid email foo");
        assert_eq!(scope.retain_known(&["openid", "email"]).as_string(), "openid email");
    }

    #[test]
    fn subsets_and_unions() {
        let granted = Scope::parse("openid email profile");
        assert!(Scope::parse("email openid").is_subset_of(&granted));
        assert!(!Scope::parse("openid phone").is_subset_of(&granted));
        assert!(Scope::parse("").is_subset_of(&granted));
        assert!(Scope::parse("  ").is_empty());
        let union = granted.union(&Scope::parse("phone openid"));
        assert_eq!(union.to_string(), "openid email profile phone");
        assert_eq!(union.iter().collect::<Vec<_>>(), ["openid", "email", "profile", "phone"]);
    }

    #[test]
    fn serialises_as_the_plain_string() {
        let scope = Scope::parse("openid email");
        assert_eq!(serde_json::to_string(&scope).unwrap(), r#""openid email""#);
        assert_eq!(serde_json::from_str::<Scope>(r#""openid email""#).unwrap(), scope);
    }
}
