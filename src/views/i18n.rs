//! Fluent message catalogues (en, nl), compiled into the binary, and language negotiation:
//! `ui_locales`, then `Accept-Language`, then the tenant default.

use std::collections::HashMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

pub const SUPPORTED: [&str; 2] = ["en", "nl"];
const FALLBACK: &str = "en";

const CATALOGUES: [(&str, &str); 2] = [
    ("en", include_str!("../../locales/en/tessera.ftl")),
    ("nl", include_str!("../../locales/nl/tessera.ftl")),
];

#[derive(Debug, thiserror::Error)]
#[error("message catalogue {0} is broken: {1}")]
pub struct CatalogueError(pub &'static str, pub String);

pub struct I18n {
    bundles: HashMap<&'static str, FluentBundle<FluentResource>>,
}

impl I18n {
    pub fn load() -> Result<Self, CatalogueError> {
        let mut bundles = HashMap::new();
        for (lang, source) in CATALOGUES {
            let id: LanguageIdentifier =
                lang.parse().map_err(|_| CatalogueError(lang, "bad language id".into()))?;
            let resource = FluentResource::try_new(source.to_string())
                .map_err(|(_, errors)| CatalogueError(lang, format!("{errors:?}")))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Isolation marks would end up inside HTML attributes and plain-text SMS.
            bundle.set_use_isolating(false);
            bundle.add_resource(resource).map_err(|errors| CatalogueError(lang, format!("{errors:?}")))?;
            bundles.insert(lang, bundle);
        }
        Ok(Self { bundles })
    }

    /// The message `key` in `lang`, falling back to English, then to the key itself (a missing key
    /// is a bug the catalogue test catches; the page still renders).
    pub fn message(&self, lang: &str, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        for candidate in [lang, FALLBACK] {
            let Some(bundle) = self.bundles.get(candidate) else { continue };
            let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else { continue };
            let mut fluent_args = FluentArgs::new();
            for (name, value) in args {
                fluent_args.set(*name, value.clone());
            }
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
            return text.into_owned();
        }
        key.to_string()
    }

    pub fn has_message(&self, lang: &str, key: &str) -> bool {
        self.bundles.get(lang).is_some_and(|bundle| bundle.has_message(key))
    }

    /// Keys present in one catalogue and missing in another, as `(lang, key)`.
    pub fn missing_keys() -> Vec<(String, String)> {
        let keys_of = |source: &str| -> Vec<String> {
            source
                .lines()
                .filter_map(|line| line.split_once(" = ").map(|(k, _)| k.trim().to_string()))
                .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with(' '))
                .collect()
        };
        let mut missing = Vec::new();
        for (lang, source) in CATALOGUES {
            let own = keys_of(source);
            for (_, other) in CATALOGUES {
                for key in keys_of(other) {
                    if !own.contains(&key) && !missing.contains(&(lang.to_string(), key.clone())) {
                        missing.push((lang.to_string(), key));
                    }
                }
            }
        }
        missing
    }
}

/// A language's name in itself, for the switcher.
pub fn native_name(code: &str) -> &'static str {
    match code {
        "nl" => "Nederlands",
        _ => "English",
    }
}

/// Picks the first supported language from `ui_locales` (space-separated), then the
/// `Accept-Language` header (by q-value), then `tenant_default`.
pub fn negotiate(
    ui_locales: Option<&str>,
    accept_language: Option<&str>,
    tenant_default: &str,
) -> &'static str {
    let primary = |tag: &str| -> Option<&'static str> {
        let lang = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        SUPPORTED.iter().copied().find(|s| *s == lang)
    };
    if let Some(found) = ui_locales.and_then(|v| v.split(' ').find_map(primary)) {
        return found;
    }
    if let Some(header) = accept_language {
        let mut ranges: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .filter(|(q, _)| *q > 0.0)
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        if let Some(found) = ranges.iter().find_map(|(_, tag)| primary(tag)) {
            return found;
        }
    }
    primary(tenant_default).unwrap_or(FALLBACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_exists_in_every_language() {
        assert_eq!(I18n::missing_keys(), Vec::<(String, String)>::new());
    }

    #[test]
    fn negotiation_order() {
        assert_eq!(negotiate(Some("de nl-NL"), Some("en"), "en"), "nl");
        assert_eq!(negotiate(None, Some("de-DE,nl;q=0.8,en;q=0.5"), "en"), "nl");
        assert_eq!(negotiate(None, Some("de"), "nl"), "nl");
        assert_eq!(negotiate(None, None, "xx"), "en");
    }

    #[test]
    fn formats_arguments() {
        let i18n = I18n::load().unwrap();
        let text = i18n.message("nl", "login-throttled", &[("seconds", FluentValue::from(8))]);
        assert!(text.contains("Wacht 8 seconden"), "{text}");
        assert_eq!(i18n.message("en", "login-email", &[]), "Email address");
    }
}
