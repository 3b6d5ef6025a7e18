//! `tessera client`: register relying-party clients and list them.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::admin::{self, NewClientRequest};
use crate::state::AppState;
use crate::store;

#[derive(Subcommand)]
pub(super) enum ClientCommand {
    /// Register a client; prints its secret once (confidential clients).
    Create(ClientCreate),
    /// List the clients of a tenant.
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Args)]
pub(super) struct ClientCreate {
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    client_id: String,
    /// Exact redirect URI; repeat for several.
    #[arg(long = "redirect-uri", required = true)]
    redirect_uris: Vec<String>,
    /// A public client (native app or SPA): no secret, PKCE required.
    #[arg(long)]
    public: bool,
    /// A first-party app of the tenant itself (no consent screen).
    #[arg(long)]
    first_party: bool,
    /// Where logout may return the browser; repeat for several.
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// A scope the client may obtain with client_credentials; repeat for several.
    #[arg(long = "scope")]
    allowed_scopes: Vec<String>,
    /// Issue refresh tokens even without the offline_access scope (they end with the session).
    #[arg(long)]
    refresh_tokens: bool,
    /// ID token signing algorithm: RS256 (default), ES256 or EdDSA.
    #[arg(long, value_name = "ALG")]
    id_token_alg: Option<String>,
    /// Authenticate with private_key_jwt using the public keys in this JWK Set file (no secret).
    #[arg(long, value_name = "FILE")]
    jwks_file: Option<PathBuf>,
    /// Authenticate with private_key_jwt using the JWK Set at this URL (no secret).
    #[arg(long, value_name = "URL")]
    jwks_uri: Option<String>,
    /// Receive back-channel logout tokens at this URL.
    #[arg(long, value_name = "URL")]
    backchannel_logout_uri: Option<String>,
    /// Issue RFC 9068 JWT access tokens (signed like the ID tokens) instead of opaque ones.
    #[arg(long)]
    jwt_access_tokens: bool,
    /// A resource server (an API): may introspect the access tokens of every client of the
    /// tenant. Other clients may introspect only their own tokens.
    #[arg(long)]
    resource_server: bool,
}

pub(super) async fn run(state: &AppState, command: ClientCommand) -> Result<(), String> {
    use secrecy::ExposeSecret;
    match command {
        ClientCommand::Create(args) => {
            let tenant = admin::tenant(state, &args.tenant).await.map_err(|e| e.to_string())?;
            let jwks = match &args.jwks_file {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
                ),
                None => None,
            };
            let request = NewClientRequest {
                client_id: args.client_id,
                redirect_uris: args.redirect_uris,
                public: args.public,
                first_party: args.first_party,
                secret: None,
                post_logout_redirect_uris: args.post_logout_redirect_uris,
                allowed_scopes: args.allowed_scopes,
                refresh_without_offline_access: args.refresh_tokens,
                id_token_alg: args.id_token_alg,
                jwks,
                jwks_uri: args.jwks_uri,
                backchannel_logout_uri: args.backchannel_logout_uri,
                jwt_access_tokens: args.jwt_access_tokens,
                resource_server: args.resource_server,
            };
            let (row, secret) =
                admin::create_client(state, &tenant, request).await.map_err(|e| e.to_string())?;
            println!("created client {} in tenant {}", row.client_id, tenant.slug());
            match secret {
                Some(secret) => {
                    println!("client secret (shown only now, store it safely): {}", secret.expose_secret())
                }
                None if row.is_public => println!("public client: no secret; use PKCE (S256)"),
                None => println!(
                    "confidential client with private_key_jwt: no secret; it signs with its own keys"
                ),
            }
        }
        ClientCommand::List { tenant } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let clients = store::clients::list(&state.db, tenant.id()).await.map_err(|e| e.to_string())?;
            println!("{:<32} {:<13} {:<12} REDIRECT URIS", "CLIENT ID", "TYPE", "PARTY");
            for row in clients {
                let uris = store::clients::redirect_uris(&row).map_err(|e| e.to_string())?;
                let uris = uris.iter().map(|uri| uri.as_str()).collect::<Vec<_>>().join(" ");
                let kind = if row.is_public { "public" } else { "confidential" };
                let party = if row.first_party { "first-party" } else { "third-party" };
                println!("{:<32} {kind:<13} {party:<12} {uris}", row.client_id);
            }
        }
    }
    Ok(())
}
