//! Removing rows that can no longer matter, so tables stay the size of the live data. Single-use
//! things are kept a day past their end, so a late replay is still recognised as one.

use entity::{
    access_token, authorization_code, login_attempt, login_throttle, refresh_token, session, session_client,
    sms_code, sms_send, trusted_device, used_client_assertion, webauthn_ceremony,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;

const GRACE: i64 = 86_400;

/// What one pass removed, table by table.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub login_attempts: u64,
    pub sessions: u64,
    pub authorization_codes: u64,
    pub access_tokens: u64,
    pub refresh_tokens: u64,
    pub trusted_devices: u64,
    pub throttles: u64,
    pub sms: u64,
    pub other: u64,
}

pub async fn purge(
    db: &impl ConnectionTrait,
    now: i64,
    session_lifetime: i64,
    throttle_memory: i64,
) -> Result<Purged, StoreError> {
    let day_ago = now - GRACE;
    Ok(Purged {
        login_attempts: login_attempt::Entity::delete_many()
            .filter(login_attempt::Column::ExpiresAt.lte(now))
            .exec(db)
            .await?
            .rows_affected,
        sessions: session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(now))
            .exec(db)
            .await?
            .rows_affected,
        authorization_codes: authorization_code::Entity::delete_many()
            .filter(authorization_code::Column::ExpiresAt.lte(day_ago))
            .exec(db)
            .await?
            .rows_affected,
        access_tokens: access_token::Entity::delete_many()
            .filter(access_token::Column::ExpiresAt.lte(day_ago))
            .exec(db)
            .await?
            .rows_affected,
        refresh_tokens: refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::ExpiresAt.lte(day_ago))
            .exec(db)
            .await?
            .rows_affected,
        trusted_devices: trusted_device::Entity::delete_many()
            .filter(trusted_device::Column::ExpiresAt.lte(now))
            .exec(db)
            .await?
            .rows_affected,
        throttles: login_throttle::Entity::delete_many()
            .filter(login_throttle::Column::LastFailureAt.lt(now - throttle_memory))
            .exec(db)
            .await?
            .rows_affected,
        // The daily cap looks back one day; codes are dead after their minutes.
        sms: sms_code::Entity::delete_many()
            .filter(sms_code::Column::ExpiresAt.lte(day_ago))
            .exec(db)
            .await?
            .rows_affected
            + sms_send::Entity::delete_many()
                .filter(sms_send::Column::CreatedAt.lt(now - 2 * GRACE))
                .exec(db)
                .await?
                .rows_affected,
        other: used_client_assertion::Entity::delete_many()
            .filter(used_client_assertion::Column::ExpiresAt.lte(now))
            .exec(db)
            .await?
            .rows_affected
            + webauthn_ceremony::Entity::delete_many()
                .filter(webauthn_ceremony::Column::ExpiresAt.lte(now))
                .exec(db)
                .await?
                .rows_affected
            // No session outlives its lifetime, so neither does the list of its clients.
            + session_client::Entity::delete_many()
                .filter(session_client::Column::CreatedAt.lt(now - session_lifetime))
                .exec(db)
                .await?
                .rows_affected
            // Each revocation is kept until the tokens it names have expired.
            + super::token_revocations::purge(db, now).await?,
    })
}
