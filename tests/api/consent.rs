//! Consent for third-party clients: Allow / Deny, remembered, revocable from the account page.

use tessera::admin::{self, NewClientRequest};

use crate::both_backends;
use crate::helpers::*;

const THIRD: &str = "diary-app";
const THIRD_REDIRECT: &str = "https://diary.example.net/cb";

async fn third_party_client(app: &TestApp) {
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest { public: true, ..NewClientRequest::new(THIRD, &[THIRD_REDIRECT]) };
    admin::create_client(&app.state, &tenant, request).await.unwrap();
}

fn third_request(pkce: &Pkce) -> AuthRequest<'_> {
    AuthRequest { client_id: THIRD, redirect_uri: THIRD_REDIRECT, ..AuthRequest::portal(pkce) }
}

/// Signs in for the third-party client and returns the consent page's URL and HTML.
async fn consent_page(
    app: &TestApp,
    browser: &reqwest::Client,
    request: &AuthRequest<'_>,
) -> (String, String) {
    let login_url = app.open_login_page(browser, request).await;
    let response = app.submit_password(browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(app.absolute(&location(&response)), login_url, "consent comes next");
    let (status, html) = app.get_html(browser, &login_url).await;
    assert_eq!(status, 200);
    (login_url, html)
}

async fn third_party_clients_ask_for_consent_and_remember_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    third_party_client(&app).await;
    let pkce = pkce();
    let browser = browser();

    let (login_url, html) = consent_page(&app, &browser, &third_request(&pkce)).await;
    assert!(html.contains("diary-app asks to:") && html.contains("See your email address"), "{html}");
    let response = app
        .post_form(&browser, &format!("{login_url}/consent"), &csrf_token(&html), &[("decision", "deny")])
        .await;
    let params = redirect_params(&response, THIRD_REDIRECT);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "state-123");

    // Signed in all the same: the next request goes straight to the consent page.
    let response = browser.get(app.authorize_url(&third_request(&pkce))).send().await.unwrap();
    let consent_url = app.absolute(&location(&response));
    let (_, html) = app.get_html(&browser, &consent_url).await;
    assert!(html.contains(">Allow</button>"));
    let response = app
        .post_form(&browser, &format!("{consent_url}/consent"), &csrf_token(&html), &[("decision", "allow")])
        .await;
    assert!(redirect_params(&response, THIRD_REDIRECT).contains_key("code"));

    // Remembered: no consent page any more, also not with prompt=none.
    let mut silent = third_request(&pkce);
    silent.extra.push(("prompt", "none"));
    let response = browser.get(app.authorize_url(&silent)).send().await.unwrap();
    assert!(redirect_params(&response, THIRD_REDIRECT).contains_key("code"));
    // prompt=consent asks again.
    let mut again = third_request(&pkce);
    again.extra.push(("prompt", "consent"));
    let response = browser.get(app.authorize_url(&again)).send().await.unwrap();
    assert!(location(&response).contains("/login/"));

    // Revoked on the account page: asked again; prompt=none says consent_required.
    let (_, html) = app.get_html(&browser, &format!("{}/account", app.issuer)).await;
    assert!(html.contains("Apps with access") && html.contains("diary-app"));
    let revoke = html.replace("&#x2f;", "/");
    let action = between(&revoke, "action=\"/t/acme/account/apps/", "\"");
    let response = app
        .post_form(&browser, &format!("{}/account/apps/{action}", app.issuer), &csrf_token(&html), &[])
        .await;
    assert_eq!(location(&response), "/t/acme/account?done=app-revoked");
    let response = browser.get(app.authorize_url(&silent)).send().await.unwrap();
    assert_eq!(redirect_params(&response, THIRD_REDIRECT)["error"], "consent_required");
}
both_backends!(third_party_clients_ask_for_consent_and_remember_it);

async fn first_party_clients_skip_consent(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
    assert!(params.contains_key("code"), "no consent page for the tenant's own portal");
}
both_backends!(first_party_clients_skip_consent);
