//! The frame around every page's content: language, tenant name, theme, and the language switcher.

use serde::Serialize;

use crate::views::{ThemeLinks, i18n};

/// What every page shows around its content.
#[derive(Serialize, Clone)]
pub struct Frame {
    pub lang: &'static str,
    pub tenant_name: Option<String>,
    /// The theme that renders the page (its templates, stylesheet, colours, logo).
    pub theme: String,
    pub stylesheet: String,
    pub colours: Option<String>,
    pub logo: Option<String>,
    pub favicon: Option<String>,
    /// The switcher: this page in each language (empty on pages answering a form).
    pub languages: Vec<LanguageLink>,
}

#[derive(Serialize, Clone)]
pub struct LanguageLink {
    pub code: &'static str,
    /// The language's name in itself ("Nederlands"), so everyone finds their own.
    pub name: &'static str,
    pub url: String,
    pub current: bool,
}

impl Frame {
    pub fn new(lang: &'static str, tenant_name: Option<String>, links: ThemeLinks) -> Self {
        Self {
            lang,
            tenant_name: tenant_name.or(links.display_name),
            theme: links.name,
            stylesheet: links.stylesheet,
            colours: links.colours,
            logo: links.logo,
            favicon: links.favicon,
            languages: Vec::new(),
        }
    }

    /// A frame for sample renders (tests, `tessera theme check`).
    pub fn sample(lang: &'static str, links: ThemeLinks) -> Self {
        let mut frame = Self::new(lang, Some("Kliniek <West>".into()), links);
        frame.languages = i18n::SUPPORTED
            .iter()
            .map(|code| LanguageLink {
                code,
                name: i18n::native_name(code),
                url: format!("/t/x/login/abc?lang={code}"),
                current: *code == lang,
            })
            .collect();
        frame
    }
}
