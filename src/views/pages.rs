//! One typed context per page, so a template never sees a missing variable.

use serde::Serialize;

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
    pub fn new(lang: &'static str, tenant_name: Option<String>, links: super::ThemeLinks) -> Self {
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
    pub fn sample(lang: &'static str, links: super::ThemeLinks) -> Self {
        let mut frame = Self::new(lang, Some("Kliniek <West>".into()), links);
        frame.languages = super::i18n::SUPPORTED
            .iter()
            .map(|code| LanguageLink {
                code,
                name: super::i18n::native_name(code),
                url: format!("/t/x/login/abc?lang={code}"),
                current: *code == lang,
            })
            .collect();
        frame
    }
}

#[derive(Serialize)]
pub struct LoginPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub email: String,
    pub error: Option<String>,
    /// "Sign in with a passkey".
    pub passkey: Option<WebauthnForm>,
}

/// A form whose button runs a WebAuthn ceremony through tessera's script.
#[derive(Serialize, Clone)]
pub struct WebauthnForm {
    /// Where the script asks for a challenge (POST, answers JSON).
    pub begin_url: String,
    /// Where the form posts the browser's answer.
    pub action: String,
    /// The script's address.
    pub script: String,
}

#[derive(Serialize)]
pub struct ErrorPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub title: String,
    pub message: String,
}

/// The second-factor step of a login.
#[derive(Serialize)]
pub struct SecondFactorPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub backup_url: String,
    pub csrf_token: String,
    pub error: Option<String>,
    /// Whether "Skip this step for one month on this device" is offered (tenant setting > 0).
    pub offer_remember: bool,
    pub remember_days: i32,
    /// For text messages: "We sent ... ending in 78" and the resend link.
    pub sms_intro: Option<String>,
    pub resend_url: Option<String>,
    /// A non-error notice ("We sent a new code").
    pub status: Option<String>,
    /// A notice that needs attention but is no input error ("wait 40 seconds").
    pub warning: Option<String>,
    /// The code form (not for security keys).
    pub code_form: bool,
    /// "Use security key", when that is the person's method or the client insists on one.
    pub security_key: Option<WebauthnForm>,
    /// The client insists on a key and the person has none: where to add one.
    pub key_missing_url: Option<String>,
    /// "No access to trusted devices?" (not when the client insists on a key).
    pub backup_allowed: bool,
}

/// Entering a mobile number (account pages).
#[derive(Serialize)]
pub struct SmsSetupPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
    pub phone: String,
    pub cancel_url: String,
}

/// Confirming a mobile number with the code sent to it.
#[derive(Serialize)]
pub struct SmsConfirmPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
    pub status: Option<String>,
    pub intro: String,
    pub cancel_url: String,
}

/// "No access to trusted devices?": the backup-code form.
#[derive(Serialize)]
pub struct BackupCodePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub back_url: String,
    pub csrf_token: String,
    pub error: Option<String>,
}

/// Setting up an authenticator app (account pages and forced enrolment).
#[derive(Serialize)]
pub struct TotpSetupPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
    /// Shown above the setup, e.g. why enrolment is required now.
    pub intro: Option<String>,
    pub setup_key: String,
    pub otpauth_uri: String,
    pub qr_data_uri: String,
    pub cancel_url: Option<String>,
    /// During forced enrolment: "Use text messages instead".
    pub sms_url: Option<String>,
}

/// A new set of backup codes, shown once.
#[derive(Serialize)]
pub struct BackupCodesPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub codes: Vec<String>,
    /// Where "Continue" posts (a login attempt) or links (the account page).
    pub continue_action: Option<String>,
    pub continue_link: Option<String>,
    pub csrf_token: String,
}

/// Allow or Deny a third-party client.
#[derive(Serialize)]
pub struct ConsentPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub client_name: String,
    /// The requested scopes in plain words.
    pub scopes: Vec<String>,
}

/// After a backup code: how many are left, then Continue.
#[derive(Serialize)]
pub struct NoticePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub backup_codes_left: Option<u64>,
    pub running_low: bool,
}

#[derive(Serialize)]
pub struct DeviceRow {
    pub id: String,
    pub browser: String,
    pub first_used: String,
    pub last_used: String,
    pub expires: String,
}

#[derive(Serialize)]
pub struct AccountPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub base: String,
    pub csrf_token: String,
    pub email: String,
    pub two_factor_on: bool,
    pub method_label: Option<String>,
    /// The masked number when text messages are the method.
    pub phone_masked: Option<String>,
    /// Security keys are the method: link to manage them.
    pub security_keys: bool,
    pub backup_codes_left: u64,
    pub running_low: bool,
    pub devices: Vec<DeviceRow>,
    pub apps: Vec<AppRow>,
    pub message: Option<String>,
}

/// The security keys page: the person's keys and the form that adds one.
#[derive(Serialize)]
pub struct SecurityKeysPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub base: String,
    pub csrf_token: String,
    pub keys: Vec<KeyRow>,
    pub add: WebauthnForm,
    pub name_max: usize,
    pub error: Option<String>,
    pub message: Option<String>,
    /// Security keys are the person's second factor now (otherwise adding one makes them so).
    pub is_method: bool,
}

#[derive(Serialize, Clone)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub added: String,
    pub last_used: Option<String>,
}

/// A third-party client the person allowed.
#[derive(Serialize)]
pub struct AppRow {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
}

#[derive(Serialize)]
pub struct MethodOption {
    pub value: &'static str,
    pub label: String,
}

#[derive(Serialize)]
pub struct MethodChoicePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub methods: Vec<MethodOption>,
    pub cancel_url: String,
}

/// A confirmation before a sensitive change.
#[derive(Serialize)]
pub struct ConfirmPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub title: String,
    pub message: String,
    pub button: String,
    pub cancel_url: String,
    /// Further hidden fields the confirmation carries along.
    pub hidden: Vec<HiddenField>,
}

#[derive(Serialize)]
pub struct HiddenField {
    pub name: &'static str,
    pub value: String,
}

#[derive(Serialize)]
pub struct PasswordChangePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
    pub cancel_url: String,
}

/// A plain message with one link onwards.
#[derive(Serialize)]
pub struct MessagePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub title: String,
    pub message: String,
    pub link_url: Option<String>,
    pub link_text: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::views::{I18n, Views};

    fn views() -> Views {
        Views::new(Arc::new(I18n::load().unwrap())).unwrap()
    }

    fn frame(lang: &'static str) -> Frame {
        Frame::sample(lang, views().links("default"))
    }

    fn samples(lang: &'static str) -> Vec<(&'static str, minijinja::Value)> {
        crate::views::samples::pages(frame(lang))
    }

    #[test]
    fn every_template_renders_in_every_language() {
        let views = Views::new(Arc::new(I18n::load().unwrap())).unwrap();
        for lang in crate::views::i18n::SUPPORTED {
            let lang: &'static str = lang;
            let login = views
                .render(
                    "login.html",
                    LoginPage {
                        frame: frame(lang),
                        action: "/t/x/login/abc".into(),
                        csrf_token: "tok".into(),
                        email: "a@b.example".into(),
                        error: Some("<script>".into()),
                        passkey: None,
                    },
                )
                .unwrap();
            assert!(login.contains(&format!("<html lang=\"{lang}\">")));
            assert!(login.contains("Kliniek &lt;West&gt;"), "auto-escaped tenant name");
            assert!(!login.contains("<script>"), "error text is escaped");
            let error = views
                .render(
                    "error.html",
                    ErrorPage { frame: frame(lang), title: "T".into(), message: "M".into() },
                )
                .unwrap();
            assert!(error.contains("role=\"alert\""));
        }
        assert_eq!(Views::template_names().count(), 19);
    }

    #[test]
    fn every_page_template_renders_with_sample_data_in_every_language() {
        let views = Views::new(Arc::new(I18n::load().unwrap())).unwrap();
        for lang in crate::views::i18n::SUPPORTED {
            for (template, context) in samples(lang) {
                let html =
                    views.render(template, context).unwrap_or_else(|e| panic!("{template} ({lang}): {e}"));
                assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{template}");
                // A message key that is missing in the catalogue would show up as the key itself.
                for (key, _) in crate::views::i18n::I18n::missing_keys() {
                    assert!(!html.contains(&key), "{template} shows the raw key {key}");
                }
            }
        }
    }

    #[test]
    fn every_key_the_templates_use_exists_in_every_language() {
        let views = Views::new(Arc::new(I18n::load().unwrap())).unwrap();
        let keys = Views::template_message_keys();
        assert!(keys.len() > 50, "found {} keys", keys.len());
        for lang in crate::views::i18n::SUPPORTED {
            for key in &keys {
                assert!(views.has_message(lang, key), "{lang} lacks {key}");
            }
        }
    }

    #[test]
    fn second_factor_pages_use_the_product_words() {
        let views = Views::new(Arc::new(I18n::load().unwrap())).unwrap();
        let all: String = samples("en").into_iter().map(|(t, c)| views.render(t, c).unwrap()).collect();
        for words in [
            ">Verification code</label>",
            ">Skip this step for one month on this device</label>",
            ">Verify</button>",
            ">No access to trusted devices?</a>",
            ">Backup code</label>",
            "alt=\"QR code\"",
            "id=\"setup-key-label\">Setup key</span>",
            "aria-label=\"Backup codes\"",
            "1 backup code left",
            "Switch off two-factor authentication",
            "Change method",
            "Change app or device",
            "Change phone number",
            "Generate new backup codes",
            ">Forget this device</button>",
            ">Forget all devices</button>",
            ">Authenticator app</label>",
            "value=\"allow\">Allow</button>",
            ">Did you not receive the verification code?</a>",
            ">Mobile phone number</label>",
            ">Confirm phone number</button>",
            "value=\"deny\" class=\"secondary\">Deny</button>",
            "autocomplete=\"one-time-code\"",
            "inputmode=\"numeric\"",
        ] {
            assert!(all.contains(words), "missing {words}");
        }
    }

    #[test]
    fn login_page_has_the_accessible_names() {
        let views = Views::new(Arc::new(I18n::load().unwrap())).unwrap();
        let html = views
            .render(
                "login.html",
                LoginPage {
                    frame: frame("en"),
                    action: "/a".into(),
                    csrf_token: "c".into(),
                    email: String::new(),
                    error: None,
                    passkey: None,
                },
            )
            .unwrap();
        for needle in [
            "<label for=\"email\">Email address</label>",
            "<label for=\"password\">Password</label>",
            "autocomplete=\"username\"",
            "autocomplete=\"current-password\"",
            ">Sign in</button>",
            "name=\"csrf_token\" value=\"c\"",
        ] {
            assert!(html.contains(needle), "missing {needle}");
        }
    }
}
