//! The admin CLI, run as the real binary against a SQLite file in a temporary folder.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

struct Cli {
    dir: tempfile::TempDir,
    themes: std::path::PathBuf,
}

impl Cli {
    fn new() -> Self {
        Self::with_themes(concat!(env!("CARGO_MANIFEST_DIR"), "/themes").into())
    }

    fn with_themes(themes: std::path::PathBuf) -> Self {
        Self { dir: tempfile::tempdir().unwrap(), themes }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(args)
            .env("TESSERA_DATA_DIR", self.dir.path())
            .env("TESSERA_PUBLIC_URL", "https://login.example.org")
            .env("TESSERA_THEMES_DIR", &self.themes)
            .env_remove("TESSERA_DATABASE_URL")
            // A public_url off loopback takes no generated key (see the test below).
            .env("TESSERA_MASTER_KEY", MASTER_KEY)
            // Test-suite variables share the prefix and must not count as settings.
            .env("TESSERA_TEST_EXAMPLE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let output = self.run(args, stdin);
        assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs a command that must fail; returns its standard error.
    fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let output = self.run(args, stdin);
        assert!(!output.status.success(), "{args:?} should have failed");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }
}

#[test]
fn tenants_clients_and_users_round_trip() {
    let cli = Cli::new();
    let created = cli.ok(&["tenant", "create", "kliniek-west", "--name", "Kliniek West"], None);
    assert!(created.contains("issuer: https://login.example.org/t/kliniek-west"), "{created}");
    assert!(cli.ok(&["tenant", "list"], None).contains("Kliniek West"));
    let updated = cli.ok(
        &["tenant", "update", "kliniek-west", "--require-2fa", "true", "--trusted-device-days", "14"],
        None,
    );
    assert!(updated.contains("require_2fa=true trusted_device_days=14"), "{updated}");
    let sms = cli.ok(
        &[
            "tenant",
            "update",
            "kliniek-west",
            "--sms-region",
            "be",
            "--sms-countries",
            "BE,nl",
            "--sms-daily-cap",
            "50",
        ],
        None,
    );
    assert!(sms.contains("sms_region=BE sms_countries=BE,NL sms_daily_cap=50 sms_code_minutes=30"), "{sms}");
    assert!(sms.contains("require_2fa=true"), "other settings stay");
    assert!(
        cli.fails(&["tenant", "update", "kliniek-west", "--sms-region", "Nederland"], None)
            .contains("two-letter")
    );
    let own = [
        "tenant",
        "sms-sender",
        "kliniek-west",
        "--sender",
        "webhook",
        "--webhook-url",
        "https://sms.kliniek-west.example/hook",
        "--secret-stdin",
    ];
    assert!(cli.ok(&own, Some("shared-secret\n")).contains("now sends text messages with: webhook"));
    assert!(cli.fails(&own, Some("")).contains("empty"));
    let incomplete = ["tenant", "sms-sender", "kliniek-west", "--sender", "twilio"];
    assert!(cli.fails(&incomplete, None).contains("twilio_account_sid"));
    cli.ok(&["tenant", "sms-sender", "kliniek-west", "--sender", "default"], None);
    // Themes and host names.
    assert!(cli.ok(&["theme", "list"], None).contains("kliniek-west"));
    assert!(
        cli.ok(&["theme", "check"], None)
            .contains("theme zorggroep-oost: every page renders in every language")
    );
    assert!(cli.fails(&["theme", "check", "nope"], None).contains("unknown theme"));
    cli.ok(
        &[
            "tenant",
            "update",
            "kliniek-west",
            "--theme",
            "kliniek-west",
            "--host",
            "login.kliniek-west.example",
        ],
        None,
    );
    assert!(
        cli.fails(&["tenant", "update", "kliniek-west", "--theme", "missing"], None)
            .contains("unknown theme")
    );
    assert!(
        cli.fails(&["tenant", "update", "kliniek-west", "--host", "not a host"], None)
            .contains("invalid host name")
    );
    let list = cli.ok(&["tenant", "list"], None);
    assert!(list.contains("true") && list.contains("14"), "{list}");
    assert!(
        cli.fails(&["tenant", "update", "kliniek-west", "--trusted-device-days", "-1"], None)
            .contains("between 0 and 365")
    );
    assert!(cli.fails(&["tenant", "update", "kliniek-west"], None).contains("nothing to update"));
    assert_eq!(
        cli.run(&["tenant", "update", "kliniek-west", "--require-2fa", "maybe"], None).status.code(),
        Some(2)
    );

    let confidential = cli.ok(
        &[
            "client",
            "create",
            "--tenant",
            "kliniek-west",
            "--client-id",
            "portal",
            "--redirect-uri",
            "https://portal.example.org/cb",
            "--redirect-uri",
            "https://portal.example.org/cb2",
            "--first-party",
        ],
        None,
    );
    let secret = confidential.split("store it safely): ").nth(1).unwrap().trim();
    assert_eq!(secret.len(), 43, "256-bit secret, printed once");
    let public = cli.ok(
        &[
            "client",
            "create",
            "--tenant",
            "kliniek-west",
            "--client-id",
            "app",
            "--redirect-uri",
            "nl.kliniekwest.app:/cb",
            "--public",
        ],
        None,
    );
    assert!(public.contains("public client: no secret"));
    let list = cli.ok(&["client", "list", "--tenant", "kliniek-west"], None);
    assert!(
        list.contains("portal")
            && list.contains("confidential")
            && list.contains("https://portal.example.org/cb2")
    );
    assert!(list.contains("app") && list.contains("public"));
    assert!(!list.contains(secret), "the secret is never shown again");

    cli.ok(
        &["user", "create", "--tenant", "kliniek-west", "--email", "Zorg@Example.org", "--password-stdin"],
        Some("a good passphrase\n"),
    );
    let users = cli.ok(&["user", "list", "--tenant", "kliniek-west"], None);
    assert!(users.contains("zorg@example.org"), "{users}");
    assert!(!users.contains("argon2"), "hashes stay inside");
}

#[test]
fn bad_input_gets_clear_errors_and_a_failing_exit_code() {
    let cli = Cli::new();
    cli.ok(&["tenant", "create", "acme", "--name", "Acme"], None);

    assert!(
        cli.fails(&["tenant", "create", "acme", "--name", "Again"], None).contains("tenant already exists")
    );
    assert!(
        cli.fails(&["tenant", "create", "Bad Slug", "--name", "X"], None).contains("invalid tenant slug")
    );
    let unknown = cli.fails(
        &[
            "client",
            "create",
            "--tenant",
            "nope",
            "--client-id",
            "x",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        None,
    );
    assert!(unknown.contains("unknown tenant \"nope\""), "{unknown}");

    let create = ["client", "create", "--tenant", "acme", "--client-id", "portal", "--redirect-uri"];
    cli.ok(&[&create[..], &["https://a.example/cb"]].concat(), None);
    let duplicate = cli.fails(&[&create[..], &["https://a.example/cb"]].concat(), None);
    assert!(duplicate.contains("a client with this client id already exists"), "{duplicate}");
    for malformed in ["not a uri", "http://plain-http.example/cb", "https://a.example/cb#fragment"] {
        let mut args = create.to_vec();
        args[5] = "other";
        args.push(malformed);
        assert!(cli.fails(&args, None).contains("invalid redirect URI"), "{malformed}");
    }

    let user = ["user", "create", "--tenant", "acme", "--email", "a@example.org", "--password-stdin"];
    assert!(cli.fails(&user, Some("")).contains("the password on standard input is empty"));
    assert!(cli.fails(&user, Some("\n")).contains("the password on standard input is empty"));
    assert!(cli.fails(&user, Some("short\n")).contains("at least 8 characters"));
    assert!(
        cli.fails(
            &["user", "create", "--tenant", "acme", "--email", "nope", "--password-stdin"],
            Some("long enough pw")
        )
        .contains("invalid email address")
    );
    cli.ok(&user, Some("long enough pw"));
    assert!(cli.fails(&user, Some("long enough pw")).contains("already exists"));

    let usage = cli.run(&["user", "create", "--tenant", "acme", "--email", "b@example.org"], None);
    assert_eq!(usage.status.code(), Some(2), "clap usage error");
}

#[test]
fn production_mode_requires_a_master_key() {
    let cli = Cli::new();
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["tenant", "list"])
        .env("TESSERA_DATA_DIR", cli.dir.path())
        .env("TESSERA_MODE", "production")
        .env("TESSERA_PUBLIC_URL", "https://login.example.org")
        .env_remove("TESSERA_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("TESSERA_MASTER_KEY is required in production mode")
    );
}

#[test]
fn a_public_url_off_loopback_takes_no_generated_master_key() {
    let cli = Cli::new();
    let run = |public_url: &str| {
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["tenant", "list"])
            .env("TESSERA_DATA_DIR", cli.dir.path())
            .env("TESSERA_MODE", "development")
            .env("TESSERA_PUBLIC_URL", public_url)
            .env_remove("TESSERA_MASTER_KEY")
            .env_remove("TESSERA_DATABASE_URL")
            .output()
            .unwrap()
    };
    let refused = "TESSERA_MASTER_KEY is required when public_url is not on loopback";
    let output = run("https://login.example.org");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains(refused), "{output:?}");
    assert!(!cli.dir.path().join("master.key").exists(), "no key written beside the database");
    // On localhost (`tessera serve --demo` as the README runs it) the key is generated as before ...
    let output = run("http://localhost:8080");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(cli.dir.path().join("master.key").is_file());
    // ... and a key left in the data folder does not follow the server to a public address.
    let output = run("http://login.example.org");
    assert!(String::from_utf8_lossy(&output.stderr).contains(refused), "{output:?}");
}

#[test]
fn unknown_settings_and_missing_config_files_are_refused() {
    let cli = Cli::new();
    let missing = cli.fails(&["--config", "/nonexistent/tessera.toml", "tenant", "list"], None);
    assert!(missing.contains("does not exist"), "{missing}");
    let file = cli.dir.path().join("bad.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:1\"\ntypo_setting = 1\n").unwrap();
    let unknown = cli.fails(&["--config", file.to_str().unwrap(), "tenant", "list"], None);
    assert!(unknown.contains("typo_setting"), "{unknown}");
}

#[test]
fn the_example_production_configuration_loads() {
    let cli = Cli::new();
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["--config", concat!(env!("CARGO_MANIFEST_DIR"), "/config/production.toml"), "tenant", "list"])
        .env("TESSERA_DATA_DIR", cli.dir.path())
        .env("TESSERA_MASTER_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
        .env("TESSERA_SMS__WEBHOOK_SECRET", "shared-secret")
        .env_remove("TESSERA_DATABASE_URL")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

fn argon2id_hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    let params = argon2::Params::new(19_456, 2, 1, None).unwrap();
    let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

#[test]
fn users_import_from_a_json_lines_file() {
    let cli = Cli::new();
    cli.ok(&["tenant", "create", "kliniek-west", "--name", "Kliniek West"], None);
    let hash = argon2id_hash("imported password");
    let file = cli.dir.path().join("users.jsonl");
    std::fs::write(
        &file,
        format!(
            "{{\"email\":\"a.jansen@example.org\",\"name\":\"A. Jansen\",\"password_hash\":\"{hash}\",\"totp_secret\":\"JBSW Y3DP EHPK 3PXP\"}}\n\
             {{\"email\":\"b.bakker@example.org\",\"password_hash\":\"{hash}\"}}\n"
        ),
    )
    .unwrap();
    let out = cli.ok(&["user", "import", "--tenant", "kliniek-west", "--file", file.to_str().unwrap()], None);
    assert!(out.contains("imported 2 users into tenant kliniek-west (1 with an authenticator app)"), "{out}");
    let list = cli.ok(&["user", "list", "--tenant", "kliniek-west"], None);
    assert!(list.contains("a.jansen@example.org") && list.contains("b.bakker@example.org"), "{list}");
}

#[test]
fn a_bad_import_line_is_named_and_nothing_is_written() {
    let cli = Cli::new();
    cli.ok(&["tenant", "create", "kliniek-west", "--name", "Kliniek West"], None);
    let hash = argon2id_hash("imported password");
    let bcrypt = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";
    let input = format!(
        "{{\"email\":\"a.jansen@example.org\",\"password_hash\":\"{hash}\"}}\n\
         {{\"email\":\"b.bakker@example.org\",\"password_hash\":\"{bcrypt}\"}}\n"
    );
    let err = cli.fails(&["user", "import", "--tenant", "kliniek-west", "--file", "-"], Some(&input));
    assert!(err.contains("line 2: password_hash"), "{err}");
    let list = cli.ok(&["user", "list", "--tenant", "kliniek-west"], None);
    assert!(!list.contains("a.jansen@example.org"), "nothing of a failed import is written: {list}");
}

/// `client create` with `--tenant acme --client-id ID --redirect-uri ...` and `extra`.
fn create_client(cli: &Cli, id: &str, extra: &[&str]) -> Output {
    let args =
        ["client", "create", "--tenant", "acme", "--client-id", id, "--redirect-uri", "https://a.example/cb"];
    cli.run(&[&args[..], extra].concat(), None)
}

/// A client that signs with its keys is told it is confidential, not "public".
#[test]
fn a_client_with_keys_is_not_called_public() {
    let cli = Cli::new();
    cli.ok(&["tenant", "create", "acme", "--name", "Acme"], None);
    let output = create_client(&cli, "signer", &["--jwks-uri", "https://a.example/jwks.json"]);
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(!printed.contains("public client"), "{printed}");
    assert!(printed.contains("confidential client with private_key_jwt: no secret"), "{printed}");
}

/// The URLs tessera calls (a client's JWK Set, its back-channel logout) are refused with a
/// message that says what the rule accepts: https, or http to this machine.
#[test]
fn server_urls_are_refused_with_the_rule_they_break() {
    let cli = Cli::new();
    cli.ok(&["tenant", "create", "acme", "--name", "Acme"], None);
    let rule = "must be an https URL (http only on localhost or a loopback address)";
    for flag in ["--jwks-uri", "--backchannel-logout-uri"] {
        for refused in ["http://a.example/hook", "org.example.app:/hook", "https://a.example/hook#part"] {
            let output = create_client(&cli, "refused", &[flag, refused]);
            assert!(!output.status.success(), "{flag} {refused}");
            let refusal = String::from_utf8(output.stderr).unwrap();
            assert!(refusal.contains(rule), "{flag} {refused}: {refusal}");
        }
    }
    let local = create_client(&cli, "local-a", &["--backchannel-logout-uri", "http://localhost:8080/hook"]);
    assert!(local.status.success());
    let loopback = create_client(&cli, "local-b", &["--jwks-uri", "http://127.0.0.1:8080/jwks.json"]);
    assert!(loopback.status.success());
}

#[test]
fn theme_check_reports_a_hostile_theme_with_file_and_line() {
    let (source, refusal) = crate::branding::HOSTILE_MESSAGE_PAGES[0];
    let themes = crate::branding::theme_with_message_page("evil", source);
    let cli = Cli::with_themes(themes.path().to_path_buf());
    let stderr = cli.fails(&["theme", "check", "evil"], None);
    assert!(stderr.contains(&format!("theme evil: templates/message.html {refusal}")), "{stderr}");
}

#[test]
fn theme_check_reports_a_page_over_its_budget() {
    let kilobyte = "x".repeat(1024);
    let source = format!("{{% for i in range(10000) %}}<p>{kilobyte}</p>{{% endfor %}}");
    let themes = crate::branding::theme_with_message_page("huge", &source);
    let cli = Cli::with_themes(themes.path().to_path_buf());
    let stderr = cli.fails(&["theme", "check", "huge"], None);
    assert!(
        stderr.contains("theme huge, message.html (en): invalid operation: the page would exceed"),
        "{stderr}"
    );
}

/// A tenant holding the public URL's host (stored before the admin refused it, or `public_url`
/// moved onto it since) would take over the root of the host every tenant is served on: the
/// server refuses to start and says how to fix it.
#[test]
fn serve_refuses_a_tenant_that_owns_the_public_host() {
    let cli = Cli::new();
    cli.ok(&["tenant", "create", "alpha", "--name", "Alpha"], None);
    cli.ok(&["tenant", "update", "alpha", "--host", "login.alpha.example"], None);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["serve"])
        .env("TESSERA_DATA_DIR", cli.dir.path())
        .env("TESSERA_PUBLIC_URL", "https://login.alpha.example")
        .env("TESSERA_LISTEN", "127.0.0.1:0")
        .env("TESSERA_THEMES_DIR", &cli.themes)
        .env("TESSERA_MASTER_KEY", MASTER_KEY)
        .env_remove("TESSERA_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("tessera serve started although a tenant owns the public host");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tessera tenant update alpha --host none"), "{stderr}");
}

#[test]
fn user_lifecycle_commands_show_sign_out_reset_disable_enable_and_delete() {
    let cli = Cli::new();
    cli.ok(&["tenant", "create", "kliniek-west", "--name", "Kliniek West"], None);
    cli.ok(&["tenant", "create", "kliniek-oost", "--name", "Kliniek Oost"], None);
    let person = ["--tenant", "kliniek-west", "--email", "an@example.org"];
    let with = |command: &[&'static str], extra: &[&'static str]| -> Vec<&'static str> {
        let mut args = command.to_vec();
        args.extend_from_slice(&person);
        args.extend_from_slice(extra);
        args
    };
    cli.ok(
        &with(&["user", "create"], &["--password-stdin", "--email-verified"]),
        Some("correct horse battery\n"),
    );
    // The same address in another tenant, without --email-verified.
    cli.ok(
        &["user", "create", "--tenant", "kliniek-oost", "--email", "an@example.org", "--password-stdin"],
        Some("correct horse battery\n"),
    );

    let shown = cli.ok(&with(&["user", "show"], &[]), None);
    assert!(shown.contains("status:           active"), "{shown}");
    assert!(shown.contains("email verified:   yes"), "{shown}");
    assert!(shown.contains("two-factor:       off") && shown.contains("sessions:         0"), "{shown}");
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&with(&["user", "show"], &["--json"]), None)).unwrap();
    assert_eq!(json["status"], "active");
    assert_eq!(json["email_verified"], true);
    assert_eq!(json["email"], "an@example.org");
    let oost: serde_json::Value = serde_json::from_str(
        &cli.ok(&["user", "show", "--tenant", "kliniek-oost", "--email", "an@example.org", "--json"], None),
    )
    .unwrap();
    assert_eq!(oost["email_verified"], false);

    let out = cli.ok(&with(&["user", "sign-out"], &[]), None);
    assert!(out.contains("0 sessions ended"), "{out}");
    let out = cli.ok(&with(&["user", "reset-2fa"], &[]), None);
    assert!(out.contains("method was none"), "{out}");
    let out = cli.ok(&with(&["user", "disable"], &[]), None);
    assert!(out.starts_with("disabled an@example.org"), "{out}");
    assert!(cli.ok(&with(&["user", "disable"], &[]), None).contains("was already disabled"));
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&with(&["user", "show"], &["--json"]), None)).unwrap();
    assert_eq!(json["status"], "disabled");
    // Only the named tenant's person.
    let oost = cli.ok(&["user", "show", "--tenant", "kliniek-oost", "--email", "an@example.org"], None);
    assert!(oost.contains("status:           active"), "{oost}");
    assert!(cli.ok(&with(&["user", "enable"], &[]), None).starts_with("enabled an@example.org"));
    assert!(cli.ok(&with(&["user", "enable"], &[]), None).contains("was already active"));

    // Delete asks first: anything but "yes" erases nothing.
    let refused = cli.fails(&with(&["user", "delete"], &[]), Some("no\n"));
    assert!(refused.contains("not confirmed: nothing was erased"), "{refused}");
    assert!(cli.ok(&with(&["user", "show"], &[]), None).contains("an@example.org"));
    let erased = cli.ok(&with(&["user", "delete"], &[]), Some("yes\n"));
    assert!(erased.contains("erased an@example.org from tenant kliniek-west"), "{erased}");
    let unknown = cli.fails(&with(&["user", "show"], &[]), None);
    assert!(unknown.contains("tenant kliniek-west has no user with this email address"), "{unknown}");
    // --yes needs no answer; the other tenant's person was still there.
    let erased =
        cli.ok(&["user", "delete", "--tenant", "kliniek-oost", "--email", "an@example.org", "--yes"], None);
    assert!(erased.contains("erased an@example.org from tenant kliniek-oost"), "{erased}");

    // Clear errors for bad input.
    let bad = cli.fails(&["user", "disable", "--tenant", "kliniek-west", "--email", "not-an-address"], None);
    assert!(bad.contains("error: invalid email address"), "{bad}");
    let bad = cli.fails(&["user", "sign-out", "--tenant", "nowhere", "--email", "an@example.org"], None);
    assert!(bad.contains("unknown tenant"), "{bad}");
    let bad = cli.fails(&["user", "reset-2fa", "--tenant", "kliniek-west"], None);
    assert!(bad.contains("--email"), "{bad}");
}

#[test]
fn the_audit_log_is_listed_newest_first_with_filters() {
    let cli = Cli::new();
    cli.ok(&["tenant", "create", "kliniek-west", "--name", "Kliniek West"], None);
    let create_user = |email: &str| {
        cli.ok(
            &["user", "create", "--tenant", "kliniek-west", "--email", email, "--password-stdin"],
            Some("correct horse battery\n"),
        )
    };
    create_user("a.jansen@example.org");
    create_user("b.bakker@example.org");
    let all = cli.ok(&["audit", "list", "--tenant", "kliniek-west"], None);
    let lines: Vec<&str> = all.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{all}");
    assert!(lines[2].contains("tenant.created"), "oldest last: {all}");
    let one = cli.ok(&["audit", "list", "--tenant", "kliniek-west", "--user", "a.jansen@example.org"], None);
    assert_eq!(one.lines().skip(1).count(), 1, "{one}");
    assert!(one.contains("user.created"));
    let created = cli
        .ok(&["audit", "list", "--tenant", "kliniek-west", "--event", "user.created", "--since", "1d"], None);
    assert_eq!(created.lines().skip(1).count(), 2, "{created}");
    let paged = cli.ok(&["audit", "list", "--tenant", "kliniek-west", "--limit", "2"], None);
    let after = paged.lines().last().unwrap().strip_prefix("more: --after ").expect("a key to continue");
    let rest = cli.ok(&["audit", "list", "--tenant", "kliniek-west", "--limit", "2", "--after", after], None);
    assert_eq!(rest.lines().skip(1).count(), 1, "{rest}");
    assert!(
        cli.fails(&["audit", "list", "--tenant", "kliniek-west", "--since", "yesterday"], None)
            .contains("not a time")
    );
    assert!(
        cli.fails(&["audit", "list", "--tenant", "kliniek-west", "--event", "no.such"], None)
            .contains("unknown event")
    );
}
