//! `tessera user`: create users (password from standard input), list them, import them; and the
//! administrator's recovery and lifecycle commands (`admin::user_lifecycle`): show, sign-out,
//! reset-2fa, disable, enable, delete.

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use secrecy::SecretString;

use crate::admin::{self, Actor, Disabled, Enabled, SignedOut, UserOverview};
use crate::state::AppState;
use crate::store;

#[derive(Subcommand)]
pub(super) enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// Display name (the `name` claim with the profile scope).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Mark the address as verified (the provider checked it already).
        #[arg(long)]
        email_verified: bool,
    },
    /// Show where a person stands: status, verified address, factors, trusted devices, sessions,
    /// last sign-in (never a secret).
    Show {
        #[command(flatten)]
        person: Person,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// End every session, refresh token and access token of a person.
    SignOut {
        #[command(flatten)]
        person: Person,
    },
    /// Remove every second factor (app, phone number, security keys and passkeys), backup code
    /// and trusted device of a person, and sign them out everywhere. A tenant that requires
    /// two-factor authentication has them set it up again at their next sign-in.
    #[command(name = "reset-2fa")]
    Reset2fa {
        #[command(flatten)]
        person: Person,
    },
    /// Disable a person: they cannot sign in, and every session and token of theirs ends.
    Disable {
        #[command(flatten)]
        person: Person,
    },
    /// Enable a disabled person again.
    Enable {
        #[command(flatten)]
        person: Person,
    },
    /// Erase a person and their personal data (GDPR art. 17); the audit log keeps only their
    /// pseudonymous id. Asks for confirmation on standard input unless --yes.
    Delete {
        #[command(flatten)]
        person: Person,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Invite a person: created without a password, they get an email with a link (7 days) to
    /// set it. Inviting again sends a new link; the old one stops working.
    Invite {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List the users of a tenant.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Import users from another identity provider: a JSON Lines file of
    /// {"email", "name"?, "password_hash" (Argon2id PHC), "totp_secret"? (base32)}.
    /// All or nothing: a bad line imports no one.
    Import {
        #[arg(long)]
        tenant: String,
        /// The JSON Lines file ("-" for standard input).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
}

/// The person a lifecycle command is about.
#[derive(clap::Args)]
pub(super) struct Person {
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    email: String,
}

pub(super) async fn run(state: &AppState, command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Invite { tenant, email, name } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let row = admin::invite_user(state, &tenant, &email, name.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            // The email is sent in the background: wait a little for it. If this process ends
            // first, the outbox keeps it and the server's housekeeping sends it.
            let sent = crate::email::outbox::wait_until_sent(state, std::time::Duration::from_secs(15)).await;
            println!("invited {} to tenant {} (sub {})", row.email, tenant.slug(), row.id);
            if !sent {
                println!("the invitation waits in the email outbox; the server sends it");
            }
        }
        UserCommand::Create { tenant, email, name, password_stdin: _, email_verified } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            // One trailing newline comes from `echo` or a terminal; it is not part of the password.
            let password = input.strip_suffix('\n').unwrap_or(&input);
            let password = password.strip_suffix('\r').unwrap_or(password);
            if password.is_empty() {
                return Err("the password on standard input is empty".into());
            }
            let row = admin::create_user_with_verified(
                state,
                &tenant,
                &email,
                name.as_deref(),
                SecretString::from(password.to_string()),
                email_verified,
            )
            .await
            .map_err(|e| e.to_string())?;
            println!("created user {} in tenant {} (sub {})", row.email, tenant.slug(), row.id);
        }
        UserCommand::Import { tenant, file } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let input = if file.as_os_str() == "-" {
                let mut input = String::new();
                std::io::stdin()
                    .read_to_string(&mut input)
                    .map_err(|e| format!("cannot read standard input: {e}"))?;
                input
            } else {
                std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?
            };
            let imported =
                crate::user_import::import_users(state, &tenant, &input).await.map_err(|e| e.to_string())?;
            println!(
                "imported {} users into tenant {} ({} with an authenticator app)",
                imported.users,
                tenant.slug(),
                imported.with_totp
            );
        }
        UserCommand::List { tenant } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let users = store::users::list(&state.db, tenant.id()).await.map_err(|e| e.to_string())?;
            println!("{:<40} {:<38} CREATED", "EMAIL", "SUB");
            for row in users {
                let created = chrono::DateTime::from_timestamp(row.created_at, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default();
                println!("{:<40} {:<38} {created}", row.email, row.id);
            }
        }
        UserCommand::Show { person, json } => {
            let tenant = admin::tenant(state, &person.tenant).await.map_err(|e| e.to_string())?;
            let overview =
                admin::show_user(state, &tenant, &person.email).await.map_err(|e| e.to_string())?;
            if json {
                let text = serde_json::to_string_pretty(&overview).map_err(|e| e.to_string())?;
                println!("{text}");
            } else {
                print!("{}", describe(&overview));
            }
        }
        UserCommand::SignOut { person } => {
            let tenant = admin::tenant(state, &person.tenant).await.map_err(|e| e.to_string())?;
            let done = admin::sign_out(state, &tenant, &person.email, &Actor::CLI)
                .await
                .map_err(|e| e.to_string())?;
            println!("signed out {} (sub {}): {}", person.email, done.user_id, ended(&done.signed_out));
        }
        UserCommand::Reset2fa { person } => {
            let tenant = admin::tenant(state, &person.tenant).await.map_err(|e| e.to_string())?;
            let reset = admin::reset_two_factor(state, &tenant, &person.email, &Actor::CLI)
                .await
                .map_err(|e| e.to_string())?;
            let had = reset.previous_method.map_or("none", |m| m.as_str());
            println!(
                "two-factor authentication reset for {} (sub {}; method was {had}): {}",
                person.email,
                reset.user_id,
                ended(&reset.signed_out)
            );
            if tenant.row.require_2fa {
                println!(
                    "tenant {} requires two-factor authentication: set up again at the next sign-in",
                    tenant.slug()
                );
            }
        }
        UserCommand::Disable { person } => {
            let tenant = admin::tenant(state, &person.tenant).await.map_err(|e| e.to_string())?;
            match admin::disable_user(state, &tenant, &person.email, &Actor::CLI)
                .await
                .map_err(|e| e.to_string())?
            {
                Disabled::Disabled(done) => {
                    println!("disabled {} (sub {}): {}", person.email, done.user_id, ended(&done.signed_out))
                }
                Disabled::AlreadyDisabled { user_id } => {
                    println!("{} (sub {user_id}) was already disabled", person.email)
                }
            }
        }
        UserCommand::Enable { person } => {
            let tenant = admin::tenant(state, &person.tenant).await.map_err(|e| e.to_string())?;
            match admin::enable_user(state, &tenant, &person.email, &Actor::CLI)
                .await
                .map_err(|e| e.to_string())?
            {
                Enabled::Enabled { user_id } => println!("enabled {} (sub {user_id})", person.email),
                Enabled::AlreadyActive { user_id } => {
                    println!("{} (sub {user_id}) was already active", person.email)
                }
            }
        }
        UserCommand::Delete { person, yes } => {
            let tenant = admin::tenant(state, &person.tenant).await.map_err(|e| e.to_string())?;
            if !yes {
                eprint!(
                    "Erase {} from tenant {} with all their personal data? This cannot be undone. Type yes to erase: ",
                    person.email,
                    tenant.slug()
                );
                let mut answer = String::new();
                std::io::stdin()
                    .read_line(&mut answer)
                    .map_err(|e| format!("cannot read the confirmation from standard input: {e}"))?;
                if answer.trim() != "yes" {
                    return Err("not confirmed: nothing was erased".into());
                }
            }
            let user_id = admin::delete_user(state, &tenant, &person.email, &Actor::CLI)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "erased {} from tenant {} (the audit log keeps sub {user_id})",
                person.email,
                tenant.slug()
            );
        }
    }
    Ok(())
}

fn ended(signed_out: &SignedOut) -> String {
    format!(
        "{} sessions ended, {} refresh tokens and {} access tokens revoked",
        signed_out.sessions, signed_out.refresh_tokens, signed_out.access_tokens
    )
}

fn time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// The text form of `user show`.
fn describe(user: &UserOverview) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let optional = |t: Option<i64>| t.map_or_else(|| "-".to_string(), time);
    // Writing to a String cannot fail.
    let _ = writeln!(out, "email:            {}", user.email);
    let _ = writeln!(out, "sub:              {}", user.id);
    let _ = writeln!(out, "name:             {}", user.name.as_deref().unwrap_or("-"));
    let status = match user.disabled_at {
        Some(at) => format!("disabled since {}", time(at)),
        None => user.status.as_str().to_string(),
    };
    let _ = writeln!(out, "status:           {status}");
    let _ = writeln!(out, "email verified:   {}", if user.email_verified { "yes" } else { "no" });
    let _ = writeln!(out, "created:          {}", time(user.created_at));
    let _ = writeln!(out, "last sign-in:     {}", optional(user.last_sign_in));
    let _ = writeln!(out, "two-factor:       {}", user.two_factor_method.map_or("off", |m| m.as_str()));
    let _ = writeln!(out, "factors:          {}", user.factors.len());
    for factor in &user.factors {
        let _ = writeln!(
            out,
            "  {:<18} {:<24} added {:<24} last used {}",
            factor.kind.as_str(),
            factor.label.as_deref().unwrap_or("-"),
            optional(factor.added_at),
            optional(factor.last_used_at)
        );
    }
    let _ = writeln!(out, "backup codes left: {}", user.backup_codes_left);
    let _ = writeln!(out, "trusted devices:  {}", user.trusted_devices);
    let _ = writeln!(out, "sessions:         {}", user.sessions.len());
    for session in &user.sessions {
        let _ = writeln!(
            out,
            "  sid {} signed in {} ({}) last seen {} expires {}",
            session.sid,
            time(session.signed_in_at),
            session.amr.join(" "),
            time(session.last_seen_at),
            time(session.expires_at)
        );
    }
    out
}
