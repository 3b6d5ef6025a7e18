use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempts")]
pub struct Model {
    /// SHA-256 (hex) of the attempt token carried in the login URL.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    /// SHA-256 (hex) of the browser-binding cookie that started this attempt.
    pub browser_hash: String,
    pub csrf_token: String,
    /// JSON of the validated authorization request.
    pub request: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// `password`, `second_factor`, `enrol`, `notice`.
    pub stage: String,
    /// Set once the person is known (after the password, or from the session on step-up).
    pub user_id: Option<String>,
    /// Wrong second-factor codes in this attempt.
    pub factor_failures: i32,
    /// JSON of what the `notice` stage shows before finishing.
    pub notice: Option<String>,
    /// Whether this attempt checked the password (a step-up attempt does not).
    pub password_ok: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
