//! Binding a new second factor needs the password typed within the last ten minutes (NIST SP
//! 800-63B 6.1.2.1): a stolen session alone cannot set up the thief's authenticator, neither on
//! the account pages nor through a client's step-up.

use crate::both_backends;
use crate::helpers::*;

const ELEVEN_MINUTES: i64 = 11 * 60;

async fn a_stale_session_cannot_switch_on_two_factor(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    app.clock.advance(ELEVEN_MINUTES);
    for page in ["/account/two-factor/method", "/account/two-factor/app"] {
        let response = browser.get(format!("{}{page}", app.issuer)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{page} must ask for the password first");
        assert!(location(&response).contains("/t/acme/login/"), "{page}");
    }
    // The password again, and the setup opens.
    let login_url = app.absolute(&location(
        &browser.get(format!("{}/account/two-factor/app", app.issuer)).send().await.unwrap(),
    ));
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303);
    let (status, html) = app.get_html(&browser, &format!("{}/account/two-factor/app", app.issuer)).await;
    assert_eq!(status, 200);
    assert!(html.contains("alt=\"QR code\""));
}
both_backends!(a_stale_session_cannot_switch_on_two_factor);

async fn a_step_up_to_enrolment_asks_for_the_password_again(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    app.clock.advance(ELEVEN_MINUTES);
    let request =
        AuthRequest { extra: vec![("acr_values", "urn:tessera:acr:2fa")], ..AuthRequest::portal(&pkce) };
    let login_url = app.open_login_page(&browser, &request).await;
    let (status, html) = app.get_html(&browser, &login_url).await;
    assert_eq!(status, 200);
    assert!(!html.contains("alt=\"QR code\""), "no authenticator setup on a session alone");
    assert!(html.contains("type=\"password\""), "the password step: {html}");

    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303);
    let (status, html) = app.get_html(&browser, &login_url).await;
    assert_eq!(status, 200);
    assert!(html.contains("alt=\"QR code\""), "after the password, the setup");
}
both_backends!(a_step_up_to_enrolment_asks_for_the_password_again);
