use super::{SendError, SmsSender};

/// Prints messages to the log. Only in development mode with a loopback `public_url`: refused in
/// production mode, switched off (`ConfiguredSender::Off`) on a public address.
pub struct ConsoleSender;

impl SmsSender for ConsoleSender {
    async fn send(&self, to: &str, message: &str, tenant: &str, _now: i64) -> Result<(), SendError> {
        tracing::warn!(to, tenant, message, "SMS (console sender, development only)");
        Ok(())
    }
}
