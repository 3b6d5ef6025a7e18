//! `tessera key`: rotate a tenant's signing key and list the published ones.

use clap::Subcommand;

use crate::admin;
use crate::state::AppState;
use crate::store;

#[derive(Subcommand)]
pub(super) enum KeyCommand {
    /// Store a new signing key: every instance publishes it within 30 s, it signs after
    /// keys.rotation_overlap_seconds, and the old key leaves the JWKS once every token it signed
    /// has expired.
    Rotate {
        #[arg(long)]
        tenant: String,
        /// RS256 (default), ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        alg: String,
    },
    /// List a tenant's published keys.
    List {
        #[arg(long)]
        tenant: String,
    },
}

pub(super) async fn run(state: &AppState, command: KeyCommand) -> Result<(), String> {
    let format = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    };
    match command {
        KeyCommand::Rotate { tenant, alg } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let row = admin::rotate_key(state, &tenant, &alg).await.map_err(|e| e.to_string())?;
            println!("published {} key {}; it signs from {}", row.alg, row.kid, format(row.activates_at));
        }
        KeyCommand::List { tenant } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let rows = store::signing_keys::published(&state.db, tenant.id(), state.now())
                .await
                .map_err(|e| e.to_string())?;
            println!("{:<7} {:<44} {:<24} RETIRES", "ALG", "KID", "SIGNS FROM");
            for row in rows {
                let retires = row.retires_at.map(format).unwrap_or_else(|| "-".to_string());
                println!("{:<7} {:<44} {:<24} {retires}", row.alg, row.kid, format(row.activates_at));
            }
        }
    }
    Ok(())
}
