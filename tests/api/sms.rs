//! Text-message codes through real senders (webhook, Twilio API) against a local mock server.

use secrecy::SecretString;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_backends;
use crate::helpers::*;

const SECRET: &str = "webhook-shared-secret";

async fn a_public_url_off_loopback_switches_the_console_sender_off(backend: Backend) {
    use tessera::notify::SmsSender;
    // On loopback the console sender prints (and so "sends") ...
    let Some(app) = spawn_app(backend).await else { return };
    assert!(app.state.sms.send("+31612345678", "Your code is 123456", "acme", app.clock.now()).await.is_ok());
    // ... on a public address in development mode it is off: no code reaches the log.
    let public = |settings: &mut tessera::config::Settings| {
        settings.public_url = "https://login.example.org".parse().unwrap();
    };
    let Some(app) = spawn_app_with(backend, public).await else { return };
    let sent = app.state.sms.send("+31612345678", "Your code is 123456", "acme", app.clock.now()).await;
    assert!(matches!(sent, Err(tessera::notify::SendError::NotConfigured(_))));
    // A tenant cannot bring the console sender back either.
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let console = tessera::notify::SenderOverride { sender: "console".into(), ..Default::default() };
    assert!(tessera::admin::set_tenant_sms_sender(&app.state, &tenant, Some(console)).await.is_err());
}
both_backends!(a_public_url_off_loopback_switches_the_console_sender_off);

/// A tessera whose SMS go to a mock webhook answering `status`.
async fn app_with_webhook(backend: Backend, status: u16) -> Option<(TestApp, MockServer)> {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&mock)
        .await;
    let url = format!("{}/sms", mock.uri());
    let app = spawn_app_with(backend, |settings| {
        settings.sms.sender = "webhook".into();
        settings.sms.webhook_url = url;
        settings.sms.webhook_secret = SecretString::from(SECRET);
    })
    .await?;
    Some((app, mock))
}

/// Every message the mock received, as JSON bodies, checking each signature.
async fn messages(mock: &MockServer) -> Vec<serde_json::Value> {
    use hmac::{Hmac, Mac};
    let mut bodies = Vec::new();
    for request in mock.received_requests().await.unwrap_or_default() {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(&request.body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(request.headers["x-tessera-signature"], expected.as_str(), "HMAC of the raw body");
        assert_eq!(request.headers["content-type"], "application/json");
        bodies.push(serde_json::from_slice(&request.body).unwrap());
    }
    bodies
}

fn code_in(message: &serde_json::Value) -> String {
    let text = message["message"].as_str().unwrap();
    text.split_whitespace()
        .find(|w| w.len() == 7 && w.ends_with('.') && w[..6].chars().all(|c| c.is_ascii_digit()))
        .map(|w| w[..6].to_string())
        .unwrap_or_else(|| panic!("no code in {text}"))
}

/// "Did you not receive the verification code?": the link's page, its button, and the page the
/// browser comes back to.
async fn resend(app: &TestApp, browser: &reqwest::Client, login_url: &str) -> String {
    let (status, html) = app.get_html(browser, &format!("{login_url}/resend")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Send a new code"), "{html}");
    let sends_before = browser.get(format!("{login_url}/resend")).send().await.unwrap().status();
    assert_eq!(sends_before, 200, "showing the offer sends nothing and can repeat");
    let response = app.post_form(browser, &format!("{login_url}/resend"), &csrf_token(&html), &[]).await;
    assert_eq!(response.status(), 303);
    let (status, html) = app.get_html(browser, &app.absolute(&location(&response))).await;
    assert_eq!(status, 200);
    html
}

async fn last_code(mock: &MockServer) -> String {
    code_in(messages(mock).await.last().expect("a message"))
}

/// Signs in (password only) and switches on text messages with `phone`; returns the browser.
async fn enrol_sms(app: &TestApp, mock: &MockServer, phone: &str) -> reqwest::Client {
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let page = format!("{}/account/two-factor/sms", app.issuer);
    let (_, html) = app.get_html(&browser, &page).await;
    assert!(html.contains(">Mobile phone number</label>"));
    let response = app.post_form(&browser, &page, &csrf_token(&html), &[("phone", phone)]).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("+31 6 •••• ••78"), "the number is shown masked: {html}");
    let code = last_code(mock).await;
    let response =
        app.post_form(&browser, &format!("{page}/confirm"), &csrf_token(&html), &[("code", &code)]).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("aria-label=\"Backup codes\""));
    app.clock.advance(61);
    browser
}

async fn sms_sign_in_through_the_webhook(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    enrol_sms(&app, &mock, "06 12345678").await;
    let first = &messages(&mock).await[0];
    assert_eq!(first["to"], "+31612345678");
    assert_eq!(first["tenant"], "acme");
    assert_eq!(
        first["message"],
        format!("Your Acme Clinic verification code is {}. It is valid for 30 minutes.", code_in(first))
    );

    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains("ending in 78"), "{html}");
    assert!(html.contains(">Did you not receive the verification code?</a>"));
    assert_eq!(messages(&mock).await.len(), 2, "entering the step sent a code");
    let (_, _) = app.get_html(&browser, &login_url).await;
    assert_eq!(messages(&mock).await.len(), 2, "showing the page again sends nothing");
    let response = app.submit_code(&browser, &login_url, &last_code(&mock).await, false).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa");

    // The confirmed number is the phone claim.
    let pkce = crate::helpers::pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid phone";
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let id_claims = crate::refresh_and_tokens::decode_jwt(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_claims["phone_number"], "+31612345678");
    assert_eq!(id_claims["phone_number_verified"], true);
}
both_backends!(sms_sign_in_through_the_webhook);

async fn only_the_newest_code_counts_and_codes_expire(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    // Codes live 5 minutes here (the login attempt itself would end at 30).
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let policy = tessera::admin::SmsPolicy { code_minutes: Some(5), ..Default::default() };
    tessera::admin::update_sms_policy(&app.state, &tenant, policy).await.unwrap();
    enrol_sms(&app, &mock, "+31 6 12345678").await;
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    app.get_html(&browser, &login_url).await;
    let older = last_code(&mock).await;

    // Resending too soon is refused with the wait; a minute later it works.
    let html = resend(&app, &browser, &login_url).await;
    assert!(html.contains("You can ask for a new code in 60 seconds"), "{html}");
    assert!(!html.contains("aria-invalid"), "a refused resend is no input error");
    app.clock.advance(60);
    let html = resend(&app, &browser, &login_url).await;
    assert!(html.contains("We sent a new code"));
    let newer = last_code(&mock).await;
    if older != newer {
        assert_eq!(
            app.submit_code(&browser, &login_url, &older, false).await.status(),
            401,
            "only the newest counts"
        );
    }
    // Five minutes later the newest has expired too.
    app.clock.advance(301);
    assert_eq!(app.submit_code(&browser, &login_url, &newer, false).await.status(), 401);
}
both_backends!(only_the_newest_code_counts_and_codes_expire);

async fn five_wrong_tries_kill_a_code(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let page = format!("{}/account/two-factor/sms", app.issuer);
    let (_, html) = app.get_html(&browser, &page).await;
    let response = app.post_form(&browser, &page, &csrf_token(&html), &[("phone", "0612345678")]).await;
    let html = response.text().await.unwrap();
    let code = last_code(&mock).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let response =
            app.post_form(&browser, &format!("{page}/confirm"), &csrf_token(&html), &[("code", wrong)]).await;
        assert_eq!(response.status(), 401);
    }
    let response =
        app.post_form(&browser, &format!("{page}/confirm"), &csrf_token(&html), &[("code", &code)]).await;
    assert_eq!(response.status(), 401, "the right code no longer works after five wrong tries");
}
both_backends!(five_wrong_tries_kill_a_code);

async fn sends_are_limited_per_hour_and_per_day(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    enrol_sms(&app, &mock, "0612345678").await;
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    app.get_html(&browser, &login_url).await; // second send this hour (enrolment was the first)
    for _ in 0..3 {
        app.clock.advance(61);
        assert!(resend(&app, &browser, &login_url).await.contains("We sent a new code"));
    }
    app.clock.advance(61);
    let html = resend(&app, &browser, &login_url).await;
    assert!(html.contains("You asked for too many codes"), "{html}");
    assert_eq!(messages(&mock).await.len(), 5);

    // The tenant's daily cap holds even for a fresh hour.
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let policy = tessera::admin::SmsPolicy { daily_cap: Some(5), ..Default::default() };
    tessera::admin::update_sms_policy(&app.state, &tenant, policy).await.unwrap();
    app.clock.advance(3600);
    let browser = firefox();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains("No more text messages can be sent today"), "{html}");
    assert_eq!(messages(&mock).await.len(), 5);
}
both_backends!(sends_are_limited_per_hour_and_per_day);

/// Entering the step sends (or tries to); showing its page only reads. Once a refused send is
/// allowed again, a reload still sends nothing: "Send a new code" does.
async fn showing_the_step_never_sends(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    enrol_sms(&app, &mock, "0612345678").await;
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let cap = |daily_cap| tessera::admin::SmsPolicy { daily_cap: Some(daily_cap), ..Default::default() };
    tessera::admin::update_sms_policy(&app.state, &tenant, cap(1)).await.unwrap();
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains("No more text messages can be sent today"), "{html}");
    assert_eq!(messages(&mock).await.len(), 1, "only the enrolment code went out");

    tessera::admin::update_sms_policy(&app.state, &tenant, cap(500)).await.unwrap();
    app.clock.advance(61);
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(!html.contains("No more text messages"), "the cap no longer holds: {html}");
    assert!(html.contains(">Did you not receive the verification code?</a>"), "{html}");
    assert_eq!(messages(&mock).await.len(), 1, "a reload of the page sends nothing");
    assert!(resend(&app, &browser, &login_url).await.contains("We sent a new code"));
    assert_eq!(messages(&mock).await.len(), 2);
}
both_backends!(showing_the_step_never_sends);

/// A provider that refuses the code sent on entering the step: the page says so, and never
/// "We sent".
async fn a_failed_send_on_entering_is_reported(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    enrol_sms(&app, &mock, "0612345678").await;
    mock.reset().await;
    Mock::given(method("POST")).and(path("/sms")).respond_with(ResponseTemplate::new(400)).mount(&mock).await;
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    assert_eq!(mock.received_requests().await.unwrap().len(), 1, "entering the step tried to send");
    for _ in 0..2 {
        let (_, html) = app.get_html(&browser, &login_url).await;
        assert!(html.contains("We could not send the text message"), "{html}");
        assert!(!html.contains("We sent a text message"), "{html}");
    }
    assert_eq!(mock.received_requests().await.unwrap().len(), 1, "showing the page tried nothing");
}
both_backends!(a_failed_send_on_entering_is_reported);

/// The password form sent twice (a double click, or a reload after a slow answer): one code is
/// sent, and the second post leads to the step instead of an error page.
async fn a_password_form_sent_twice_sends_one_code(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    enrol_sms(&app, &mock, "0612345678").await;
    for round in 0..3 {
        let before = messages(&mock).await.len();
        let browser = firefox();
        let pkce = pkce();
        let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
        let (_, html) = app.get_html(&browser, &login_url).await;
        let csrf = csrf_token(&html);
        let form = [("email", EMAIL), ("password", PASSWORD), ("csrf_token", csrf.as_str())];
        let (first, second) = tokio::join!(
            browser.post(&login_url).form(&form).send(),
            browser.post(&login_url).form(&form).send()
        );
        for response in [first.unwrap(), second.unwrap()] {
            assert_eq!(response.status(), 303, "round {round}");
            assert_eq!(app.absolute(&location(&response)), login_url);
        }
        assert_eq!(messages(&mock).await.len() - before, 1, "round {round}: exactly one code");
        let again = browser.post(&login_url).form(&form).send().await.unwrap();
        assert_eq!(again.status(), 303, "a later re-post goes on to the step");
        let (_, page) = app.get_html(&browser, &login_url).await;
        assert!(page.contains("We sent a text message"), "{page}");
        assert_eq!(messages(&mock).await.len() - before, 1, "and sends nothing");
        app.clock.advance(3601);
    }
}
both_backends!(a_password_form_sent_twice_sends_one_code);

async fn numbers_outside_the_allowed_countries_are_refused(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let page = format!("{}/account/two-factor/sms", app.issuer);
    let (_, html) = app.get_html(&browser, &page).await;
    let response = app.post_form(&browser, &page, &csrf_token(&html), &[("phone", "+32 470 12 34 56")]).await;
    assert!(response.text().await.unwrap().contains("cannot be sent to this country"));
    let response = app.post_form(&browser, &page, &csrf_token(&html), &[("phone", "0900 1234567")]).await;
    assert_eq!(response.status(), 400, "premium numbers are not mobile numbers");
    assert!(messages(&mock).await.is_empty(), "nothing was sent");
}
both_backends!(numbers_outside_the_allowed_countries_are_refused);

async fn a_failing_provider_is_retried_then_reported(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 503).await else { return };
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let page = format!("{}/account/two-factor/sms", app.issuer);
    let (_, html) = app.get_html(&browser, &page).await;
    let response = app.post_form(&browser, &page, &csrf_token(&html), &[("phone", "0612345678")]).await;
    assert!(response.text().await.unwrap().contains("We could not send the text message"));
    assert_eq!(mock.received_requests().await.unwrap().len(), 3, "retried on 5xx");

    let Some((app, mock)) = app_with_webhook(backend, 400).await else { return };
    let browser = firefox();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let url = format!("{}/account/two-factor/sms", app.issuer);
    let (_, html) = app.get_html(&browser, &url).await;
    let response = app.post_form(&browser, &url, &csrf_token(&html), &[("phone", "0612345678")]).await;
    assert!(response.text().await.unwrap().contains("We could not send the text message"));
    assert_eq!(mock.received_requests().await.unwrap().len(), 1, "never retried on 4xx");
}
both_backends!(a_failing_provider_is_retried_then_reported);

async fn the_twilio_sender_speaks_the_messages_api(backend: Backend) {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2010-04-01/Accounts/AC123/Messages.json"))
        .and(header("authorization", "Basic QUMxMjM6dHdpbGlvLXRva2Vu"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({ "sid": "SM1" })))
        .mount(&mock)
        .await;
    let base = mock.uri();
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.sms.sender = "twilio".into();
        settings.sms.twilio_base_url = base;
        settings.sms.twilio_account_sid = "AC123".into();
        settings.sms.twilio_auth_token = SecretString::from("twilio-token");
        settings.sms.twilio_from = "+3197010000000".into();
    })
    .await
    else {
        return;
    };
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let page = format!("{}/account/two-factor/sms", app.issuer);
    let (_, html) = app.get_html(&browser, &page).await;
    let response = app.post_form(&browser, &page, &csrf_token(&html), &[("phone", "06 12345678")]).await;
    assert_eq!(response.status(), 200);
    let requests = mock.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&requests[0].body).into_owned().collect();
    assert_eq!(form["To"], "+31612345678");
    assert_eq!(form["From"], "+3197010000000");
    assert!(form["Body"].starts_with("Your Acme Clinic verification code is "));
}
both_backends!(the_twilio_sender_speaks_the_messages_api);

async fn forced_enrolment_can_use_text_messages(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    tessera::admin::update_tenant_policy(&app.state, &tenant, Some(true), None).await.unwrap();
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains("No authenticator app? Use text messages instead"));
    let (_, html) = app.get_html(&browser, &format!("{login_url}/enrol/sms")).await;
    let response = app
        .post_form(
            &browser,
            &format!("{login_url}/enrol/sms"),
            &csrf_token(&html),
            &[("phone", "06 12345678")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(">Confirm phone number</button>"));
    let code = last_code(&mock).await;
    let response = app
        .post_form(
            &browser,
            &format!("{login_url}/enrol/sms/confirm"),
            &csrf_token(&html),
            &[("code", &code)],
        )
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("aria-label=\"Backup codes\""));
    let response = app.post_form(&browser, &format!("{login_url}/continue"), &csrf_token(&html), &[]).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
}
both_backends!(forced_enrolment_can_use_text_messages);

async fn signing_in_right_after_enrolment_sends_the_first_code(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    enrol_sms(&app, &mock, "0612345678").await;
    app.clock.advance(-61); // undo the helper's wait: sign in within the enrolment's minute
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains("We sent a text message"), "{html}");
    assert_eq!(messages(&mock).await.len(), 2);
    let response = app.submit_code(&browser, &login_url, &last_code(&mock).await, false).await;
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));
}
both_backends!(signing_in_right_after_enrolment_sends_the_first_code);

async fn a_tenant_can_use_its_own_sender(backend: Backend) {
    // The server's sender is the console; the tenant brings its own webhook.
    let Some(app) = spawn_app(backend).await else { return };
    let own = MockServer::start().await;
    Mock::given(method("POST")).and(path("/own")).respond_with(ResponseTemplate::new(200)).mount(&own).await;
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let sender = tessera::notify::SenderOverride {
        sender: "webhook".into(),
        webhook_url: format!("{}/own", own.uri()),
        webhook_secret: SECRET.into(),
        ..Default::default()
    };
    tessera::admin::set_tenant_sms_sender(&app.state, &tenant, Some(sender)).await.unwrap();
    let incomplete = tessera::notify::SenderOverride { sender: "webhook".into(), ..Default::default() };
    assert!(tessera::admin::set_tenant_sms_sender(&app.state, &tenant, Some(incomplete)).await.is_err());
    enrol_sms(&app, &own, "06 12345678").await;
    assert_eq!(messages(&own).await[0]["tenant"], "acme");
}
both_backends!(a_tenant_can_use_its_own_sender);

/// Any signed-in person chooses where enrolment codes go, so they may spend only a share of the
/// tenant's daily cap: a sign-in code to a confirmed number still goes out when that share is gone.
async fn enrolment_sends_cannot_spend_the_sign_in_codes(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    enrol_sms(&app, &mock, "0612345678").await;
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let policy = tessera::admin::SmsPolicy { daily_cap: Some(10), ..Default::default() };
    tessera::admin::update_sms_policy(&app.state, &tenant, policy).await.unwrap();

    // Someone else signs in (no second factor) and asks for codes to numbers of their choice, a
    // minute apart (within the ten minutes that switching two-factor on allows after the
    // password), until the tenant says no more today.
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    tessera::admin::create_user(
        &app.state,
        &tenant,
        "mallory@example.org",
        None,
        SecretString::from("mallory's password"),
    )
    .await
    .unwrap();
    let mallory = firefox();
    let pkce = pkce();
    let login_url = app.open_login_page(&mallory, &AuthRequest::portal(&pkce)).await;
    let response =
        app.submit_password(&mallory, &login_url, "mallory@example.org", "mallory's password").await;
    assert_eq!(response.status(), 303);
    let page = format!("{}/account/two-factor/sms", app.issuer);
    let mut refused = false;
    for n in 0..5 {
        app.clock.advance(61);
        let (_, html) = app.get_html(&mallory, &page).await;
        let phone = format!("06123456{:02}", 10 + n);
        let response = app.post_form(&mallory, &page, &csrf_token(&html), &[("phone", &phone)]).await;
        if response.status() == 429 {
            assert!(response.text().await.unwrap().contains("No more text messages can be sent today"));
            refused = true;
            break;
        }
        assert_eq!(response.status(), 200);
    }
    assert!(refused, "enrolment sends stop at their share of the cap");
    assert_eq!(messages(&mock).await.len(), 2, "a fifth of 10: the owner's enrolment and one more");

    let browser = firefox();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(!html.contains("No more text messages"), "{html}");
    assert_eq!(messages(&mock).await.len(), 3, "the sign-in code went out");
    assert_eq!(messages(&mock).await[2]["to"], "+31612345678");
    let response = app.submit_code(&browser, &login_url, &last_code(&mock).await, false).await;
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));
}
both_backends!(enrolment_sends_cannot_spend_the_sign_in_codes);

/// A wrong text-message code says where the right one is: the newest text message, not an app
/// (on the account page's confirmation and at the sign-in step).
async fn a_wrong_text_message_code_points_to_the_newest_message(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    const SMS_HINT: &str = "Enter the code from the newest text message.";
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let page = format!("{}/account/two-factor/sms", app.issuer);
    let (_, html) = app.get_html(&browser, &page).await;
    let response = app.post_form(&browser, &page, &csrf_token(&html), &[("phone", "0612345678")]).await;
    let html = response.text().await.unwrap();
    let code = last_code(&mock).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let response =
        app.post_form(&browser, &format!("{page}/confirm"), &csrf_token(&html), &[("code", wrong)]).await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.unwrap();
    assert!(html.contains(SMS_HINT) && !html.contains("from your app"), "{html}");
    let response =
        app.post_form(&browser, &format!("{page}/confirm"), &csrf_token(&html), &[("code", &code)]).await;
    assert_eq!(response.status(), 200);
    app.clock.advance(61);

    let browser = firefox();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let code = last_code(&mock).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let response = app.submit_code(&browser, &login_url, wrong, false).await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.unwrap();
    assert!(html.contains(SMS_HINT) && !html.contains("from your app"), "{html}");
}
both_backends!(a_wrong_text_message_code_points_to_the_newest_message);

/// The webhook's signed body carries when it was sent, so a receiver can refuse a replay.
async fn the_webhook_signs_when_it_was_sent(backend: Backend) {
    let Some((app, mock)) = app_with_webhook(backend, 200).await else { return };
    let enrolled_at = app.clock.now();
    enrol_sms(&app, &mock, "0612345678").await;
    app.clock.advance(1000);
    let browser = firefox();
    let pkce = pkce();
    app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let sent = messages(&mock).await; // each signature checked over the raw body
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["timestamp"], enrolled_at, "{}", sent[0]);
    assert_eq!(sent[1]["timestamp"], app.clock.now(), "{}", sent[1]);
}
both_backends!(the_webhook_signs_when_it_was_sent);
