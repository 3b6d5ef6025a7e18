use super::{SendError, SmsSender};

/// Prints messages to the log. Refused in production mode.
pub struct ConsoleSender;

impl SmsSender for ConsoleSender {
    async fn send(&self, to: &str, message: &str, tenant: &str, _now: i64) -> Result<(), SendError> {
        tracing::warn!(to, tenant, message, "SMS (console sender, development only)");
        Ok(())
    }
}
