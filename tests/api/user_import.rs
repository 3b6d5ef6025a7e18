//! Users imported from another identity provider sign in with their old password and their old
//! authenticator app; a bad file imports no one.

use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::both_backends;
use crate::helpers::*;

const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

fn argon2id(password: &str) -> String {
    let params = Params::new(19_456, 2, 1, None).unwrap();
    let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

async fn imported_users_sign_in_with_their_password_and_app(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let hash = argon2id("moved over password");
    let file = format!(
        "{{\"email\":\"Moved.User@example.org\",\"name\":\"Moved User\",\"password_hash\":\"{hash}\",\"totp_secret\":\"{SECRET}\"}}\n\
         {{\"email\":\"second@example.org\",\"password_hash\":\"{hash}\"}}\n"
    );
    let imported = tessera::user_import::import_users(&app.state, &tenant, &file).await.unwrap();
    assert_eq!(imported, tessera::user_import::Imported { users: 2, with_totp: 1 });

    let browser = firefox();
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);
    let login_url = app.open_login_page(&browser, &request).await;
    let response =
        app.submit_password(&browser, &login_url, "moved.user@example.org", "moved over password").await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.absolute(&location(&response)), login_url, "on to the second factor");
    let response = app.submit_code(&browser, &login_url, &totp_code(SECRET, app.clock.now()), false).await;
    assert_eq!(response.status(), 303);
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa");

    // The same file again: the first line is taken now, and nothing is written.
    let again = format!("{{\"email\":\"third@example.org\",\"password_hash\":\"{hash}\"}}\n{file}");
    let err = tessera::user_import::import_users(&app.state, &tenant, &again).await.unwrap_err().to_string();
    assert!(err.starts_with("line 2: a user with this email address already exists"), "{err}");
    let users = tessera::store::users::list(&app.state.db, tenant.id()).await.unwrap();
    assert!(users.iter().all(|u| u.email != "third@example.org"), "nothing of a failed import is written");
}
both_backends!(imported_users_sign_in_with_their_password_and_app);

async fn a_heavy_imported_hash_is_replaced_by_ours_at_the_first_sign_in(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let params = Params::new(65_536, 4, 1, None).unwrap();
    let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
    let heavy = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(b"moved over password", &salt)
        .unwrap()
        .to_string();
    let file = format!("{{\"email\":\"moved@example.org\",\"password_hash\":\"{heavy}\"}}\n");
    tessera::user_import::import_users(&app.state, &tenant, &file).await.unwrap();
    let stored = async || {
        let users = tessera::store::users::list(&app.state.db, tenant.id()).await.unwrap();
        users.into_iter().find(|u| u.email == "moved@example.org").unwrap().password_hash
    };

    for _ in 0..2 {
        let browser = firefox();
        let pkce = pkce();
        let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
        let response =
            app.submit_password(&browser, &login_url, "moved@example.org", "moved over password").await;
        assert_eq!(response.status(), 303);
        assert!(location(&response).starts_with(PORTAL_REDIRECT), "signed in");
        let hash = stored().await;
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "rehashed to ours: {hash}");
    }
}
both_backends!(a_heavy_imported_hash_is_replaced_by_ours_at_the_first_sign_in);
