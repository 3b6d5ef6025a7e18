//! Demo data for a first run: a tenant, a client for `examples/relying_party.rs` and a user,
//! created only when missing. Development mode only: the credentials are public.

use secrecy::SecretString;

use crate::admin::{self, AdminError, NewClientRequest};
use crate::config::Mode;
use crate::state::AppState;
use crate::store;

pub const TENANT: &str = "demo";
pub const CLIENT_ID: &str = "demo-app";
pub const CLIENT_SECRET: &str = "demo-app-secret-change-me";
pub const REDIRECT_URI: &str = "http://localhost:3000/callback";
pub const POST_LOGOUT_REDIRECT_URI: &str = "http://localhost:3000/";
pub const EMAIL: &str = "patient@example.org";
pub const PASSWORD: &str = "demo-password";

pub async fn ensure(state: &AppState) -> Result<(), AdminError> {
    if state.settings.mode == Mode::Production {
        return Err(AdminError::Invalid("demo data is refused in production mode".into()));
    }
    if store::tenants::find_by_slug(&state.db, TENANT).await?.is_none() {
        admin::create_tenant(state, TENANT, "Demo Clinic").await?;
    }
    let tenant = admin::tenant(state, TENANT).await?;
    if store::clients::find(&state.db, tenant.id(), CLIENT_ID).await?.is_none() {
        admin::create_client(
            state,
            &tenant,
            NewClientRequest {
                first_party: true,
                secret: Some(SecretString::from(CLIENT_SECRET)),
                post_logout_redirect_uris: vec![POST_LOGOUT_REDIRECT_URI.to_string()],
                ..NewClientRequest::new(CLIENT_ID, &[REDIRECT_URI])
            },
        )
        .await?;
    }
    let email = crate::domain::Email::parse(EMAIL).map_err(|e| AdminError::Invalid(e.0))?;
    if store::users::find_by_email(&state.db, tenant.id(), &email).await?.is_none() {
        admin::create_user(state, &tenant, EMAIL, Some("Demo Patient"), SecretString::from(PASSWORD)).await?;
    }
    println!(
        "\nDemo data (development only):\n  issuer:        {}\n  client id:     {CLIENT_ID}\n  client secret: {CLIENT_SECRET}\n  redirect URI:  {REDIRECT_URI}\n  user:          {EMAIL} / {PASSWORD}\n  try it:        cargo run --example relying_party, then open http://localhost:3000\n",
        tenant.issuer
    );
    Ok(())
}
