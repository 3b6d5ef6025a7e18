//! The accessible names PRODUCT.md fixes ("page words"), checked in every shipped theme and
//! language: a theme that overrides a template must keep them.

use std::path::PathBuf;
use std::sync::Arc;

use super::{I18n, Views, i18n, pages, samples};

fn shipped_themes() -> Views {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("themes");
    Views::with_themes(Arc::new(I18n::load().unwrap()), Some(dir), false).unwrap()
}

/// PRODUCT.md fixes the accessible name `Forget this device` (translated); the row's browser
/// and dates are its description, in every theme that renders the account page.
#[test]
fn every_theme_names_the_forget_button_by_the_page_word() {
    let views = shipped_themes();
    for name in views.theme_names() {
        for lang in i18n::SUPPORTED {
            let frame = pages::Frame::sample(lang, views.links(&name));
            let (_, account) = samples::pages(frame).into_iter().find(|(t, _)| *t == "account.html").unwrap();
            let html = views.render("account.html", account).unwrap();
            let word = views.message(lang, "device-forget");
            let button = html.split("<button").find(|b| b.contains(&format!(">{word}</button>"))).unwrap();
            assert!(!button.contains("aria-label"), "{name} {lang}: the name is the page word: {button}");
            let about = button.split("aria-describedby=\"").nth(1).and_then(|rest| rest.split('"').next());
            let about = about.unwrap_or_else(|| panic!("{name} {lang}: no description: {button}"));
            let description = html.split(&format!("id=\"{about}\"")).nth(1).unwrap();
            let description = description.split("</").next().unwrap();
            assert!(description.contains("Firefox on Linux"), "{name} {lang}: {description}");
        }
    }
}

/// PRODUCT.md names the account page's `Change email address` a button (with its own page: the
/// field `New email address`), in every theme and language.
#[test]
fn every_theme_offers_the_email_change_button_and_field() {
    let views = shipped_themes();
    for name in views.theme_names() {
        for lang in i18n::SUPPORTED {
            let frame = pages::Frame::sample(lang, views.links(&name));
            let samples = samples::pages(frame);
            let html = |template: &str| {
                let (_, context) = samples.iter().find(|(t, _)| *t == template).unwrap();
                views.render(template, context.clone()).unwrap()
            };
            let button = format!(">{}</button>", views.message(lang, "account-change-email"));
            assert!(html("account.html").contains(&button), "{name} {lang}: {button}");
            let label = format!(">{}</label>", views.message(lang, "email-change-new"));
            assert!(html("email_change.html").contains(&label), "{name} {lang}: {label}");
        }
    }
}
