//! The hosted password page: same answer for wrong password and unknown email, growing delays,
//! CSRF and browser binding.

use crate::both_backends;
use crate::helpers::*;

async fn wrong_password_and_unknown_email_get_the_same_answer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let mut answers = Vec::new();
    for (email, password) in [(EMAIL, "wrong password!"), ("nobody@example.org", PASSWORD)] {
        let browser = browser();
        let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
        let response = app.submit_password(&browser, &login_url, email, password).await;
        assert!(response.headers().get("location").is_none(), "no redirect, no code");
        let status = response.status();
        let html = response.text().await.unwrap();
        assert!(html.contains("Incorrect email address or password."), "{html}");
        assert!(html.contains("role=\"alert\""));
        let csrf = csrf_token(&html);
        let attempt_token = login_url.rsplit('/').next().unwrap().to_string();
        let normalized =
            html.replace(email, "EMAIL").replace(&csrf, "CSRF").replace(&attempt_token, "ATTEMPT");
        answers.push((status, normalized));
    }
    assert_eq!(answers[0].0, 401);
    assert_eq!(answers[0], answers[1], "the two failures must be indistinguishable");
}
both_backends!(wrong_password_and_unknown_email_get_the_same_answer);

async fn email_is_compared_case_insensitively(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let browser = browser();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, "  AN.Patient@Example.ORG ", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));
}
both_backends!(email_is_compared_case_insensitively);

async fn repeated_failures_bring_growing_delays_but_no_lock(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let browser = browser();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    for _ in 0..5 {
        let response = app.submit_password(&browser, &login_url, EMAIL, "wrong password!").await;
        assert_eq!(response.status(), 401);
    }
    // Sixth try, even with the right password: wait first.
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(response.text().await.unwrap().contains("Too many failed attempts. Wait 1 seconds"));

    app.clock.advance(1);
    let response = app.submit_password(&browser, &login_url, EMAIL, "still wrong!!").await;
    assert_eq!(response.status(), 401);
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 429, "the wait doubled after the sixth failure");
    assert_eq!(response.headers()["retry-after"], "2");

    app.clock.advance(2);
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303, "never a permanent lock");
}
both_backends!(repeated_failures_bring_growing_delays_but_no_lock);

async fn a_form_without_the_right_csrf_token_signs_nobody_in(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let browser = browser();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let response = browser
        .post(&login_url)
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("This page was open too long"));
}
both_backends!(a_form_without_the_right_csrf_token_signs_nobody_in);

async fn another_browser_cannot_use_a_login_attempt(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let victim = browser();
    let login_url = app.open_login_page(&victim, &AuthRequest::portal(&pkce)).await;
    let attacker = browser();
    let response = attacker.get(&login_url).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("no longer valid"));
}
both_backends!(another_browser_cannot_use_a_login_attempt);

async fn login_page_carries_security_headers_and_cookies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let browser = browser();
    let response = browser.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let login_url = app.absolute(&location(&response));
    let page = browser.get(&login_url).send().await.unwrap();
    let headers = page.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    let html = html.replace("&#x2f;", "/");
    // The one script is tessera's own WebAuthn file; nothing inline.
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 1, "{html}");
    assert!(scripts[0].starts_with(" src=\"/assets/webauthn-") && scripts[0].contains("></script>"));
    let script = scripts[0].split("src=\"").nth(1).unwrap().split('"').next().unwrap();
    let js = reqwest::get(format!("{}{script}", app.address)).await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(js.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(js.text().await.unwrap().contains("navigator.credentials"));

    let stylesheet = html.split("rel=\"stylesheet\" href=\"").nth(1).unwrap().split('"').next().unwrap();
    let css = reqwest::get(format!("{}{stylesheet}", app.address)).await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["cache-control"].to_str().unwrap().contains("immutable"));
}
both_backends!(login_page_carries_security_headers_and_cookies);

async fn dutch_browsers_get_dutch_pages(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let browser = browser();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let html = browser
        .get(&login_url)
        .header("accept-language", "nl-NL,nl;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"nl\">"));
    assert!(html.contains("E-mailadres") && html.contains("Wachtwoord"));
}
both_backends!(dutch_browsers_get_dutch_pages);

async fn the_language_switcher_keeps_the_login_state(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let browser = browser();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    let html = html.replace("&#x2f;", "/");
    let path = login_url.trim_start_matches(&app.address);
    assert!(
        html.contains(&format!("href=\"{path}?lang=nl\" lang=\"nl\" hreflang=\"nl\">Nederlands</a>")),
        "{html}"
    );
    // Switching keeps the attempt: same URL, Dutch words, and the choice sticks.
    let (status, dutch) = app.get_html(&browser, &format!("{login_url}?lang=nl")).await;
    assert_eq!(status, 200);
    assert!(dutch.contains("<html lang=\"nl\">") && dutch.contains("E-mailadres"));
    let response = app.submit_password(&browser, &login_url, EMAIL, "wrong password!").await;
    let html = response.text().await.unwrap();
    assert!(html.contains("E-mailadres of wachtwoord onjuist."), "the choice outlives the switch itself");
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"), "the login went on");
}
both_backends!(the_language_switcher_keeps_the_login_state);

async fn language_links_stay_on_this_origin_for_any_path(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    // `//host/x` is a protocol-relative link to another site; `/\host/x` reads the same to browsers.
    let response = reqwest::get(format!("{}//evil.example/x", app.address)).await.unwrap();
    assert_eq!(response.status(), 404);
    let slashes = response.text().await.unwrap().replace("&#x2f;", "/");
    assert!(slashes.contains("href=\"/evil.example/x?lang=nl\""), "{slashes}");
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET /\\evil.example/x HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    let backslash = raw.replace("&#x2f;", "/").replace("&#x5c;", "\\");
    assert!(backslash.contains("href=\"/evil.example/x?lang=nl\""), "{backslash}");
    for (label, html) in [("//evil.example/x", &slashes), ("/\\evil.example/x", &backslash)] {
        for href in html.split("href=\"").skip(1) {
            let href = href.split('"').next().unwrap_or_default();
            assert!(href.starts_with('/'), "{label}: {href}");
            assert!(!href.starts_with("//") && !href.contains('\\'), "{label}: off-site link {href}");
        }
    }
}
both_backends!(language_links_stay_on_this_origin_for_any_path);

async fn a_burst_of_parallel_guesses_gets_one_through_per_delay(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let browser = browser();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    for _ in 0..5 {
        assert_eq!(app.submit_password(&browser, &login_url, EMAIL, "wrong password!").await.status(), 401);
    }
    app.clock.advance(2);
    // Four guesses at once from four browsers: only one may be checked now.
    let mut ready = Vec::new();
    for _ in 0..4 {
        let browser = crate::helpers::browser();
        let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
        let (_, html) = app.get_html(&browser, &login_url).await;
        ready.push((browser, login_url, csrf_token(&html)));
    }
    let mut handles = Vec::new();
    for (browser, login_url, csrf) in ready {
        handles.push(tokio::spawn(async move {
            let form = [("email", EMAIL), ("password", "another wrong one"), ("csrf_token", csrf.as_str())];
            browser.post(&login_url).form(&form).send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 3, "{statuses:?}");
}
both_backends!(a_burst_of_parallel_guesses_gets_one_through_per_delay);
