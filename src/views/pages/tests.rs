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
                    forgot_url: None,
                },
            )
            .unwrap();
        assert!(login.contains(&format!("<html lang=\"{lang}\">")));
        assert!(login.contains("Kliniek &lt;West&gt;"), "auto-escaped tenant name");
        assert!(!login.contains("<script>"), "error text is escaped");
        let error = views
            .render("error.html", ErrorPage { frame: frame(lang), title: "T".into(), message: "M".into() })
            .unwrap();
        assert!(error.contains("role=\"alert\""));
    }
    assert_eq!(Views::template_names().count(), 29);
}

#[test]
fn every_page_template_renders_with_sample_data_in_every_language() {
    let views = Views::new(Arc::new(I18n::load().unwrap())).unwrap();
    for lang in crate::views::i18n::SUPPORTED {
        for (template, context) in samples(lang) {
            let html = views.render(template, context).unwrap_or_else(|e| panic!("{template} ({lang}): {e}"));
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
                forgot_url: None,
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
