//! `tessera user import`: users moved in from another identity provider, one JSON object a line,
//! with their existing Argon2id password hashes and, optionally, their authenticator-app seeds.
//! Every line is checked before anything is written, and everything is written in one
//! transaction: a bad line (or an email address already taken) imports nothing.

use std::collections::HashSet;

use argon2::password_hash::PasswordHash;
use data_encoding::BASE32_NOPAD;
use serde::Deserialize;
use serde_json::json;

use crate::admin::AdminError;
use crate::audit::{self, AuditEvent, Event};
use crate::authn::second_factor::Method;
use crate::domain::Email;
use crate::state::AppState;
use crate::store;
use crate::store::user_import::{ImportBatch, ImportFailure};
use crate::tenants::Tenant;

/// Rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
const BATCH: usize = 500;
/// RFC 4226 section 4: a shared secret of at least 128 bits; 80 bits (16 base32 characters) is
/// what many apps and providers issued, so it is accepted too.
const MIN_TOTP_SECRET_BYTES: usize = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    email: String,
    #[serde(default)]
    name: Option<String>,
    password_hash: String,
    #[serde(default)]
    totp_secret: Option<String>,
}

/// What an import wrote.
#[derive(Debug, PartialEq, Eq)]
pub struct Imported {
    pub users: usize,
    pub with_totp: usize,
}

struct Parsed {
    line: usize,
    email: Email,
    name: Option<String>,
    password_hash: String,
    totp_seed: Option<Vec<u8>>,
}

/// Imports every user in `input` (JSON Lines; blank lines are skipped) into `tenant`, or none.
pub async fn import_users(state: &AppState, tenant: &Tenant, input: &str) -> Result<Imported, AdminError> {
    let users = parse_all(input)?;
    let now = state.now();
    let with_totp = users.iter().filter(|user| user.totp_seed.is_some()).count();
    let batches = users.chunks(BATCH).map(|batch| rows(state, tenant, batch, now));
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: None,
        event: Event::UsersImported,
        detail: json!({ "users": users.len(), "with_totp": with_totp }),
        ip: None,
    };
    match store::user_import::insert_all(&state.db, batches, audit::row(event, now)).await {
        Ok(()) => Ok(Imported { users: users.len(), with_totp }),
        Err(ImportFailure::Batch(err)) => Err(err),
        Err(ImportFailure::EmailTaken) => Err(first_taken(state, tenant, &users).await),
        Err(ImportFailure::Store(err)) => Err(err.into()),
    }
}

/// The rows of one batch, app seeds sealed as at enrolment.
fn rows(state: &AppState, tenant: &Tenant, batch: &[Parsed], now: i64) -> Result<ImportBatch, AdminError> {
    let mut rows = Vec::with_capacity(batch.len());
    let mut credentials = Vec::new();
    for user in batch {
        let id = uuid::Uuid::new_v4().to_string();
        if let Some(seed) = &user.totp_seed {
            let credential_id = uuid::Uuid::new_v4().to_string();
            let sealed = state
                .keys
                .master()
                .seal(seed, &credential_id)
                .map_err(|e| AdminError::Invalid(e.to_string()))?;
            credentials.push(entity::totp_credential::Model {
                id: credential_id,
                tenant_id: tenant.id().to_string(),
                user_id: id.clone(),
                secret_sealed: sealed,
                status: store::totp_credentials::ACTIVE.to_string(),
                last_used_step: None,
                created_at: now,
                confirmed_at: Some(now),
            });
        }
        rows.push(entity::user::Model {
            id,
            tenant_id: tenant.id().to_string(),
            email: user.email.as_str().to_string(),
            email_verified: false,
            password_hash: user.password_hash.clone(),
            created_at: now,
            updated_at: now,
            two_factor_method: user.totp_seed.as_ref().map(|_| Method::Totp),
            name: user.name.clone(),
            phone_number: None,
            disabled_at: None,
            locale: None,
        });
    }
    Ok(ImportBatch { users: rows, totp_credentials: credentials })
}

/// The first line whose address is taken, once an insert hit the unique index. Looking this up
/// only after a failure keeps the import to plain inserts: a lookup per batch inside the one
/// transaction made PostgreSQL plan against a table it still believed empty (100,000 users took
/// two minutes).
async fn first_taken(state: &AppState, tenant: &Tenant, users: &[Parsed]) -> AdminError {
    for batch in users.chunks(BATCH) {
        let emails: Vec<&str> = batch.iter().map(|u| u.email.as_str()).collect();
        match store::users::existing_emails(&state.db, tenant.id(), &emails).await {
            Ok(taken) => {
                if let Some(user) = batch.iter().find(|u| taken.contains(u.email.as_str())) {
                    return invalid(user.line, "a user with this email address already exists");
                }
            }
            Err(err) => return err.into(),
        }
    }
    AdminError::Invalid("an email address is already taken; nothing was imported".into())
}

fn parse_all(input: &str) -> Result<Vec<Parsed>, AdminError> {
    let mut users = Vec::new();
    let mut seen = HashSet::new();
    for (index, text) in input.lines().enumerate() {
        let line = index + 1;
        if text.trim().is_empty() {
            continue;
        }
        let user = parse_line(line, text)?;
        if !seen.insert(user.email.as_str().to_string()) {
            return Err(invalid(line, "this email address appears earlier in the file"));
        }
        users.push(user);
    }
    if users.is_empty() {
        return Err(AdminError::Invalid("the file holds no users".into()));
    }
    Ok(users)
}

fn parse_line(line: usize, text: &str) -> Result<Parsed, AdminError> {
    let raw: Line = serde_json::from_str(text).map_err(|e| invalid(line, &e.to_string()))?;
    let email = Email::parse(&raw.email).map_err(|e| invalid(line, &e.to_string()))?;
    let name = raw.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(invalid(line, "the name must be at most 200 characters"));
    }
    check_password_hash(&raw.password_hash).map_err(|why| invalid(line, why))?;
    let totp_seed = match raw.totp_secret.as_deref() {
        Some(secret) => Some(parse_totp_secret(secret).map_err(|why| invalid(line, why))?),
        None => None,
    };
    Ok(Parsed { line, email, name, password_hash: raw.password_hash, totp_seed })
}

/// Only Argon2id PHC strings with a salt and a hash: the verifier checks nothing else.
fn check_password_hash(value: &str) -> Result<(), &'static str> {
    let parsed = PasswordHash::new(value).map_err(|_| "password_hash is not a PHC string")?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err("password_hash must be an Argon2id hash ($argon2id$...)");
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err("password_hash has no salt or no hash");
    }
    let params =
        argon2::Params::try_from(&parsed).map_err(|_| "password_hash has invalid Argon2 parameters")?;
    // Every sign-in of the person recomputes the hash with these costs: an absurd one would let
    // a single account take the server's memory or its hashing threads.
    if params.m_cost() > MAX_IMPORTED_MEMORY_KIB
        || params.t_cost() > MAX_IMPORTED_PASSES
        || params.p_cost() > 8
    {
        return Err("password_hash costs more than tessera verifies (at most m=262144, t=16, p=8)");
    }
    Ok(())
}

/// Upper bounds for imported Argon2 costs: 256 MiB and 16 passes cover every provider's
/// defaults (Keycloak m=7168, OWASP m=19456 to 47104, Bitwarden m=65536).
const MAX_IMPORTED_MEMORY_KIB: u32 = 262_144;
const MAX_IMPORTED_PASSES: u32 = 16;

/// A base32 seed as apps show it: spaces and lower case allowed, padding optional.
fn parse_totp_secret(value: &str) -> Result<Vec<u8>, &'static str> {
    let compact: String =
        value.chars().filter(|c| !c.is_whitespace() && *c != '=').map(|c| c.to_ascii_uppercase()).collect();
    let seed = BASE32_NOPAD.decode(compact.as_bytes()).map_err(|_| "totp_secret is not base32")?;
    if seed.len() < MIN_TOTP_SECRET_BYTES {
        return Err("totp_secret is shorter than 80 bits");
    }
    Ok(seed)
}

fn invalid(line: usize, why: &str) -> AdminError {
    AdminError::Invalid(format!("line {line}: {why}; nothing was imported"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Gk8TzM3o6wKqK4nY0lq9rYdJqz6G3v1cW3nq6x1p9A";

    #[test]
    fn accepts_argon2id_only() {
        assert!(check_password_hash(HASH).is_ok());
        assert!(check_password_hash(&HASH.replace("argon2id", "argon2i")).is_err());
        assert!(check_password_hash("$2b$12$abcdefghijklmnopqrstuv").is_err());
        assert!(check_password_hash("plain text").is_err());
    }

    #[test]
    fn absurd_argon2_costs_are_refused() {
        let salt = "c2l4dGVlbiBieXRlIHNhbHQ";
        let hash = "dGhpcnR5LXR3byBieXRlIGhhc2ggb3V0cHV0IGZvciB0ZXN0cw";
        assert!(check_password_hash(&format!("$argon2id$v=19$m=65536,t=3,p=4${salt}${hash}")).is_ok());
        let huge = format!("$argon2id$v=19$m=4194304,t=3,p=1${salt}${hash}");
        assert!(check_password_hash(&huge).unwrap_err().contains("at most m=262144"));
        let slow = format!("$argon2id$v=19$m=19456,t=100,p=1${salt}${hash}");
        assert!(check_password_hash(&slow).is_err());
    }

    #[test]
    fn totp_secrets_in_app_format() {
        assert_eq!(parse_totp_secret("JBSW Y3DP EHPK 3PXP").unwrap(), b"Hello!\xde\xad\xbe\xef");
        assert_eq!(parse_totp_secret("jbswy3dpehpk3pxp").unwrap().len(), 10);
        assert!(parse_totp_secret("JBSWY3DP").is_err(), "40 bits is too short");
        assert!(parse_totp_secret("not base32!").is_err());
    }

    #[test]
    fn a_bad_line_names_its_number() {
        let good = format!(r#"{{"email":"a@example.org","password_hash":"{HASH}"}}"#);
        let duplicate = format!(r#"{{"email":"A@example.org","password_hash":"{HASH}"}}"#);
        let err = parse_all(&format!("{good}\n\n{duplicate}\n")).err().unwrap().to_string();
        assert!(err.starts_with("line 3: "), "{err}");
        let err = parse_all(&format!("{good}\n{{\"email\":\"b@example.org\"}}")).err().unwrap().to_string();
        assert!(err.starts_with("line 2: "), "{err}");
    }
}
