//! Page rendering: one minijinja environment per theme (the default compiled in, others from the
//! themes folder), with auto-escaping, a fuel limit and a `t(key, ...)` function that reads the
//! page's `lang`. The page context's `theme` picks the environment.

pub mod budget;
pub mod i18n;
#[cfg(test)]
mod page_words;
pub mod pages;
pub mod samples;
pub mod themes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

use fluent_bundle::FluentValue;
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, State, Value};

pub use i18n::I18n;
/// A page context as the templates see it (made once, before the render leaves the async worker).
pub use minijinja::Value as PageContext;

pub(crate) const TEMPLATES: [(&str, &str); 29] = [
    ("base.html", include_str!("../../themes/default/templates/base.html")),
    ("_error_summary.html", include_str!("../../themes/default/templates/_error_summary.html")),
    ("login.html", include_str!("../../themes/default/templates/login.html")),
    ("error.html", include_str!("../../themes/default/templates/error.html")),
    ("second_factor.html", include_str!("../../themes/default/templates/second_factor.html")),
    ("backup_code.html", include_str!("../../themes/default/templates/backup_code.html")),
    ("totp_setup.html", include_str!("../../themes/default/templates/totp_setup.html")),
    ("backup_codes.html", include_str!("../../themes/default/templates/backup_codes.html")),
    ("notice.html", include_str!("../../themes/default/templates/notice.html")),
    ("account.html", include_str!("../../themes/default/templates/account.html")),
    ("method_choice.html", include_str!("../../themes/default/templates/method_choice.html")),
    ("confirm.html", include_str!("../../themes/default/templates/confirm.html")),
    ("password_change.html", include_str!("../../themes/default/templates/password_change.html")),
    ("message.html", include_str!("../../themes/default/templates/message.html")),
    ("consent.html", include_str!("../../themes/default/templates/consent.html")),
    ("sms_setup.html", include_str!("../../themes/default/templates/sms_setup.html")),
    ("sms_confirm.html", include_str!("../../themes/default/templates/sms_confirm.html")),
    ("_passkey.html", include_str!("../../themes/default/templates/_passkey.html")),
    ("security_keys.html", include_str!("../../themes/default/templates/security_keys.html")),
    ("password_forgot.html", include_str!("../../themes/default/templates/password_forgot.html")),
    ("password_reset.html", include_str!("../../themes/default/templates/password_reset.html")),
    ("email_change.html", include_str!("../../themes/default/templates/email_change.html")),
    // Emails: plain text, not escaped (`new_environment`); a theme overrides them in templates/email/.
    ("email/security_notice.txt", include_str!("../../themes/default/templates/email/security_notice.txt")),
    ("email/password_reset.txt", include_str!("../../themes/default/templates/email/password_reset.txt")),
    ("email/verify_email.txt", include_str!("../../themes/default/templates/email/verify_email.txt")),
    ("email/invitation.txt", include_str!("../../themes/default/templates/email/invitation.txt")),
    ("email/email_change.txt", include_str!("../../themes/default/templates/email/email_change.txt")),
    (
        "email/email_change_taken.txt",
        include_str!("../../themes/default/templates/email/email_change_taken.txt"),
    ),
    ("invitation.html", include_str!("../../themes/default/templates/invitation.html")),
];

pub const STYLESHEET: &str = include_str!("../../themes/default/static/style.css");

#[derive(Debug, thiserror::Error)]
#[error("template {template} failed: {source}")]
pub struct ViewError {
    template: String,
    source: Error,
}

impl ViewError {
    pub fn line(&self) -> Option<usize> {
        self.source.line()
    }
}

/// An environment with the settings every theme shares.
pub(crate) fn new_environment(catalogue: Arc<I18n>) -> Environment<'static> {
    let mut env = Environment::new();
    // Plain-text emails are not HTML: escaping would show `&amp;` in a link.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".txt") { minijinja::AutoEscape::None } else { minijinja::AutoEscape::Html }
    });
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(themes::FUEL));
    env.add_filter("join", budget::join);
    env.add_function("t", move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, Error> {
        let lang = state
            .lookup("lang")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "en".to_string());
        let mut args: Vec<(&str, FluentValue<'_>)> = Vec::new();
        let names: Vec<&str> = kwargs.args().collect();
        for name in names {
            let value: Value = kwargs.get(name)?;
            // A message may repeat its argument; a nested `t()` would then grow without bound.
            if value.as_str().map_or_else(|| value.to_string().len(), str::len) > budget::MAX_VALUE_BYTES {
                return Err(budget::too_large("a message argument"));
            }
            let fluent = match value.as_i64() {
                Some(n) => FluentValue::from(n),
                None => FluentValue::from(value.to_string()),
            };
            args.push((name, fluent));
        }
        kwargs.assert_all_used().map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
        Ok(catalogue.message(&lang, key, &args))
    });
    env
}

/// The theme a page context names (`theme`), or the default.
pub fn theme_of(context: &Value) -> String {
    context
        .get_attr("theme")
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| themes::DEFAULT.to_string())
}

/// What a page frame needs to know of its theme.
#[derive(Clone)]
pub struct ThemeLinks {
    pub name: String,
    pub display_name: Option<String>,
    pub stylesheet: String,
    pub colours: Option<String>,
    pub logo: Option<String>,
    pub favicon: Option<String>,
}

pub struct Views {
    themes: RwLock<Arc<themes::ThemeSet>>,
    i18n: Arc<I18n>,
    /// Set in development mode: edits to the themes folder apply without a restart.
    watch: Option<(PathBuf, Mutex<Option<SystemTime>>)>,
    /// Per theme, the renders that may run at once ([`budget::RENDERS_PER_THEME`]).
    turns: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl Views {
    /// Only the compiled-in default theme.
    pub fn new(i18n: Arc<I18n>) -> Result<Self, themes::ThemeError> {
        Self::with_themes(i18n, None, false)
    }

    /// The default theme and every theme in `dir`; with `reload`, edits apply without a restart.
    pub fn with_themes(
        i18n: Arc<I18n>,
        dir: Option<PathBuf>,
        reload: bool,
    ) -> Result<Self, themes::ThemeError> {
        let set = themes::ThemeSet::load(dir.as_deref(), &i18n)?;
        let watch = match (dir, reload) {
            (Some(dir), true) => {
                let stamp = themes::newest_change(&dir);
                Some((dir, Mutex::new(stamp)))
            }
            _ => None,
        };
        Ok(Self { themes: RwLock::new(Arc::new(set)), i18n, watch, turns: Mutex::new(HashMap::new()) })
    }

    /// The current theme set, reloaded first when its folder changed (development mode).
    fn themes(&self) -> Arc<themes::ThemeSet> {
        if let Some((dir, stamp)) = &self.watch {
            let newest = themes::newest_change(dir);
            let changed = stamp.lock().map(|mut last| {
                let changed = newest > *last;
                if changed {
                    *last = newest;
                }
                changed
            });
            if changed.unwrap_or(false) {
                match themes::ThemeSet::load(Some(dir), &self.i18n) {
                    Ok(set) => {
                        if let Ok(mut current) = self.themes.write() {
                            *current = Arc::new(set);
                        }
                        tracing::info!("themes reloaded");
                    }
                    Err(err) => tracing::error!(error = %err, "themes not reloaded"),
                }
            }
        }
        match self.themes.read() {
            Ok(set) => set.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn render(&self, template: &str, context: impl serde::Serialize) -> Result<String, ViewError> {
        self.render_until(
            template,
            &Value::from_serialize(&context),
            Instant::now() + budget::RENDER_DEADLINE,
        )
    }

    /// Renders within the page budget: a page over [`budget::MAX_PAGE_BYTES`], or still being
    /// written at `deadline`, fails.
    pub fn render_until(
        &self,
        template: &str,
        context: &Value,
        deadline: Instant,
    ) -> Result<String, ViewError> {
        let set = self.themes();
        let theme = set.get(&theme_of(context));
        let mut page = budget::CappedPage::new(deadline);
        let failed = |source| ViewError { template: template.to_string(), source };
        let written = theme.env.get_template(template).and_then(|t| t.render_captured_to(context, &mut page));
        let stopped = page.stopped.take();
        written.map(drop).map_err(|err| match stopped {
            Some(why) => failed(Error::new(ErrorKind::InvalidOperation, why)),
            None => failed(err),
        })?;
        String::from_utf8(page.html)
            .map_err(|_| failed(Error::new(ErrorKind::BadSerialization, "the page is not UTF-8")))
    }

    /// The renders of `theme` that may run at once; `None` for the default theme, which every
    /// tenant without a theme of its own shares and which is the operator's, not a tenant's.
    pub fn turns(&self, theme: &str) -> Option<Arc<tokio::sync::Semaphore>> {
        if theme == themes::DEFAULT {
            return None;
        }
        let mut turns = match self.turns.lock() {
            Ok(turns) => turns,
            Err(poisoned) => poisoned.into_inner(),
        };
        let turn = turns
            .entry(theme.to_string())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(budget::RENDERS_PER_THEME)));
        Some(turn.clone())
    }

    pub fn links(&self, theme: &str) -> ThemeLinks {
        let set = self.themes();
        let theme = set.get(theme);
        ThemeLinks {
            name: theme.name.clone(),
            display_name: theme.display_name.clone(),
            stylesheet: theme.stylesheet_url.clone(),
            colours: theme.colours_url.clone(),
            logo: theme.logo_url.clone(),
            favicon: theme.favicon_url.clone(),
        }
    }

    /// A static file of a theme by its content-hashed name.
    pub fn asset(&self, theme: &str, cache_name: &str) -> Option<(&'static str, Vec<u8>)> {
        let set = self.themes();
        if !set.contains(theme) {
            return None;
        }
        set.get(theme).asset(cache_name).map(|asset| (asset.content_type, asset.bytes.clone()))
    }

    pub fn theme_names(&self) -> Vec<String> {
        self.themes().names()
    }

    pub fn has_theme(&self, name: &str) -> bool {
        self.themes().contains(name)
    }

    /// Renders every page of `theme` with sample data in every language; the failures.
    pub fn check(&self, theme: &str) -> Vec<String> {
        let mut failures = Vec::new();
        for lang in i18n::SUPPORTED {
            let frame = pages::Frame::sample(lang, self.links(theme));
            let emails = crate::email::messages::samples(lang, theme);
            for (template, context) in samples::pages(frame).into_iter().chain(emails) {
                if let Err(err) = self.render(template, context) {
                    let line = err.line().map(|l| format!(" line {l}")).unwrap_or_default();
                    failures.push(format!("theme {theme}, {template}{line} ({lang}): {}", err.source));
                }
            }
        }
        failures
    }

    pub fn message(&self, lang: &str, key: &str) -> String {
        self.i18n.message(lang, key, &[])
    }

    pub fn message_with(&self, lang: &str, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        self.i18n.message(lang, key, args)
    }

    pub fn template_names() -> impl Iterator<Item = &'static str> {
        TEMPLATES.iter().map(|(name, _)| *name)
    }

    /// Every message key the templates use (`t("key"...)`).
    pub fn template_message_keys() -> Vec<&'static str> {
        let mut keys = Vec::new();
        for (_, source) in TEMPLATES {
            for part in source.split("t(\"").skip(1) {
                if let Some(key) = part.split('"').next() {
                    keys.push(key);
                }
            }
        }
        keys
    }

    pub fn has_message(&self, lang: &str, key: &str) -> bool {
        self.i18n.has_message(lang, key)
    }
}
