//! Refusals at the authorization endpoint: a page when the client cannot be trusted with the
//! answer, an error redirect when it can.

use crate::both_backends;
use crate::helpers::*;

async fn unregistered_redirect_uri_gets_a_page_and_no_redirect(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    for redirect_uri in [
        "https://evil.example/callback",
        "https://portal.example.org/callback/",
        "https://portal.example.org/callback?x=1",
        "",
    ] {
        let mut request = AuthRequest::portal(&pkce);
        request.redirect_uri = redirect_uri;
        let response = browser().get(app.authorize_url(&request)).send().await.unwrap();
        assert_eq!(response.status(), 400, "{redirect_uri}");
        assert!(response.headers().get("location").is_none());
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = response.text().await.unwrap();
        assert!(html.contains("return address that is not registered"), "{html}");
    }
}
both_backends!(unregistered_redirect_uri_gets_a_page_and_no_redirect);

async fn unknown_client_gets_a_page_and_no_redirect(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.client_id = "no-such-client";
    let response = browser().get(app.authorize_url(&request)).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("not registered with this login space"));
}
both_backends!(unknown_client_gets_a_page_and_no_redirect);

async fn missing_openid_scope_is_redirected_as_invalid_scope(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "email";
    let response = browser().get(app.authorize_url(&request)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let params = redirect_params(&response, PORTAL_REDIRECT);
    assert_eq!(params["error"], "invalid_scope");
    assert_eq!(params["state"], "state-123");
    assert_eq!(params["iss"], app.issuer);
    assert!(!params.contains_key("code"));
}
both_backends!(missing_openid_scope_is_redirected_as_invalid_scope);

async fn public_client_without_pkce_or_with_plain_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let base = AuthRequest {
        client_id: MOBILE,
        redirect_uri: MOBILE_REDIRECT,
        scope: "openid",
        state: "s",
        nonce: "n",
        challenge: None,
        extra: vec![],
    };
    let response = browser().get(app.authorize_url(&base)).send().await.unwrap();
    let params = redirect_params(&response, MOBILE_REDIRECT);
    assert_eq!(params["error"], "invalid_request");
    assert!(params["error_description"].contains("PKCE"));

    let verifier = pkce().verifier;
    let plain = AuthRequest {
        extra: vec![("code_challenge", verifier.as_str()), ("code_challenge_method", "plain")],
        ..base
    };
    let response = browser().get(app.authorize_url(&plain)).send().await.unwrap();
    assert_eq!(redirect_params(&response, MOBILE_REDIRECT)["error"], "invalid_request");
}
both_backends!(public_client_without_pkce_or_with_plain_is_refused);

async fn unsupported_response_type_is_redirected(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let url =
        app.authorize_url(&AuthRequest::portal(&pkce)).replace("response_type=code", "response_type=token");
    let response = browser().get(url).send().await.unwrap();
    assert_eq!(redirect_params(&response, PORTAL_REDIRECT)["error"], "unsupported_response_type");
}
both_backends!(unsupported_response_type_is_redirected);
