//! Password delays fall on the guesser: per client address and per account at that address, a
//! cap on the account's consecutive failures from unknown browsers, and a known device of the
//! owner that goes on regardless.

use reqwest::header::{HeaderMap, HeaderValue};

use crate::both_backends;
use crate::helpers::*;

/// A cookie-keeping browser whose requests come (through the trusted proxy) from `ip`.
fn browser_at(ip: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(ip).unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn spawn_behind_proxy(backend: Backend, account_max_failures: i32) -> Option<TestApp> {
    spawn_app_with(backend, |settings| {
        settings.trust_forwarded_for = true;
        settings.throttle.account_max_failures = account_max_failures;
    })
    .await
}

/// `count` checked wrong passwords from `browser`, waiting out each delay on the test clock.
async fn wrong_passwords(app: &TestApp, browser: &reqwest::Client, count: usize) {
    let mut checked = 0;
    while checked < count {
        // A fresh attempt per guess: the waits outlast a login attempt's life.
        let login_url = login_url_for(app, browser).await;
        let response = app.submit_password(browser, &login_url, EMAIL, "wrong password!").await;
        match response.status().as_u16() {
            401 => checked += 1,
            429 => app.clock.advance(response.headers()["retry-after"].to_str().unwrap().parse().unwrap()),
            other => panic!("unexpected status {other}"),
        }
    }
}

async fn an_attacker_elsewhere_cannot_keep_the_owner_out(backend: Backend) {
    let Some(app) = spawn_behind_proxy(backend, 100).await else { return };
    let attacker = browser_at("203.0.113.66");
    wrong_passwords(&app, &attacker, 40).await;

    // The owner, from a browser and address never used before, gets in at once.
    let owner = browser_at("198.51.100.7");
    let pkce = pkce();
    let login_url = app.open_login_page(&owner, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&owner, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303, "the attacker's failures must not block the owner elsewhere");

    // The guesser is still slowed: the owner's success did not clear the attacker's address.
    let login_url = app.open_login_page(&attacker, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&attacker, &login_url, EMAIL, "wrong password!").await;
    assert_eq!(response.status(), 429);
}
both_backends!(an_attacker_elsewhere_cannot_keep_the_owner_out);

async fn many_addresses_meet_the_account_cap_but_not_the_owners_known_device(backend: Backend) {
    let Some(app) = spawn_behind_proxy(backend, 10).await else { return };
    let owner = browser_at("198.51.100.7");
    let pkce = pkce();
    app.sign_in(&owner, &AuthRequest::portal(&pkce)).await;

    // The five free guesses of each of two addresses: 10 consecutive failures, the cap.
    for ip in ["203.0.113.1", "203.0.113.2"] {
        wrong_passwords(&app, &browser_at(ip), 5).await;
    }
    let stranger = browser_at("192.0.2.9");
    let login_url = app.open_login_page(&stranger, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&stranger, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 429, "an unknown browser meets the account's cap");
    let wait: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 86_400, "{wait}: a wait, never a permanent lock");

    // The owner's browser, known from the earlier sign-in, is not held back.
    let again = AuthRequest { extra: vec![("prompt", "login")], ..AuthRequest::portal(&pkce) };
    let login_url = app.open_login_page(&owner, &again).await;
    let response = app.submit_password(&owner, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303, "the owner on a known device goes on");

    // The owner's success ended the run of consecutive failures.
    let login_url = login_url_for(&app, &stranger).await;
    let response = app.submit_password(&stranger, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303);
}
both_backends!(many_addresses_meet_the_account_cap_but_not_the_owners_known_device);

/// A ward's shared workstation: the owner signed in there, then colleagues did. It stays the
/// owner's known device, so guesses at the owner's account from elsewhere do not hold them there.
async fn a_shared_workstation_stays_known_to_everyone_who_signed_in_on_it(backend: Backend) {
    let Some(app) = spawn_behind_proxy(backend, 10).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let workstation = browser_at("198.51.100.7");
    let pkce = pkce();
    let again = AuthRequest { extra: vec![("prompt", "login")], ..AuthRequest::portal(&pkce) };
    app.sign_in(&workstation, &again).await;
    for n in 0..3 {
        let email = format!("colleague{n}@example.org");
        let secret = secrecy::SecretString::from(format!("password of colleague {n}"));
        tessera::admin::create_user(&app.state, &tenant, &email, None, secret).await.unwrap();
        let login_url = app.open_login_page(&workstation, &again).await;
        let password = format!("password of colleague {n}");
        let response = app.submit_password(&workstation, &login_url, &email, &password).await;
        assert_eq!(response.status(), 303);
    }
    for ip in ["203.0.113.1", "203.0.113.2"] {
        wrong_passwords(&app, &browser_at(ip), 5).await;
    }
    let login_url = app.open_login_page(&workstation, &again).await;
    let response = app.submit_password(&workstation, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303, "the owner is still known on the shared workstation");
}
both_backends!(a_shared_workstation_stays_known_to_everyone_who_signed_in_on_it);

async fn login_url_for(app: &TestApp, browser: &reqwest::Client) -> String {
    let pkce = pkce();
    app.open_login_page(browser, &AuthRequest::portal(&pkce)).await
}

async fn a_forged_known_device_cookie_does_not_pass_the_cap(backend: Backend) {
    let Some(app) = spawn_behind_proxy(backend, 10).await else { return };
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let forged = format!("tessera-known-acme=1.abc.{}", "0".repeat(64));
    jar.add_cookie_str(&forged, &url::Url::parse(&app.address).unwrap());
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.1"));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .cookie_provider(jar)
        .build()
        .unwrap();
    wrong_passwords(&app, &browser, 10).await;
    let login_url = login_url_for(&app, &browser).await;
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 429);
    let wait: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 900, "{wait}: the account's cap, not only the address's delay");
}
both_backends!(a_forged_known_device_cookie_does_not_pass_the_cap);

async fn parallel_guesses_get_no_more_checks_than_the_free_tries(backend: Backend) {
    let Some(app) = spawn_behind_proxy(backend, 100).await else { return };
    let browser = browser_at("203.0.113.66");
    let login_url = login_url_for(&app, &browser).await;
    let html = browser.get(&login_url).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_token(&html);
    let guesses = (0..40).map(|n| {
        let (browser, login_url, csrf) = (browser.clone(), login_url.clone(), csrf.clone());
        tokio::spawn(async move {
            let password = format!("wrong password {n}");
            let form = [("email", EMAIL), ("password", password.as_str()), ("csrf_token", csrf.as_str())];
            browser.post(&login_url).form(&form).send().await.unwrap().status().as_u16()
        })
    });
    let mut statuses = Vec::new();
    for guess in guesses.collect::<Vec<_>>() {
        statuses.push(guess.await.unwrap());
    }
    let checked = statuses.iter().filter(|&&status| status == 401).count();
    let waited = statuses.iter().filter(|&&status| status == 429).count();
    assert_eq!((checked, waited), (5, 35), "only the five free tries are checked: {statuses:?}");

    // Sequentially the same: the next try waits, and then comes one per delay.
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 429);
    app.clock.advance(1);
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303);
}
both_backends!(parallel_guesses_get_no_more_checks_than_the_free_tries);

/// People behind one address (a hospital's NAT) who sign in at the same moment are not refused
/// for each other: only wrong passwords add to the address's count.
async fn people_behind_one_address_sign_in_at_once(backend: Backend) {
    let Some(app) = spawn_behind_proxy(backend, 100).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let mut posts = tokio::task::JoinSet::new();
    for n in 0..12 {
        let email = format!("nurse{n}@example.org");
        let password = format!("password of nurse {n}");
        let secret = secrecy::SecretString::from(password.clone());
        tessera::admin::create_user(&app.state, &tenant, &email, None, secret).await.unwrap();
        let browser = browser_at("198.51.100.7");
        let login_url = login_url_for(&app, &browser).await;
        let (_, html) = app.get_html(&browser, &login_url).await;
        let csrf = csrf_token(&html);
        posts.spawn(async move {
            let form =
                [("email", email.as_str()), ("password", password.as_str()), ("csrf_token", csrf.as_str())];
            browser.post(&login_url).form(&form).send().await.unwrap().status().as_u16()
        });
    }
    let answers: Vec<u16> = posts.join_all().await;
    assert!(answers.iter().all(|status| *status == 303), "every nurse signs in: {answers:?}");
}
both_backends!(people_behind_one_address_sign_in_at_once);

/// Guesses from elsewhere that fill the account's cap do not keep the signed-in owner from
/// changing the password (the way out of an attack).
async fn the_cap_does_not_stop_the_owner_changing_the_password(backend: Backend) {
    let Some(app) = spawn_behind_proxy(backend, 10).await else { return };
    let owner = browser_at("198.51.100.7");
    let pkce = pkce();
    app.sign_in(&owner, &AuthRequest::portal(&pkce)).await;
    for ip in ["203.0.113.1", "203.0.113.2"] {
        wrong_passwords(&app, &browser_at(ip), 5).await;
    }
    let page = format!("{}/account/password", app.issuer);
    let (status, html) = app.get_html(&owner, &page).await;
    assert_eq!(status, 200, "{html}");
    let fields = [("current_password", PASSWORD), ("new_password", "a new and long password")];
    let response = app.post_form(&owner, &page, &csrf_token(&html), &fields).await;
    assert_eq!(response.status(), 303, "the owner changes the password despite the cap");
}
both_backends!(the_cap_does_not_stop_the_owner_changing_the_password);
