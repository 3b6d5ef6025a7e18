//! Security keys and passkeys with a software authenticator (webauthn-authenticator-rs): the
//! real WebAuthn ceremonies, signatures and counters, over HTTP like a browser's script does.

use serde_json::{Value, json};
use tessera::startup;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs::prelude::{CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse, Url};

use crate::both_backends;
use crate::helpers::*;

/// A software authenticator as the browser would drive it. A `discoverable` one also plays the
/// part of a passkey: such an authenticator finds its credential itself (no allow list) and
/// returns the user handle it stored, which the soft authenticators do not do on their own.
struct Authenticator {
    backend: Soft,
    discoverable: bool,
    credential_id: Option<String>,
    user_handle: Option<String>,
}

enum Soft {
    Token(Box<SoftToken>),
    Passkey(SoftPasskey),
}

impl Authenticator {
    /// A security key that checks presence only (no PIN).
    fn token() -> Self {
        Self::with(Soft::Token(Box::new(SoftToken::new(false).unwrap().0)), false)
    }

    /// A passkey that verifies its user (the soft key reports a PIN check).
    fn passkey() -> Self {
        Self::with(Soft::Passkey(SoftPasskey::new(true)), true)
    }

    /// A discoverable credential on a key that cannot verify its user.
    fn passkey_without_user_verification() -> Self {
        Self::with(Soft::Token(Box::new(SoftToken::new(false).unwrap().0)), true)
    }

    fn with(backend: Soft, discoverable: bool) -> Self {
        Self { backend, discoverable, credential_id: None, user_handle: None }
    }

    fn register(&mut self, origin: &str, public_key: Value) -> Value {
        let options: CreationChallengeResponse =
            serde_json::from_value(json!({ "publicKey": public_key.clone() })).unwrap();
        let origin = Url::parse(origin).unwrap();
        let credential = match &mut self.backend {
            Soft::Token(key) => key.do_registration(origin, options).unwrap(),
            Soft::Passkey(key) => key.do_registration(origin, options).unwrap(),
        };
        self.credential_id = Some(credential.id.clone());
        self.user_handle = Some(public_key["user"]["id"].as_str().unwrap().to_string());
        serde_json::to_value(&credential).unwrap()
    }

    fn authenticate(&mut self, origin: &str, mut public_key: Value) -> Value {
        if self.discoverable && public_key["allowCredentials"].as_array().is_none_or(|a| a.is_empty()) {
            public_key["allowCredentials"] = json!([{ "type": "public-key", "id": self.credential_id }]);
        }
        let options: RequestChallengeResponse =
            serde_json::from_value(json!({ "publicKey": public_key })).unwrap();
        let origin = Url::parse(origin).unwrap();
        let credential: PublicKeyCredential = match &mut self.backend {
            Soft::Token(key) => key.do_authentication(origin, options).unwrap(),
            Soft::Passkey(key) => key.do_authentication(origin, options).unwrap(),
        };
        let mut credential = serde_json::to_value(&credential).unwrap();
        if self.discoverable {
            credential["response"]["userHandle"] = json!(self.user_handle);
        }
        credential
    }

    /// A copy of the key's secrets and counter, as a cloned authenticator would have.
    fn clone_token(&self) -> Self {
        let Soft::Token(token) = &self.backend else { panic!("only soft tokens can be copied") };
        let copy = SoftToken::from_cbor(&token.to_cbor().unwrap()).unwrap();
        Self {
            backend: Soft::Token(Box::new(copy)),
            discoverable: self.discoverable,
            credential_id: self.credential_id.clone(),
            user_handle: self.user_handle.clone(),
        }
    }
}

/// The origin of the test server: the relying party of every tenant on it.
fn origin(app: &TestApp) -> String {
    app.address.clone()
}

async fn begin(browser: &reqwest::Client, url: &str, csrf: &str) -> (u16, Value) {
    let response = browser.post(url).form(&[("csrf_token", csrf)]).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

impl TestApp {
    /// On the security keys page (signed in, fresh enough): registers a key under `name`.
    async fn add_key(
        &self,
        browser: &reqwest::Client,
        key: &mut Authenticator,
        name: &str,
    ) -> reqwest::Response {
        let page = format!("{}/account/security-keys", self.issuer);
        let (status, html) = self.get_html(browser, &page).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(">Add security key</button>"), "{html}");
        let csrf = csrf_token(&html);
        let (status, begun) = begin(browser, &format!("{page}/begin"), &csrf).await;
        assert_eq!(status, 200, "{begun}");
        let credential = key.register(&origin(self), begun["publicKey"].clone());
        self.post_form(
            browser,
            &page,
            &csrf,
            &[
                ("name", name),
                ("ceremony", begun["ceremony"].as_str().unwrap()),
                ("credential", &credential.to_string()),
            ],
        )
        .await
    }

    /// A signed-in browser whose second factor is `key` (the first key: backup codes shown).
    async fn user_with_key(&self, key: &mut Authenticator) -> reqwest::Client {
        let browser = firefox();
        let pkce = pkce();
        self.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
        let response = self.add_key(&browser, key, "Blue key").await;
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert_eq!(between(&html, "aria-label=\"Backup codes\">", "</ul>").matches("<code>").count(), 10);
        browser
    }

    /// At the second-factor page: the script's two requests with `key` answering the challenge
    /// as if it were at `origin`.
    async fn answer_with_key(
        &self,
        browser: &reqwest::Client,
        login_url: &str,
        key: &mut Authenticator,
        origin: &str,
    ) -> reqwest::Response {
        let (status, html) = self.get_html(browser, login_url).await;
        assert_eq!(status, 200);
        assert!(html.contains(">Use security key</button>"), "{html}");
        let csrf = csrf_token(&html);
        let (status, begun) = begin(browser, &format!("{login_url}/webauthn"), &csrf).await;
        assert_eq!(status, 200, "{begun}");
        let credential = key.authenticate(origin, begun["publicKey"].clone());
        self.post_form(
            browser,
            &format!("{login_url}/security-key"),
            &csrf,
            &[("ceremony", begun["ceremony"].as_str().unwrap()), ("credential", &credential.to_string())],
        )
        .await
    }

    /// A new browser signed in with password and `key`: fresh enough for the keys page.
    async fn signed_in_with_key(&self, key: &mut Authenticator) -> reqwest::Client {
        let browser = firefox();
        let pkce = pkce();
        let login_url = self.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
        let response = self.answer_with_key(&browser, &login_url, key, &origin(self)).await;
        assert_eq!(response.status(), 303);
        browser
    }

    /// "Sign in with a passkey" on the password page: the script's two requests with `key`.
    async fn answer_with_passkey(
        &self,
        browser: &reqwest::Client,
        login_url: &str,
        key: &mut Authenticator,
    ) -> (Value, reqwest::Response) {
        let (_, html) = self.get_html(browser, login_url).await;
        assert!(html.contains(">Sign in with a passkey</button>"), "{html}");
        let csrf = csrf_token(&html);
        let (status, begun) = begin(browser, &format!("{login_url}/webauthn"), &csrf).await;
        assert_eq!(status, 200, "{begun}");
        let credential = key.authenticate(&origin(self), begun["publicKey"].clone());
        let response = self
            .post_form(
                browser,
                &format!("{login_url}/passkey"),
                &csrf,
                &[("ceremony", begun["ceremony"].as_str().unwrap()), ("credential", &credential.to_string())],
            )
            .await;
        (begun, response)
    }

    async fn tenant_events(&self) -> Vec<String> {
        let tenant = tessera::store::tenants::find_by_slug(&self.state.db, "acme").await.unwrap().unwrap();
        tessera::store::audit_events::list_for_tenant(&self.state.db, &tenant.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event)
            .collect()
    }
}

async fn a_registered_key_is_the_second_factor(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut key = Authenticator::token();
    let browser = app.user_with_key(&mut key).await;
    let (_, account) = app.get_html(&browser, &format!("{}/account", app.issuer)).await;
    assert!(account.contains("Method: Security key"), "{account}");
    // The key list needs a sign-in with the key now that two-factor authentication is on.
    let response = browser.get(format!("{}/account/security-keys", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 303);

    let browser = firefox();
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(!html.contains(">Verification code</label>"), "no code field for a key: {html}");
    assert!(html.contains("No access to trusted devices?"), "backup codes stay available");
    let response = app.answer_with_key(&browser, &login_url, &mut key, &origin(&app)).await;
    assert_eq!(response.status(), 303);
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, request.nonce).await;
    // The soft token checks presence only: no "pin".
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "user", "mfa"]));
    assert_eq!(claims["acr"], "phr");
    let (_, keys) = app.get_html(&browser, &format!("{}/account/security-keys", app.issuer)).await;
    assert!(keys.contains("<td>Blue key</td>"), "{keys}");
    assert!(!keys.contains("Not used yet"), "the use is recorded: {keys}");
}
both_backends!(a_registered_key_is_the_second_factor);

async fn an_answer_for_another_origin_is_refused(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut key = Authenticator::token();
    app.user_with_key(&mut key).await;
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    // Another site relaying the challenge: the key signs for the origin it really is at (a key
    // refuses outright a site outside the RP ID's domain, so this one differs by its port).
    let response = app.answer_with_key(&browser, &login_url, &mut key, "http://localhost:1").await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("could not be verified"));
    // The real origin still works in the same attempt.
    let response = app.answer_with_key(&browser, &login_url, &mut key, &origin(&app)).await;
    assert_eq!(response.status(), 303);
    redirect_params(&response, PORTAL_REDIRECT);
}
both_backends!(an_answer_for_another_origin_is_refused);

async fn a_replayed_assertion_is_refused(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut key = Authenticator::token();
    app.user_with_key(&mut key).await;
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    let csrf = csrf_token(&html);
    let (_, begun) = begin(&browser, &format!("{login_url}/webauthn"), &csrf).await;
    let credential = key.authenticate(&origin(&app), begun["publicKey"].clone()).to_string();
    let ceremony = begun["ceremony"].as_str().unwrap().to_string();

    // An attacker who captured the answer replays it in an attempt of their own.
    let attacker = firefox();
    let other_pkce = crate::helpers::pkce();
    let attacker_url = app.password_then_second_factor(&attacker, &AuthRequest::portal(&other_pkce)).await;
    let (_, html) = app.get_html(&attacker, &attacker_url).await;
    let attacker_csrf = csrf_token(&html);
    let submit = |browser: &reqwest::Client, url: String, csrf: String, ceremony: String| {
        let credential = credential.clone();
        let browser = browser.clone();
        async move {
            browser
                .post(url)
                .form(&[("csrf_token", csrf), ("ceremony", ceremony), ("credential", credential)])
                .send()
                .await
                .unwrap()
        }
    };
    // With the victim's ceremony (not the attacker's attempt's), and with a fresh ceremony of
    // their own (another challenge): both refused.
    let stolen =
        submit(&attacker, format!("{attacker_url}/security-key"), attacker_csrf.clone(), ceremony.clone());
    assert_eq!(stolen.await.status(), 401);
    let (_, own) = begin(&attacker, &format!("{attacker_url}/webauthn"), &attacker_csrf).await;
    let replay = submit(
        &attacker,
        format!("{attacker_url}/security-key"),
        attacker_csrf.clone(),
        own["ceremony"].as_str().unwrap().to_string(),
    );
    assert_eq!(replay.await.status(), 401);

    // The victim's own first use works; the same answer a second time does not.
    let first = submit(&browser, format!("{login_url}/security-key"), csrf.clone(), ceremony.clone()).await;
    assert_eq!(first.status(), 303);
    redirect_params(&first, PORTAL_REDIRECT);
    let later = firefox();
    let again_url = app.password_then_second_factor(&later, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&later, &again_url).await;
    let again = submit(&later, format!("{again_url}/security-key"), csrf_token(&html), ceremony).await;
    assert_eq!(again.status(), 401, "a ceremony answers once");
}
both_backends!(a_replayed_assertion_is_refused);

async fn a_counter_that_goes_backwards_is_refused_and_audited(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut key = Authenticator::token();
    app.user_with_key(&mut key).await;
    // Someone copies the key's secrets (and its counter) before its owner uses it again.
    let mut clone = key.clone_token();

    let owner = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&owner, &AuthRequest::portal(&pkce)).await;
    let response = app.answer_with_key(&owner, &login_url, &mut key, &origin(&app)).await;
    assert_eq!(response.status(), 303, "the owner signs in");

    let thief = firefox();
    let thief_pkce = crate::helpers::pkce();
    let thief_url = app.password_then_second_factor(&thief, &AuthRequest::portal(&thief_pkce)).await;
    let response = app.answer_with_key(&thief, &thief_url, &mut clone, &origin(&app)).await;
    assert_eq!(response.status(), 401, "the clone's counter did not move past the owner's use");
    assert!(app.tenant_events().await.iter().any(|e| e == "security_key.counter_regression"));
}
both_backends!(a_counter_that_goes_backwards_is_refused_and_audited);

async fn another_instance_finishes_a_ceremony(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut key = Authenticator::token();
    app.user_with_key(&mut key).await;
    // A second instance on the same database and settings, as behind a load balancer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let state = startup::build_state(app.state.settings.clone(), app.clock.clone()).await.unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(startup::serve(state, listener, async {
        let _ = stopped.await;
    }));

    let browser = firefox();
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    let csrf = csrf_token(&html);
    let (status, begun) = begin(&browser, &format!("{login_url}/webauthn"), &csrf).await;
    assert_eq!(status, 200);
    let credential = key.authenticate(&origin(&app), begun["publicKey"].clone());
    let on_second = login_url.replace(&app.address, &second);
    let response = app
        .post_form(
            &browser,
            &format!("{on_second}/security-key"),
            &csrf,
            &[("ceremony", begun["ceremony"].as_str().unwrap()), ("credential", &credential.to_string())],
        )
        .await;
    assert_eq!(response.status(), 303);
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, request.nonce).await;
    assert_eq!(claims["acr"], "phr");
}
both_backends!(another_instance_finishes_a_ceremony);

async fn a_passkey_signs_in_without_the_password(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut passkey = Authenticator::passkey();
    app.user_with_key(&mut passkey).await;

    let browser = firefox();
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);
    let login_url = app.open_login_page(&browser, &request).await;
    let (begun, response) = app.answer_with_passkey(&browser, &login_url, &mut passkey).await;
    assert_eq!(begun["publicKey"]["userVerification"], "required");
    assert!(
        begun["publicKey"]["allowCredentials"].as_array().is_none_or(|a| a.is_empty()),
        "no user is known yet"
    );
    assert_eq!(response.status(), 303);
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, request.nonce).await;
    assert_eq!(claims["amr"], json!(["hwk", "user", "pin", "mfa"]));
    assert_eq!(claims["acr"], "phr");
    // The session is strong and fresh: the key list opens without signing in again.
    let (status, _) = app.get_html(&browser, &format!("{}/account/security-keys", app.issuer)).await;
    assert_eq!(status, 200);
}
both_backends!(a_passkey_signs_in_without_the_password);

async fn a_passkey_without_user_verification_is_refused(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut passkey = Authenticator::passkey_without_user_verification();
    app.user_with_key(&mut passkey).await;
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, response) = app.answer_with_passkey(&browser, &login_url, &mut passkey).await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.unwrap();
    assert!(html.contains("Signing in with a passkey did not work"), "{html}");
    assert!(html.contains(">Password</label>"), "the password form is still there");
    assert!(app.tenant_events().await.iter().any(|e| e == "login.passkey_failed"));
}
both_backends!(a_passkey_without_user_verification_is_refused);

async fn acr_phr_insists_on_a_security_key(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("acr_values", "phr"));

    // An app user without a key: told what to do, and codes do not count here.
    let browser = firefox();
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains("you have not added one to your account yet"), "{html}");
    assert!(!html.contains(">Verification code</label>") && !html.contains("No access to trusted devices?"));
    // The page has no form; a hand-made post carries the attempt's token from the backup page.
    let (_, html) = app.get_html(&browser, &format!("{login_url}/backup")).await;
    let code = totp_code(&enrolled.setup_key, app.clock.now());
    let response =
        app.post_form(&browser, &format!("{login_url}/code"), &csrf_token(&html), &[("code", &code)]).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("a code is not enough here"));
    let response = app
        .post_form(
            &browser,
            &format!("{login_url}/backup"),
            &csrf_token(&html),
            &[("backup_code", &enrolled.backup_codes[0])],
        )
        .await;
    assert_ne!(response.status(), 303, "a backup code is no key either");

    // After adding a key (which replaces the app), the same request succeeds with it.
    let owner = firefox();
    app.clock.advance(30);
    let own_pkce = crate::helpers::pkce();
    let own_login = app.password_then_second_factor(&owner, &AuthRequest::portal(&own_pkce)).await;
    let code = totp_code(&enrolled.setup_key, app.clock.now());
    let response = app.submit_code(&owner, &own_login, &code, false).await;
    assert_eq!(response.status(), 303);
    let mut key = Authenticator::token();
    let response = app.add_key(&owner, &mut key, "Blue key").await;
    assert_eq!(response.status(), 303, "method changed: back to the overview");
    assert!(location(&response).ends_with("/account?done=security-key-on"));
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let response = app.answer_with_key(&browser, &login_url, &mut key, &origin(&app)).await;
    assert_eq!(response.status(), 303);
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, request.nonce).await;
    assert_eq!(claims["acr"], "phr");
    // The app stopped working when keys became the method.
    let plain = firefox();
    let plain_pkce = crate::helpers::pkce();
    let plain_login = app.password_then_second_factor(&plain, &AuthRequest::portal(&plain_pkce)).await;
    app.clock.advance(30);
    let code = totp_code(&enrolled.setup_key, app.clock.now());
    let (_, html) = app.get_html(&plain, &plain_login).await;
    let response =
        app.post_form(&plain, &format!("{plain_login}/code"), &csrf_token(&html), &[("code", &code)]).await;
    assert_eq!(response.status(), 401);
}
both_backends!(acr_phr_insists_on_a_security_key);

async fn keys_are_listed_and_removed(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut blue = Authenticator::token();
    app.user_with_key(&mut blue).await;
    let browser = app.signed_in_with_key(&mut blue).await;
    let page = format!("{}/account/security-keys", app.issuer);
    let (_, html) = app.get_html(&browser, &page).await;
    let blue_id = between(&html, "/account/security-keys/", "/remove\"").to_string();
    let blue_id = blue_id.rsplit('/').next().unwrap().to_string();

    // The last key cannot go (that would leave a method without a key).
    let response =
        app.post_form(&browser, &format!("{page}/{blue_id}/remove"), &csrf_token(&html), &[]).await;
    assert_eq!(response.status(), 303, "{blue_id}: {}", response.text().await.unwrap());
    let (_, html) = app.get_html(&browser, &app.absolute(&location(&response))).await;
    assert!(html.contains("This is your last security key"), "{html}");

    // A registration excludes the keys already registered (the browser then refuses to register
    // the same key twice); a second key is added to the list.
    let (_, html) = app.get_html(&browser, &page).await;
    let (_, begun) = begin(&browser, &format!("{page}/begin"), &csrf_token(&html)).await;
    assert_eq!(begun["publicKey"]["excludeCredentials"].as_array().unwrap().len(), 1, "{begun}");
    assert_eq!(begun["publicKey"]["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(
        begun["publicKey"]["extensions"]["credentialProtectionPolicy"],
        "userVerificationOptionalWithCredentialIDList"
    );
    let mut green = Authenticator::token();
    let response = app.add_key(&browser, &mut green, "Green <key>").await;
    assert_eq!(response.status(), 303);
    let (_, html) = app.get_html(&browser, &page).await;
    assert!(html.contains("<td>Blue key</td>") && html.contains("<td>Green &lt;key&gt;</td>"), "{html}");

    let response =
        app.post_form(&browser, &format!("{page}/{blue_id}/remove"), &csrf_token(&html), &[]).await;
    assert_eq!(response.status(), 303);
    let (_, html) = app.get_html(&browser, &app.absolute(&location(&response))).await;
    assert!(!html.contains("<td>Blue key</td>") && html.contains("The security key was removed."));
    assert!(app.tenant_events().await.iter().any(|e| e == "security_key.removed"));

    // The removed key is no longer asked for (nor accepted); the remaining one signs in.
    let other = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&other, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&other, &login_url).await;
    let (_, begun) = begin(&other, &format!("{login_url}/webauthn"), &csrf_token(&html)).await;
    let allowed: Vec<&str> = begun["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, vec![green.credential_id.as_deref().unwrap()]);
    let mut stale = blue.clone_token();
    // Answer with it anyway, as a client that ignores the allow list would.
    stale.discoverable = true;
    let mut options = begun["publicKey"].clone();
    options["allowCredentials"] = json!([]);
    let credential = stale.authenticate(&origin(&app), options);
    let response = app
        .post_form(
            &other,
            &format!("{login_url}/security-key"),
            &csrf_token(&html),
            &[("ceremony", begun["ceremony"].as_str().unwrap()), ("credential", &credential.to_string())],
        )
        .await;
    assert_eq!(response.status(), 401);
    let response = app.answer_with_key(&other, &login_url, &mut green, &origin(&app)).await;
    assert_eq!(response.status(), 303);
}
both_backends!(keys_are_listed_and_removed);

async fn adding_a_key_needs_a_recent_password(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let page = format!("{}/account/security-keys", app.issuer);
    let (_, html) = app.get_html(&browser, &page).await;
    let csrf = csrf_token(&html);
    // Eleven minutes later the session still opens the account, but a key (which could become a
    // passwordless passkey) needs the password again.
    app.clock.advance(11 * 60);
    let response = browser.get(&page).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).contains("/t/acme/login/"));
    let (status, body) = begin(&browser, &format!("{page}/begin"), &csrf).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("login_required")));
}
both_backends!(adding_a_key_needs_a_recent_password);

async fn a_passkey_of_someone_else_does_not_answer_an_id_token_hint(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut passkey = Authenticator::passkey();
    app.user_with_key(&mut passkey).await;
    // A colleague on the same computer: the app holds their ID token and asks to re-authenticate
    // them; the passkey on the computer belongs to someone else.
    let tenant = tessera::tenants::find(&app.state, "acme").await.unwrap().unwrap();
    let colleague = "b.colleague@example.org";
    tessera::admin::create_user(
        &app.state,
        &tenant,
        colleague,
        None,
        "another long passphrase".to_string().into(),
    )
    .await
    .unwrap();
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, colleague, "another long passphrase").await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let tokens: Value = app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let hint = tokens["id_token"].as_str().unwrap().to_string();

    let shared = firefox();
    let pkce = crate::helpers::pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.extra = vec![("prompt", "login"), ("id_token_hint", &hint)];
    let login_url = app.open_login_page(&shared, &request).await;
    let (_, response) = app.answer_with_passkey(&shared, &login_url, &mut passkey).await;
    assert_eq!(response.status(), 303);
    let params = redirect_params(&response, PORTAL_REDIRECT);
    assert_eq!(params.get("error").map(String::as_str), Some("login_required"), "{params:?}");
    assert!(!params.contains_key("code"));
    let cookies = response.headers().get_all("set-cookie").iter().count();
    assert_eq!(cookies, 0, "no session for the wrong person");
}
both_backends!(a_passkey_of_someone_else_does_not_answer_an_id_token_hint);

async fn a_step_up_to_phr_never_settles_for_enrolment(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let browser = firefox();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    // Signed in with a password only, no second factor; the app now asks for phr.
    let pkce = crate::helpers::pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("acr_values", "phr"));
    let login_url = app.open_login_page(&browser, &request).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains("you have not added one to your account yet"), "{html}");
    assert!(!html.contains("Set up your authenticator app"), "no enrolment that would end at 2fa");
}
both_backends!(a_step_up_to_phr_never_settles_for_enrolment);

async fn a_disabled_persons_passkey_is_refused_like_one_that_did_not_verify(backend: Backend) {
    let Some(app) = spawn_app_on_localhost(backend).await else { return };
    let mut passkey = Authenticator::passkey();
    app.user_with_key(&mut passkey).await;
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    tessera::admin::disable_user(&app.state, &tenant, EMAIL, &tessera::admin::Actor::CLI).await.unwrap();
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, response) = app.answer_with_passkey(&browser, &login_url, &mut passkey).await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.unwrap();
    assert!(html.contains("Signing in with a passkey did not work"), "{html}");
    assert!(app.tenant_events().await.iter().any(|e| e == "login.passkey_failed"));
    // Enabled again, the same passkey signs in.
    tessera::admin::enable_user(&app.state, &tenant, EMAIL, &tessera::admin::Actor::CLI).await.unwrap();
    let browser = firefox();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, response) = app.answer_with_passkey(&browser, &login_url, &mut passkey).await;
    assert_eq!(response.status(), 303);
}
both_backends!(a_disabled_persons_passkey_is_refused_like_one_that_did_not_verify);
