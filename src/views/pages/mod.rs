//! One typed context per page, so a template never sees a missing variable.
//! One file per area: the frame around every page, the login and consent pages, the second-factor
//! step, setting up a factor, the account pages, and plain messages.

mod account;
mod consent;
mod factor_setup;
mod frame;
mod login;
mod messages;
mod second_factor;
mod security_keys;
mod webauthn_form;

pub use account::{AccountPage, AppRow, DeviceRow, EmailChangePage, PasswordChangePage};
pub use consent::ConsentPage;
pub use factor_setup::{
    BackupCodesPage, MethodChoicePage, MethodOption, SmsConfirmPage, SmsSetupPage, TotpSetupPage,
};
pub use frame::{Frame, LanguageLink};
pub use login::{LoginPage, PasswordForgotPage, PasswordResetPage};
pub use messages::{ConfirmPage, ErrorPage, HiddenField, MessagePage};
pub use second_factor::{BackupCodePage, NoticePage, SecondFactorPage};
pub use security_keys::{KeyRow, SecurityKeysPage};
pub use webauthn_form::WebauthnForm;

#[cfg(test)]
mod tests;
