//! Text-message codes: 6 digits from the OS CSPRNG, hashed at rest, valid for the tenant's
//! `sms_code_seconds`, only the newest counting, at most 5 wrong tries each, and sends throttled
//! per user, per number and per tenant so nobody can spend a healthcare provider's money.

use rand::Rng;
use rand::rngs::OsRng;
use serde_json::json;

use crate::audit::{self, AuditEvent, Event};
use crate::authn::backup_codes;
use crate::crypto::constant_time_eq;
use crate::domain::PhoneNumber;
use crate::notify::{ConfiguredSender, SenderOverride, SmsSender};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

pub const PURPOSE_LOGIN: &str = "login";
pub const PURPOSE_ENROL: &str = "enrol";
pub const MAX_TRIES: i32 = 5;
pub const RESEND_SECONDS: i64 = 60;
pub const PER_HOUR: u64 = 5;
/// Enrolment sends may use one part in this many of the tenant's daily cap (`enrolment_share`).
pub const ENROLMENT_SHARE_DIVISOR: u64 = 5;
/// All tries of one send together, well inside the 30 s request timeout (`http::router`).
pub const SEND_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);

#[derive(Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// Too soon after the previous message: wait this many seconds.
    Wait(i64),
    /// Five messages this hour to this person or number.
    HourlyLimit,
    /// The tenant's daily cap is reached.
    DailyLimit,
    /// The number's country is not on the tenant's allow-list.
    CountryRefused,
    /// The provider did not take the message.
    Failed,
}

/// The regions a tenant sends to: its list, or its own region alone.
pub fn allowed_countries(tenant: &Tenant) -> Vec<String> {
    let listed: Vec<String> = tenant
        .row
        .sms_countries
        .split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    if listed.is_empty() { vec![tenant.row.sms_region.to_ascii_uppercase()] } else { listed }
}

fn code_hash(state: &AppState, user_id: &str, code: &str) -> String {
    backup_codes::hash(state.keys.backup_code_pepper(), &format!("sms:{user_id}"), code)
}

/// Sends a fresh code to `phone` for `purpose`, unless a limit says no. The send is reserved
/// (a row in the log) before the limits are counted, so parallel requests cannot all pass them.
#[allow(clippy::too_many_arguments)]
pub async fn send_code(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    phone: &PhoneNumber,
    purpose: &str,
    lang: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<SendOutcome, StoreError> {
    if !allowed_countries(tenant).iter().any(|c| c == phone.country()) {
        return Ok(SendOutcome::CountryRefused);
    }
    let send_id = uuid::Uuid::new_v4().to_string();
    store::sms::insert_send(
        &state.db,
        entity::sms_send::Model {
            id: send_id.clone(),
            tenant_id: tenant.id().to_string(),
            user_id: user_id.to_string(),
            phone_number: phone.e164().to_string(),
            delivered: false,
            purpose: purpose.to_string(),
            created_at: now,
        },
    )
    .await?;
    if let Some(refusal) = over_limit(state, tenant, user_id, phone, purpose, Some(&send_id), now).await? {
        store::sms::delete_send(&state.db, &send_id).await?;
        return Ok(refusal);
    }

    let code = format!("{:06}", OsRng.gen_range(0..1_000_000u32));
    store::sms::insert_code(
        &state.db,
        entity::sms_code::Model {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant.id().to_string(),
            user_id: user_id.to_string(),
            purpose: purpose.to_string(),
            phone_number: phone.e164().to_string(),
            code_hash: code_hash(state, user_id, &code),
            failures: 0,
            created_at: now,
            expires_at: now + tenant.row.sms_code_seconds,
            consumed_at: None,
        },
    )
    .await?;
    let minutes = (tenant.row.sms_code_seconds / 60).max(1);
    let message = state.views.message_with(
        lang,
        "sms-message",
        &[
            ("tenant", tenant.row.display_name.clone().into()),
            ("code", code.clone().into()),
            ("minutes", minutes.into()),
        ],
    );
    let send = async {
        match &tenant.row.sms_sender_sealed {
            None => state.sms.send(phone.e164(), &message, tenant.slug(), now).await,
            Some(sealed) => match tenant_sender(state, tenant, sealed) {
                Ok(sender) => sender.send(phone.e164(), &message, tenant.slug(), now).await,
                Err(err) => Err(crate::notify::SendError::NotConfigured(err)),
            },
        }
    };
    // The person waits for this answer (it is sent by the step that shows the code form): a
    // provider that hangs must not hold the request past its own timeout.
    let sent = match tokio::time::timeout(SEND_DEADLINE, send).await {
        Ok(sent) => sent,
        Err(_) => Err(crate::notify::SendError::Unreachable(format!("no answer within {SEND_DEADLINE:?}"))),
    };
    let delivered = match sent {
        Ok(()) => true,
        Err(err) => {
            tracing::error!(error = %err, tenant = tenant.slug(), "sending a text message failed");
            false
        }
    };
    state.metrics.sms(delivered);
    // A failed send still counts against the limits: it may have cost money all the same.
    store::sms::set_delivered(&state.db, &send_id, delivered).await?;
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(user_id),
        event: if delivered { Event::SmsSent } else { Event::SmsFailed },
        detail: json!({ "purpose": purpose, "to": phone.masked() }),
        ip,
    };
    audit::record(&state.db, event, now).await?;
    Ok(if delivered { SendOutcome::Sent } else { SendOutcome::Failed })
}

/// The limits, counted with this send's own reservation `own` included; without one (`None`:
/// only asking), as if a send were reserved now.
async fn over_limit(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    phone: &PhoneNumber,
    purpose: &str,
    own: Option<&str>,
    now: i64,
) -> Result<Option<SendOutcome>, StoreError> {
    // A minute between codes of one purpose: confirming a number and then signing in at once
    // must not leave the person waiting for their first sign-in code.
    let last = store::sms::last_send_other_than(&state.db, user_id, purpose, own.unwrap_or_default()).await?;
    if let Some(last) = last
        && now - last < RESEND_SECONDS
    {
        return Ok(Some(SendOutcome::Wait(RESEND_SECONDS - (now - last))));
    }
    let this_one = u64::from(own.is_none());
    let hour_ago = now - 3600;
    if store::sms::sends_to_user_since(&state.db, user_id, hour_ago).await? + this_one > PER_HOUR
        || store::sms::sends_to_number_since(&state.db, phone.e164(), hour_ago).await? + this_one > PER_HOUR
    {
        return Ok(Some(SendOutcome::HourlyLimit));
    }
    let cap = u64::try_from(tenant.row.sms_daily_cap).unwrap_or(0);
    let day_ago = now - 86_400;
    // Any signed-in person chooses the numbers enrolment codes go to: those sends get a share of
    // the cap of their own, so they can never spend what sign-in codes to confirmed numbers need.
    if purpose == PURPOSE_ENROL
        && store::sms::sends_of_tenant_for_since(&state.db, tenant.id(), PURPOSE_ENROL, day_ago).await?
            + this_one
            > enrolment_share(cap)
    {
        if own.is_some() {
            tracing::warn!(
                tenant = tenant.slug(),
                "the tenant's daily share of SMS for enrolment is reached"
            );
        }
        return Ok(Some(SendOutcome::DailyLimit));
    }
    if store::sms::sends_of_tenant_since(&state.db, tenant.id(), day_ago).await? + this_one > cap {
        if own.is_some() {
            tracing::warn!(tenant = tenant.slug(), "the tenant's daily SMS cap is reached");
        }
        return Ok(Some(SendOutcome::DailyLimit));
    }
    Ok(None)
}

/// The part of a daily cap that enrolment sends (to numbers not yet confirmed) may use: a fifth,
/// rounded up so that a small tenant can still enrol someone. Sign-in codes keep the rest.
pub fn enrolment_share(cap: u64) -> u64 {
    cap.div_ceil(ENROLMENT_SHARE_DIVISOR)
}

/// Checks a code against the newest one for this user and purpose, and uses it when right.
/// For sign-in codes `expected_phone` is the user's number now: a code that went to a number
/// since replaced does not count. Returns the number the code was sent to.
pub async fn verify_code(
    state: &AppState,
    user_id: &str,
    purpose: &str,
    code: &str,
    expected_phone: Option<&str>,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let Some(newest) = store::sms::newest_code(&state.db, user_id, purpose).await? else { return Ok(None) };
    if newest.consumed_at.is_some() || newest.expires_at <= now || newest.failures >= MAX_TRIES {
        return Ok(None);
    }
    if expected_phone.is_some_and(|phone| phone != newest.phone_number) {
        return Ok(None);
    }
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if !constant_time_eq(&code_hash(state, user_id, &typed), &newest.code_hash) {
        store::sms::add_failure(&state.db, &newest.id).await?;
        return Ok(None);
    }
    if store::sms::consume(&state.db, &newest.id, MAX_TRIES, now).await? {
        Ok(Some(newest.phone_number))
    } else {
        Ok(None)
    }
}

/// Where this sign-in's code stands, read from the send log (nothing is sent or reserved):
/// `Some(Sent)` when the newest message since `since` reached the provider, `Some(Failed)` when
/// it did not, otherwise the limit that would refuse a send now, or `None` when nothing did and
/// nothing would (a step entered before the code was due, such as during an upgrade).
pub async fn sign_in_code(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    phone: &PhoneNumber,
    since: i64,
    now: i64,
) -> Result<Option<SendOutcome>, StoreError> {
    if let Some(send) = store::sms::newest_send_since(&state.db, user_id, PURPOSE_LOGIN, since).await? {
        return Ok(Some(if send.delivered { SendOutcome::Sent } else { SendOutcome::Failed }));
    }
    if !allowed_countries(tenant).iter().any(|c| c == phone.country()) {
        return Ok(Some(SendOutcome::CountryRefused));
    }
    over_limit(state, tenant, user_id, phone, PURPOSE_LOGIN, None, now).await
}

/// The associated data that binds a sealed sender to its tenant.
pub fn sender_aad(tenant_id: &str) -> String {
    format!("sms-sender:{tenant_id}")
}

/// The tenant's own sender, opened from its sealed settings.
fn tenant_sender(state: &AppState, tenant: &Tenant, sealed: &str) -> Result<ConfiguredSender, &'static str> {
    let json = state
        .keys
        .master()
        .open(sealed, &sender_aad(tenant.id()))
        .map_err(|_| "the tenant's sender cannot be opened")?;
    let sender: SenderOverride =
        serde_json::from_slice(&json).map_err(|_| "the tenant's sender is unreadable")?;
    let console_allowed = state.settings.allows_development_secrets();
    ConfiguredSender::from_settings(&sender.apply_to(&state.settings.sms), console_allowed).map_err(|err| {
        tracing::error!(error = %err, tenant = tenant.slug(), "the tenant's SMS sender is misconfigured");
        "the tenant's sender is misconfigured"
    })
}

/// The user's confirmed number, read back with the tenant's region.
pub fn user_phone(tenant: &Tenant, user: &entity::user::Model) -> Option<PhoneNumber> {
    user.phone_number.as_deref().and_then(|p| PhoneNumber::parse(p, &tenant.row.sms_region).ok())
}
