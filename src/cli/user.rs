//! `tessera user`: create users (password from standard input), list them, import them.

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use secrecy::SecretString;

use crate::admin;
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
        /// The provider already checked the address: the `email_verified` claim is true.
        #[arg(long)]
        email_verified: bool,
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
            let row = admin::create_user(
                state,
                &tenant,
                &email,
                name.as_deref(),
                SecretString::from(password.to_string()),
            )
            .await
            .map_err(|e| e.to_string())?;
            if email_verified {
                crate::store::users::set_email_verified(&state.db, &row.id, true, state.now())
                    .await
                    .map_err(|e| e.to_string())?;
            }
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
    }
    Ok(())
}
