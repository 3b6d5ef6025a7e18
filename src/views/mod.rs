//! Page rendering: one minijinja environment over the default theme (compiled in), with
//! auto-escaping and a `t(key, ...)` function that reads the page's `lang`.

pub mod i18n;
pub mod pages;

use std::sync::Arc;

use fluent_bundle::FluentValue;
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, State, Value};

pub use i18n::I18n;

const TEMPLATES: [(&str, &str); 17] = [
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
];

pub const STYLESHEET: &str = include_str!("../../themes/default/static/style.css");

#[derive(Debug, thiserror::Error)]
#[error("template {template} failed: {source}")]
pub struct ViewError {
    template: String,
    source: Error,
}

pub struct Views {
    env: Environment<'static>,
    i18n: Arc<I18n>,
}

impl Views {
    pub fn new(i18n: Arc<I18n>) -> Result<Self, ViewError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|source| ViewError { template: name.to_string(), source })?;
        }
        let catalogue = i18n.clone();
        env.add_function("t", move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, Error> {
            let lang = state
                .lookup("lang")
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "en".to_string());
            let mut args: Vec<(&str, FluentValue<'_>)> = Vec::new();
            let names: Vec<&str> = kwargs.args().collect();
            for name in names {
                let value: Value = kwargs.get(name)?;
                let fluent = match value.as_i64() {
                    Some(n) => FluentValue::from(n),
                    None => FluentValue::from(value.to_string()),
                };
                args.push((name, fluent));
            }
            kwargs.assert_all_used().map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            Ok(catalogue.message(&lang, key, &args))
        });
        Ok(Self { env, i18n })
    }

    pub fn render(&self, template: &str, context: impl serde::Serialize) -> Result<String, ViewError> {
        let render = || self.env.get_template(template)?.render(Value::from_serialize(&context));
        render().map_err(|source| ViewError { template: template.to_string(), source })
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
