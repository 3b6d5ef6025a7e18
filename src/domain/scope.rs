/// A space-separated scope list (RFC 6749 3.3), de-duplicated, order kept.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Scope(Vec<String>);

impl Scope {
    pub fn parse(value: &str) -> Self {
        let mut items: Vec<String> = Vec::new();
        for item in value.split(' ').filter(|s| !s.is_empty()) {
            if !items.iter().any(|i| i == item) {
                items.push(item.to_string());
            }
        }
        Self(items)
    }

    pub fn contains(&self, item: &str) -> bool {
        self.0.iter().any(|i| i == item)
    }

    /// Only the items tessera knows, so unknown scopes are dropped rather than granted.
    pub fn retain_known(&self, known: &[&str]) -> Self {
        Self(self.0.iter().filter(|i| known.contains(&i.as_str())).cloned().collect())
    }

    pub fn as_string(&self) -> String {
        self.0.join(" ")
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
}
