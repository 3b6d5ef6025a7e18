//! One typed context per page, so a template never sees a missing variable.

use serde::Serialize;

/// What every page shows around its content.
#[derive(Serialize, Clone)]
pub struct Frame {
    pub lang: &'static str,
    pub tenant_name: Option<String>,
    pub stylesheet: String,
}

#[derive(Serialize)]
pub struct LoginPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Serialize)]
pub struct ErrorPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub title: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::views::{I18n, Views};

    fn frame(lang: &'static str) -> Frame {
        Frame { lang, tenant_name: Some("Kliniek <West>".into()), stylesheet: "/static/x.css".into() }
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
        assert_eq!(Views::template_names().count(), 3);
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
