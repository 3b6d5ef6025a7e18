//! "Forgot your password?": the link arrives over SMTP, works once and for 30 minutes, replaces
//! the earlier one, ends every session, and the sign-in that asked for it continues to its client
//! with the second factor still asked. Every address gets the same page.

use std::time::{Duration, Instant};

use crate::both_backends;
use crate::email::spawn_app_mailing_to;
use crate::helpers::*;
use crate::smtp_sink::{Mail, SmtpSink};

const NEW_PASSWORD: &str = "a brand new passphrase";
const SENT: &str = "If an account exists for this address, we sent you an email with a link.";

/// Follows "Forgot your password?" from a login page and asks for a link for `email`; returns
/// the answer page.
async fn ask_for_link(
    app: &TestApp,
    browser: &reqwest::Client,
    login_url: &str,
    email: &str,
) -> (u16, String) {
    let (status, login) = app.get_html(browser, login_url).await;
    assert_eq!(status, 200);
    let href = between(&login, "<a href=\"", "\">Forgot your password?</a>")
        .replace("&amp;", "&")
        .replace("&#x2f;", "/");
    let forgot_url = app.absolute(&href);
    ask_on(app, browser, &forgot_url, email).await
}

async fn ask_on(app: &TestApp, browser: &reqwest::Client, forgot_url: &str, email: &str) -> (u16, String) {
    let (status, page) = app.get_html(browser, forgot_url).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Reset your password</h1>"), "{page}");
    assert!(page.contains(">Email address</label>"));
    assert!(page.contains(">Send reset link</button>"));
    let response = app.post_form(browser, forgot_url, &csrf_token(&page), &[("email", email)]).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The `count`th email (1-based), which must be a reset link.
async fn reset_link(sink: &SmtpSink, count: usize) -> (Mail, String) {
    let mails = sink.wait_for(count, 15).await;
    let mail = mails[count - 1].clone();
    assert_eq!(mail.header("Subject").unwrap(), "Acme Clinic: reset your password");
    let link = mail.link_with("/password/reset/");
    (mail, link)
}

/// Sets the new password on the link's page; returns the answer to the POST.
async fn set_password(
    app: &TestApp,
    browser: &reqwest::Client,
    link: &str,
    password: &str,
) -> reqwest::Response {
    let (status, page) = app.get_html(browser, link).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(">New password</label>"), "{page}");
    assert!(page.contains(">Set new password</button>"), "{page}");
    app.post_form(browser, link, &csrf_token(&page), &[("new_password", password)]).await
}

async fn a_forgotten_password_is_reset_and_the_sign_in_continues_with_the_second_factor(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    // Signed in on one browser, with the authenticator app on.
    let (old_browser, enrolled) = app.user_with_totp().await;
    let (status, _) = app.get_html(&old_browser, &format!("{}/account", app.issuer)).await;
    assert_eq!(status, 200);

    // Another browser, at the password page of a sign-in to the portal.
    let browser = firefox();
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);
    let login_url = app.open_login_page(&browser, &request).await;
    let (status, page) = ask_for_link(&app, &browser, &login_url, EMAIL).await;
    assert_eq!(status, 200);
    assert!(page.contains(SENT), "{page}");

    // The first email told of the app switched on; the second holds the link.
    let (mail, link) = reset_link(&sink, 2).await;
    assert_eq!(mail.to, vec![EMAIL.to_string()]);
    assert!(link.starts_with(&format!("{}/password/reset/", app.issuer)), "{link}");
    assert!(mail.body.contains("30 minutes"), "{}", mail.body);

    let response = set_password(&app, &browser, &link, NEW_PASSWORD).await;
    assert_eq!(response.status(), 303, "back to the sign-in in progress");
    assert_eq!(app.absolute(&location(&response)), login_url);

    // The old password no longer works; the new one does, and the second factor is still asked.
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 401, "the old password is refused");
    let response = app.submit_password(&browser, &login_url, EMAIL, NEW_PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.absolute(&location(&response)), login_url, "next: the second factor");
    let code = totp_code(&enrolled.setup_key, app.clock.now());
    let response = app.submit_code(&browser, &login_url, &code, false).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    assert!(params.contains_key("code"));
    assert_eq!(params["state"], "state-123");

    // The session of the other browser ended.
    let response = old_browser.get(format!("{}/account", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 303, "the old session is gone");

    // And the person was told.
    let mails = sink.wait_for(3, 15).await;
    let notice = &mails[2];
    assert!(notice.body.contains("Your password was reset"), "{}", notice.body);
    assert!(notice.body.contains("Browser: Firefox on Linux"), "{}", notice.body);
}
both_backends!(a_forgotten_password_is_reset_and_the_sign_in_continues_with_the_second_factor);

async fn a_reset_link_works_once_and_not_after_30_minutes(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let browser = firefox();
    let forgot = format!("{}/password/forgot", app.issuer);
    ask_on(&app, &browser, &forgot, EMAIL).await;
    let (_, link) = reset_link(&sink, 1).await;

    // The password rules apply, and a refused password leaves the link usable.
    let response = set_password(&app, &browser, &link, "short").await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("at least 8 characters"));
    let response = set_password(&app, &browser, &link, NEW_PASSWORD).await;
    assert_eq!(response.status(), 200, "no sign-in in progress: a page says it is done");
    assert!(response.text().await.unwrap().contains("Your new password is set"));

    // Used: refused with a clear page, on GET and on POST.
    let (status, page) = app.get_html(&browser, &link).await;
    assert_eq!(status, 410);
    assert!(page.contains("This link no longer works"), "{page}");
    assert!(page.contains("Ask for a new link"), "{page}");
    let response = browser
        .post(&link)
        .form(&[("new_password", "another passphrase"), ("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "no CSRF token, no change");

    // A newer request replaces the older link.
    ask_on(&app, &browser, &forgot, EMAIL).await;
    let (_, first) = reset_link(&sink, 3).await; // 2nd mail is the "reset" notice
    ask_on(&app, &browser, &forgot, EMAIL).await;
    let (_, second) = reset_link(&sink, 4).await;
    assert_ne!(first, second);
    let (status, _) = app.get_html(&browser, &first).await;
    assert_eq!(status, 410, "replaced by the newer link");
    // A link of this tenant means nothing at another.
    tessera::admin::create_tenant(&app.state, "other", "Other").await.unwrap();
    let elsewhere = second.replace("/t/acme/", "/t/other/");
    let (status, _) = app.get_html(&browser, &elsewhere).await;
    assert_eq!(status, 410);
    // After 30 minutes it has expired.
    app.clock.advance(30 * 60 + 1);
    let (status, page) = app.get_html(&browser, &second).await;
    assert_eq!(status, 410);
    assert!(page.contains("This link no longer works"));
    // The password set with the first link is the one that works.
    let pkce = pkce();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, EMAIL, NEW_PASSWORD).await;
    assert_eq!(response.status(), 303);
}
both_backends!(a_reset_link_works_once_and_not_after_30_minutes);

async fn the_link_is_used_once_even_by_parallel_requests(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let browser = firefox();
    ask_on(&app, &browser, &format!("{}/password/forgot", app.issuer), EMAIL).await;
    let (_, link) = reset_link(&sink, 1).await;
    let (_, page) = app.get_html(&browser, &link).await;
    let csrf = csrf_token(&page);
    let posts = (0..4).map(|i| {
        let (browser, link, csrf) = (browser.clone(), link.clone(), csrf.clone());
        async move {
            let password = format!("{NEW_PASSWORD} {i}");
            browser
                .post(&link)
                .form(&[("new_password", password.as_str()), ("csrf_token", &csrf)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_join(posts).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 410).count(), 3, "{statuses:?}");
}
both_backends!(the_link_is_used_once_even_by_parallel_requests);

async fn futures_join<F: std::future::Future<Output = u16> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

async fn unknown_addresses_get_the_same_page_at_the_same_pace(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let browser = firefox();
    let forgot = format!("{}/password/forgot", app.issuer);
    let (_, page) = app.get_html(&browser, &forgot).await;
    let csrf = csrf_token(&page);
    let mut timings: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut bodies: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    // Alternating, three each (the address throttle allows three emails an hour).
    for round in 0..6 {
        let which = round % 2;
        let email = if which == 0 { EMAIL } else { "nobody@example.org" };
        let started = Instant::now();
        let response = app.post_form(&browser, &forgot, &csrf, &[("email", email)]).await;
        timings[which].push(started.elapsed());
        assert_eq!(response.status(), 200);
        bodies[which].push(response.text().await.unwrap());
    }
    assert!(bodies[0][0].contains(SENT));
    assert_eq!(bodies[0][0], bodies[1][0], "the same page, word for word");
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (known, unknown) = (median(&mut timings[0]), median(&mut timings[1]));
    let gap = known.abs_diff(unknown);
    assert!(gap < Duration::from_millis(150), "known {known:?}, unknown {unknown:?}");
    sink.wait_for(3, 15).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.to(EMAIL).len(), 3);
    assert!(sink.to("nobody@example.org").is_empty());
    assert_eq!(sink.received().len(), 3);
}
both_backends!(unknown_addresses_get_the_same_page_at_the_same_pace);

async fn requests_are_throttled_per_address_with_the_same_answer(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let browser = firefox();
    let forgot = format!("{}/password/forgot", app.issuer);
    for _ in 0..5 {
        let (status, page) = ask_on(&app, &browser, &forgot, "An.Patient@Example.org").await;
        assert_eq!(status, 200);
        assert!(page.contains(SENT));
    }
    sink.wait_for(3, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 3, "three links an hour per address");
    // An hour later the address may ask again.
    app.clock.advance(3601);
    ask_on(&app, &browser, &forgot, EMAIL).await;
    sink.wait_for(4, 15).await;
    // Not an address at all: a clear error, nothing about accounts.
    let (status, page) = ask_on(&app, &browser, &forgot, "not-an-address").await;
    assert_eq!(status, 400);
    assert!(page.contains("Enter your email address"), "{page}");
}
both_backends!(requests_are_throttled_per_address_with_the_same_answer);
