//! OpenID Connect on top of OAuth: discovery, ID tokens, userinfo and the honest amr/acr claims.

pub mod backchannel;
pub mod discovery;
pub mod id_token;
pub mod logout;
pub mod userinfo;
