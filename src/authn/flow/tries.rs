//! The five tries of an attempt's code forms, and the person's wait after wrong codes across
//! attempts. Every code check (app, text message, backup code, key, enrolment) goes through here.

use serde_json::json;

use super::{Factor, FlowError, LoginAttempt, MAX_FACTOR_FAILURES, Refusal, StepOutcome, Visitor};
use crate::audit::{self, AuditEvent, Event};
use crate::authn::throttle;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

/// Before a code is checked: the user's wait after earlier wrong codes (across attempts), then one
/// of this attempt's five tries, taken in one statement. `Err` carries the answer when no try is
/// left or the user must wait.
pub(super) async fn take_try(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    user_id: &str,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<Result<i32, StepOutcome>, FlowError> {
    let key = throttle::factor_key(tenant.id(), user_id);
    if let Some(seconds) = throttle::claim(&state.db, &state.settings.throttle, &[&key], now).await? {
        return Ok(Err(StepOutcome::Refused(Refusal::FactorThrottled { seconds })));
    }
    match store::attempts::take_factor_try(&state.db, &attempt.id_hash, MAX_FACTOR_FAILURES).await? {
        Some(tries) => Ok(Ok(tries)),
        None => Ok(Err(restart(state, tenant, attempt, visitor, now).await?)),
    }
}

/// A right code: the user's counter of wrong codes starts over.
pub(super) async fn passed(state: &AppState, tenant: &Tenant, user_id: &str) -> Result<(), FlowError> {
    store::throttles::clear(&state.db, &throttle::factor_key(tenant.id(), user_id)).await?;
    Ok(())
}

async fn restart(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    store::attempts::finish(&state.db, &attempt.id_hash).await?;
    let attempt_token = super::start(state, tenant, &attempt.purpose, visitor.browser_token, now).await?;
    Ok(StepOutcome::Restarted { attempt_token })
}

/// Counts a wrong code against the user; the fifth try of an attempt ends it and a fresh attempt
/// starts at the password.
#[allow(clippy::too_many_arguments)]
pub(super) async fn wrong_code(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    user_id: &str,
    factor: Factor,
    tries: i32,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    let key = throttle::factor_key(tenant.id(), user_id);
    throttle::record_failure_for(&state.db, &state.settings.throttle, &[&key], now).await?;
    state.metrics.second_factor_failure();
    let locked = tries >= MAX_FACTOR_FAILURES;
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(user_id),
        event: if locked { Event::LoginSecondFactorLocked } else { Event::LoginSecondFactorFailed },
        detail: json!({ "kind": factor.as_str(), "failures": tries }),
        ip: Some(visitor.ip),
    };
    audit::record(&state.db, event, now).await?;
    if !locked {
        return Ok(StepOutcome::Refused(Refusal::WrongFactor(factor)));
    }
    restart(state, tenant, attempt, visitor, now).await
}
