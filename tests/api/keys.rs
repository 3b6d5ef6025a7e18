//! Signing algorithms per client and key rotation while tokens are outstanding.

use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};
use tessera::admin::{self, NewClientRequest};

use crate::both_backends;
use crate::helpers::*;
use crate::refresh_and_tokens::decode_jwt;

const REDIRECT: &str = "https://alg.example.org/cb";

fn header(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').next().unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Registers a client signing with `alg`, signs in and returns its tokens and secret.
async fn tokens_for(app: &TestApp, client_id: &str, alg: &str) -> (serde_json::Value, String) {
    use secrecy::ExposeSecret;
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest {
        first_party: true,
        id_token_alg: Some(alg.into()),
        ..NewClientRequest::new(client_id, &[REDIRECT])
    };
    let (_, secret) = admin::create_client(&app.state, &tenant, request).await.unwrap();
    let secret = secret.unwrap().expose_secret().to_string();
    let pkce = pkce();
    let request = AuthRequest { client_id, redirect_uri: REDIRECT, ..AuthRequest::portal(&pkce) };
    let browser = browser();
    let params = app.sign_in(&browser, &request).await;
    let response = app
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &pkce.verifier),
            ],
            Some((client_id, &secret)),
        )
        .await;
    assert_eq!(response.status(), 200);
    (response.json().await.unwrap(), secret)
}

async fn es256_and_eddsa_clients_get_tokens_a_relying_party_verifies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let jwks: CoreJsonWebKeySet = serde_json::from_value(app.get_json("/jwks.json").await).unwrap();
    for (client_id, alg, core_alg) in [
        ("ec-app", "ES256", CoreJwsSigningAlgorithm::EcdsaP256Sha256),
        ("ed-app", "EdDSA", CoreJwsSigningAlgorithm::EdDsa),
    ] {
        let (tokens, secret) = tokens_for(&app, client_id, alg).await;
        let raw = tokens["id_token"].as_str().unwrap();
        assert_eq!(header(raw)["alg"], alg);
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(client_id.into()),
            ClientSecret::new(secret),
            IssuerUrl::new(app.issuer.clone()).unwrap(),
            jwks.clone(),
        )
        .set_allowed_algs(vec![core_alg]);
        let id_token: CoreIdToken = raw.parse().unwrap();
        let claims = id_token.claims(&verifier, &Nonce::new("nonce-456".into())).unwrap();
        let expected = openidconnect::AccessTokenHash::from_token(
            &openidconnect::AccessToken::new(tokens["access_token"].as_str().unwrap().into()),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected), "{alg} at_hash");
    }
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let bad =
        NewClientRequest { id_token_alg: Some("HS256".into()), ..NewClientRequest::new("x", &[REDIRECT]) };
    assert!(admin::create_client(&app.state, &tenant, bad).await.is_err());
}
both_backends!(es256_and_eddsa_clients_get_tokens_a_relying_party_verifies);

async fn rotation_publishes_first_signs_later_and_retires_after_the_tokens(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let rs256_kids = |jwks: &serde_json::Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == "RS256")
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let sign_in = || async {
        let pkce = pkce();
        let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
        let tokens: serde_json::Value =
            app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
        tokens["id_token"].as_str().unwrap().to_string()
    };
    let old_token = sign_in().await;
    let old_kid = header(&old_token)["kid"].as_str().unwrap().to_string();

    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let new_key = admin::rotate_key(&app.state, &tenant, "RS256").await.unwrap();
    let response = reqwest::get(format!("{}/jwks.json", app.issuer)).await.unwrap();
    assert!(response.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let jwks: serde_json::Value = response.json().await.unwrap();
    assert_eq!(rs256_kids(&jwks).len(), 2, "published at once");
    assert_eq!(header(&sign_in().await)["kid"], old_kid.as_str(), "the old key signs during the overlap");

    app.clock.advance(3601);
    let newer = sign_in().await;
    assert_eq!(header(&newer)["kid"], new_key.kid.as_str(), "the new key signs after the overlap");
    // A token of the old key still verifies against the published set.
    let jwks: CoreJsonWebKeySet = serde_json::from_value(app.get_json("/jwks.json").await).unwrap();
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(PORTAL.into()),
        ClientSecret::new(app.portal_secret.clone()),
        IssuerUrl::new(app.issuer.clone()).unwrap(),
        jwks,
    )
    .require_issuer_match(true)
    .set_time_fn({
        let issued = decode_jwt(&old_token)["iat"].as_i64().unwrap();
        move || chrono::DateTime::from_timestamp(issued + 1, 0).unwrap()
    });
    let old: CoreIdToken = old_token.parse().unwrap();
    old.claims(&verifier, &Nonce::new("nonce-456".into())).unwrap();

    // Once every ID token the old key signed has expired, it leaves the JWKS (another instance
    // may have gone on signing with it for `MEMORY_SECONDS` after the new key took over).
    app.clock.advance(901 + tessera::keys::MEMORY_SECONDS);
    let jwks = app.get_json("/jwks.json").await;
    assert_eq!(rs256_kids(&jwks), vec![new_key.kid.clone()]);
}
both_backends!(rotation_publishes_first_signs_later_and_retires_after_the_tokens);

async fn jwt_access_tokens_follow_rfc_9068_and_stay_revocable(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    use secrecy::ExposeSecret;
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest {
        first_party: true,
        jwt_access_tokens: true,
        allowed_scopes: vec!["records:read".into()],
        ..NewClientRequest::new("api-app", &[REDIRECT])
    };
    let (_, secret) = admin::create_client(&app.state, &tenant, request).await.unwrap();
    let secret = secret.unwrap().expose_secret().to_string();
    let pkce = pkce();
    let request = AuthRequest { client_id: "api-app", redirect_uri: REDIRECT, ..AuthRequest::portal(&pkce) };
    let params = app.sign_in(&browser(), &request).await;
    let tokens: serde_json::Value = app
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &pkce.verifier),
            ],
            Some(("api-app", &secret)),
        )
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(header(access)["typ"], "at+jwt");
    let (signed, signature) = access.rsplit_once('.').unwrap();
    let jwks = app.get_json("/jwks.json").await;
    let key =
        jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header(access)["kid"]).unwrap().clone();
    use base64::Engine;
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert!(tessera::keys::verify_with_jwk(tessera::keys::Alg::Rs256, &key, signed.as_bytes(), &signature));
    let claims = decode_jwt(access);
    let id = decode_jwt(tokens["id_token"].as_str().unwrap());
    for name in ["iss", "sub", "auth_time", "acr"] {
        assert_eq!(claims[name], id[name], "{name}");
    }
    assert_eq!(claims["client_id"], "api-app");
    assert_eq!(claims["scope"], "openid email");
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    // Userinfo and revocation work as for opaque tokens.
    let userinfo = reqwest::Client::new()
        .get(format!("{}/userinfo", app.issuer))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    let revoke = reqwest::Client::new()
        .post(format!("{}/revoke", app.issuer))
        .basic_auth("api-app", Some(&secret))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let userinfo = reqwest::Client::new()
        .get(format!("{}/userinfo", app.issuer))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
    // client_credentials: the client is the subject.
    let response = app
        .token_request(&[("grant_type", "client_credentials")], Some(("api-app", &secret)))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(decode_jwt(response["access_token"].as_str().unwrap())["sub"], "api-app");
}
both_backends!(jwt_access_tokens_follow_rfc_9068_and_stay_revocable);

/// Access tokens may be JWTs (RFC 9068) that live longer than ID tokens: a retired key must stay
/// published until the last access token it signed has expired.
async fn retirement_waits_for_jwt_access_tokens(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| settings.tokens.access_token_seconds = 3600).await
    else {
        return;
    };
    use secrecy::ExposeSecret;
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest {
        jwt_access_tokens: true,
        allowed_scopes: vec!["records:read".into()],
        ..NewClientRequest::new("api-app", &[REDIRECT])
    };
    let (_, secret) = admin::create_client(&app.state, &tenant, request).await.unwrap();
    let secret = secret.unwrap().expose_secret().to_string();
    let access_token = || async {
        let response: serde_json::Value = app
            .token_request(&[("grant_type", "client_credentials")], Some(("api-app", &secret)))
            .await
            .json()
            .await
            .unwrap();
        response["access_token"].as_str().unwrap().to_string()
    };
    let published = || async {
        let jwks = app.get_json("/jwks.json").await;
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    admin::rotate_key(&app.state, &tenant, "RS256").await.unwrap();
    app.clock.advance(3599);
    let last_of_the_old_key = access_token().await;
    let old_kid = header(&last_of_the_old_key)["kid"].as_str().unwrap().to_string();
    let expires = decode_jwt(&last_of_the_old_key)["exp"].as_i64().unwrap();

    // Long after the ID tokens of the old key, its last access token is still valid.
    app.clock.advance(1000 + tessera::keys::MEMORY_SECONDS);
    assert!(app.clock.now() < expires);
    assert!(published().await.contains(&old_kid), "the key of a valid access token is published");
    app.clock.advance(expires - app.clock.now() + tessera::keys::MEMORY_SECONDS + 1);
    assert!(!published().await.contains(&old_kid), "retired once its last token has expired");
}
both_backends!(retirement_waits_for_jwt_access_tokens);

/// Instances remember the published keys for 30 s: a shorter overlap would let one of them sign
/// with a key another does not publish yet, so the server and the CLI refuse to start with one.
#[test]
fn a_rotation_overlap_shorter_than_the_key_memory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = |overlap: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["key", "list", "--tenant", "acme"])
            .env("TESSERA_DATA_DIR", dir.path())
            .env("TESSERA_PUBLIC_URL", "http://localhost:8080")
            .env_remove("TESSERA_DATABASE_URL")
            .env("TESSERA_KEYS__ROTATION_OVERLAP_SECONDS", overlap)
            .output()
            .unwrap()
    };
    let refused = run("10");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("keys.rotation_overlap_seconds must be at least 30"), "{stderr}");
    // At the memory's length it starts (and says the tenant does not exist).
    let accepted = String::from_utf8_lossy(&run("30").stderr).to_string();
    assert!(!accepted.contains("rotation_overlap_seconds"), "{accepted}");
}
