//! `tessera audit list`: a tenant's audit log, newest first (the admin API's `GET /audit-events`
//! reads it through the same service).

use clap::Subcommand;

use crate::admin::{self, AuditFilter};
use crate::state::AppState;

#[derive(Subcommand)]
pub(super) enum AuditCommand {
    /// List a tenant's audit events, newest first.
    List {
        #[arg(long)]
        tenant: String,
        /// Only events of this person (email address or user id).
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
        /// Only this event (login.succeeded; see docs/audit-events.md).
        #[arg(long, value_name = "NAME")]
        event: Option<String>,
        /// At or after: RFC 3339, a date (2026-11-27), Unix seconds, or a span back (30m, 24h, 7d).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Before: the same forms.
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// How many events (1-200).
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// Continue after this key (printed under the last line when more events follow).
        #[arg(long, value_name = "KEY")]
        after: Option<String>,
    },
}

pub(super) async fn run(state: &AppState, command: AuditCommand) -> Result<(), String> {
    match command {
        AuditCommand::List { tenant, user, event, since, until, limit, after } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let now = state.now();
            let time = |value: Option<String>| {
                value.map(|v| admin::parse_time(&v, now)).transpose().map_err(|e| e.to_string())
            };
            let filter = AuditFilter { user, event, since: time(since)?, until: time(until)? };
            let page = admin::list_audit_events(state, &tenant, &filter, after.as_deref(), limit)
                .await
                .map_err(|e| e.to_string())?;
            println!("{:<20} {:<32} {:<36} DETAIL", "TIME (UTC)", "EVENT", "USER");
            for row in page.items {
                let time = chrono::DateTime::from_timestamp(row.created_at, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default();
                println!(
                    "{time:<20} {:<32} {:<36} {}",
                    row.event,
                    row.user_id.as_deref().unwrap_or("-"),
                    row.detail
                );
            }
            if let Some(next) = page.next {
                println!("more: --after {next}");
            }
        }
    }
    Ok(())
}
