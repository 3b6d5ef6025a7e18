//! The second-factor step with an authenticator app and backup codes, driven over HTTP with a
//! clock the tests move.

use crate::both_backends;
use crate::helpers::*;

async fn sign_in_with_an_authenticator_app_gives_2fa_claims(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;

    let browser = firefox();
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let code = totp_code(&enrolled.setup_key, app.clock.now());
    let response = app.submit_code(&browser, &login_url, &code, false).await;
    assert_eq!(response.status(), 303);
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa");
}
both_backends!(sign_in_with_an_authenticator_app_gives_2fa_claims);

async fn codes_of_the_current_and_previous_step_only_and_each_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    // Well past the enrolment's time step, so "the previous step" was never used.
    app.clock.advance(60);
    let now = app.clock.now();
    let key = &enrolled.setup_key;
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);

    // Two steps back and one step ahead are refused.
    let browser = firefox();
    let login_url = app.password_then_second_factor(&browser, &request).await;
    for refused in [totp_code(key, now - 60), totp_code(key, now + 30)] {
        let response = app.submit_code(&browser, &login_url, &refused, false).await;
        assert_eq!(response.status(), 401);
        assert!(response.text().await.unwrap().contains("This code is not correct or has already been used"));
    }
    // The previous step is still accepted.
    let response = app.submit_code(&browser, &login_url, &totp_code(key, now - 30), false).await;
    assert_eq!(response.status(), 303);
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));

    // The current code works once; the same code in another attempt is refused.
    let current = totp_code(key, now);
    let first = firefox();
    let login_url = app.password_then_second_factor(&first, &request).await;
    assert_eq!(app.submit_code(&first, &login_url, &current, false).await.status(), 303);
    let second = firefox();
    let login_url = app.password_then_second_factor(&second, &request).await;
    assert_eq!(app.submit_code(&second, &login_url, &current, false).await.status(), 401, "replayed code");
    // And a code of a step before the last used one is refused too.
    assert_eq!(app.submit_code(&second, &login_url, &totp_code(key, now - 30), false).await.status(), 401);
}
both_backends!(codes_of_the_current_and_previous_step_only_and_each_once);

async fn five_wrong_codes_end_the_attempt(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    for _ in 0..4 {
        assert_eq!(app.submit_code(&browser, &login_url, "000000", false).await.status(), 401);
    }
    let response = app.submit_code(&browser, &login_url, "000000", false).await;
    let html = response.text().await.unwrap();
    assert!(html.contains("Too many wrong codes"), "{html}");
    assert!(html.contains(">Password</label>"), "back at the password step");
    // The old attempt is gone, even with the right code.
    let (status, _) = app.get_html(&browser, &login_url).await;
    assert_eq!(status, 400);
    let right = totp_code(&enrolled.setup_key, app.clock.now());
    let csrf_page =
        browser.post(format!("{login_url}/code")).form(&[("code", right.as_str())]).send().await.unwrap();
    assert_eq!(csrf_page.status(), 400);

    // Starting over with the right password buys no fresh guesses: the user's counter of wrong
    // codes survives the restart, so the next code first waits.
    let other = firefox();
    let pkce = crate::helpers::pkce();
    let login_url = app.password_then_second_factor(&other, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_code(&other, &login_url, "000000", false).await;
    assert_eq!(response.status(), 429);
    assert!(response.text().await.unwrap().contains("Too many wrong codes. Wait 1 seconds"));
    app.clock.advance(31);
    let right = totp_code(&enrolled.setup_key, app.clock.now());
    assert_eq!(app.submit_code(&other, &login_url, &right, false).await.status(), 303);
}
both_backends!(five_wrong_codes_end_the_attempt);

async fn backup_codes_work_once_and_count_down(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);

    let browser = firefox();
    let login_url = app.password_then_second_factor(&browser, &request).await;
    // Typed loosely: upper case and spaces instead of the dash.
    let typed = enrolled.backup_codes[0].to_uppercase().replace('-', " ");
    let response = app.submit_backup_code(&browser, &login_url, &typed).await;
    assert_eq!(response.status(), 303);
    let (status, html) = app.get_html(&browser, &login_url).await;
    assert_eq!(status, 200);
    assert!(html.contains("9 backup codes left"), "{html}");
    let response = app.post_form(&browser, &format!("{login_url}/continue"), &csrf_token(&html), &[]).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa");

    let other = firefox();
    let login_url = app.password_then_second_factor(&other, &request).await;
    let response = app.submit_backup_code(&other, &login_url, &enrolled.backup_codes[0]).await;
    assert_eq!(response.status(), 401, "a used backup code is refused");
    assert!(
        response.text().await.unwrap().contains("This backup code is not correct or has already been used")
    );
}
both_backends!(backup_codes_work_once_and_count_down);

async fn running_low_on_backup_codes_urges_a_new_set(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);
    for (used, code) in enrolled.backup_codes.iter().take(8).enumerate() {
        let browser = firefox();
        let login_url = app.password_then_second_factor(&browser, &request).await;
        assert_eq!(app.submit_backup_code(&browser, &login_url, code).await.status(), 303);
        let (_, html) = app.get_html(&browser, &login_url).await;
        let left = 9 - used;
        assert!(html.contains(&format!("{left} backup codes left")), "{html}");
        assert_eq!(html.contains("You are running out of backup codes"), left <= 2, "left {left}");
    }
}
both_backends!(running_low_on_backup_codes_urges_a_new_set);

async fn one_backup_code_used_twice_at_once_works_exactly_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);
    let mut ready = Vec::new();
    for _ in 0..4 {
        let browser = firefox();
        let login_url = app.password_then_second_factor(&browser, &request).await;
        let (_, html) = app.get_html(&browser, &format!("{login_url}/backup")).await;
        ready.push((browser, login_url, csrf_token(&html)));
    }
    let mut handles = Vec::new();
    for (browser, login_url, csrf) in ready {
        let code = enrolled.backup_codes[3].clone();
        handles.push(tokio::spawn(async move {
            let response = browser
                .post(format!("{login_url}/backup"))
                .form(&[("backup_code", code.as_str()), ("csrf_token", csrf.as_str())])
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 3, "{statuses:?}");
}
both_backends!(one_backup_code_used_twice_at_once_works_exactly_once);

async fn forced_enrolment_when_the_tenant_requires_2fa(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    tessera::admin::update_tenant_policy(&app.state, &tenant, Some(true), None).await.unwrap();

    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains("Your organisation requires two-factor authentication"), "{html}");
    let setup_key = between(&html, "role=\"textbox\" aria-readonly=\"true\">", "</code>").to_string();
    let wrong = app
        .post_form(&browser, &format!("{login_url}/enrol"), &csrf_token(&html), &[("code", "123456")])
        .await;
    assert_eq!(wrong.status(), 401);
    let code = totp_code(&setup_key, app.clock.now());
    let response =
        app.post_form(&browser, &format!("{login_url}/enrol"), &csrf_token(&html), &[("code", &code)]).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert_eq!(between(&html, "aria-label=\"Backup codes\">", "</ul>").matches("<code>").count(), 10);
    let response = app.post_form(&browser, &format!("{login_url}/continue"), &csrf_token(&html), &[]).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
}
both_backends!(forced_enrolment_when_the_tenant_requires_2fa);
