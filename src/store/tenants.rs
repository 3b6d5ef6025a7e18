use entity::tenant;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::{Db, StoreError, duplicate_as};

pub async fn insert(
    db: &impl ConnectionTrait,
    slug: &str,
    display_name: &str,
    now: i64,
) -> Result<tenant::Model, StoreError> {
    let model = tenant::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        slug: Set(slug.to_string()),
        display_name: Set(display_name.to_string()),
        default_locale: Set("en".to_string()),
        created_at: Set(now),
        require_2fa: Set(false),
        trusted_device_days: Set(30),
        sms_region: Set("NL".to_string()),
        sms_countries: Set(String::new()),
        sms_code_seconds: Set(1800),
        sms_daily_cap: Set(500),
        sms_sender_sealed: Set(None),
        theme: Set("default".to_string()),
        host: Set(None),
        email_from: Set(None),
    };
    model.insert(db).await.map_err(duplicate_as("tenant"))
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<tenant::Model>, StoreError> {
    Ok(tenant::Entity::find().filter(tenant::Column::Slug.eq(slug)).one(db).await?)
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<tenant::Model>, StoreError> {
    Ok(tenant::Entity::find().order_by_asc(tenant::Column::Slug).all(db).await?)
}

/// Changes the tenant's second-factor policy; `None` leaves a setting as it is.
pub async fn update_policy(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    require_2fa: Option<bool>,
    trusted_device_days: Option<i32>,
) -> Result<(), StoreError> {
    let mut update = tenant::Entity::update_many().filter(tenant::Column::Id.eq(tenant_id));
    if let Some(value) = require_2fa {
        update = update.col_expr(tenant::Column::Require2fa, Expr::value(value));
    }
    if let Some(value) = trusted_device_days {
        update = update.col_expr(tenant::Column::TrustedDeviceDays, Expr::value(value));
    }
    update.exec(db).await?;
    Ok(())
}

/// Changes the tenant's text-message policy; `None` leaves a setting as it is.
pub async fn update_sms_policy(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    region: Option<&str>,
    countries: Option<&str>,
    daily_cap: Option<i32>,
    code_seconds: Option<i64>,
) -> Result<(), StoreError> {
    let mut update = tenant::Entity::update_many().filter(tenant::Column::Id.eq(tenant_id));
    if let Some(value) = region {
        update = update.col_expr(tenant::Column::SmsRegion, Expr::value(value));
    }
    if let Some(value) = countries {
        update = update.col_expr(tenant::Column::SmsCountries, Expr::value(value));
    }
    if let Some(value) = daily_cap {
        update = update.col_expr(tenant::Column::SmsDailyCap, Expr::value(value));
    }
    if let Some(value) = code_seconds {
        update = update.col_expr(tenant::Column::SmsCodeSeconds, Expr::value(value));
    }
    update.exec(db).await?;
    Ok(())
}

pub async fn set_sms_sender(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    sealed: Option<String>,
) -> Result<(), StoreError> {
    tenant::Entity::update_many()
        .col_expr(tenant::Column::SmsSenderSealed, Expr::value(sealed))
        .filter(tenant::Column::Id.eq(tenant_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets the theme and/or the host (`Some(None)` removes the host).
pub async fn update_branding(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    theme: Option<&str>,
    host: Option<Option<&str>>,
) -> Result<(), StoreError> {
    let mut update = tenant::Entity::update_many().filter(tenant::Column::Id.eq(tenant_id));
    if let Some(theme) = theme {
        update = update.col_expr(tenant::Column::Theme, Expr::value(theme));
    }
    if let Some(host) = host {
        update = update.col_expr(tenant::Column::Host, Expr::value(host.map(str::to_string)));
    }
    update.exec(db).await.map_err(super::duplicate_as("a tenant with this host"))?;
    Ok(())
}

pub async fn find_by_host(
    db: &impl ConnectionTrait,
    host: &str,
) -> Result<Option<tenant::Model>, StoreError> {
    Ok(tenant::Entity::find().filter(tenant::Column::Host.eq(host)).one(db).await?)
}

/// Sets the sender address of the tenant's email (`None`: the server's).
pub async fn set_email_from(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    from: Option<&str>,
) -> Result<(), StoreError> {
    tenant::Entity::update_many()
        .col_expr(tenant::Column::EmailFrom, Expr::value(from.map(str::to_string)))
        .filter(tenant::Column::Id.eq(tenant_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes `new`'s policy columns only while the row still holds `old`'s (a compare-and-set), with
/// the audit event in the same transaction. False, with nothing written, when it changed meanwhile.
pub async fn update_settings(
    db: &Db,
    old: &tenant::Model,
    new: &tenant::Model,
    audit: entity::audit_event::Model,
) -> Result<bool, StoreError> {
    let txn = db.begin().await?;
    let mut update = tenant::Entity::update_many()
        .col_expr(tenant::Column::Require2fa, Expr::value(new.require_2fa))
        .col_expr(tenant::Column::TrustedDeviceDays, Expr::value(new.trusted_device_days))
        .col_expr(tenant::Column::SmsRegion, Expr::value(new.sms_region.as_str()))
        .col_expr(tenant::Column::SmsCountries, Expr::value(new.sms_countries.as_str()))
        .col_expr(tenant::Column::SmsDailyCap, Expr::value(new.sms_daily_cap))
        .col_expr(tenant::Column::SmsCodeSeconds, Expr::value(new.sms_code_seconds))
        .col_expr(tenant::Column::Theme, Expr::value(new.theme.as_str()))
        .col_expr(tenant::Column::Host, Expr::value(new.host.clone()))
        .filter(tenant::Column::Id.eq(old.id.as_str()))
        .filter(tenant::Column::Require2fa.eq(old.require_2fa))
        .filter(tenant::Column::TrustedDeviceDays.eq(old.trusted_device_days))
        .filter(tenant::Column::SmsRegion.eq(old.sms_region.as_str()))
        .filter(tenant::Column::SmsCountries.eq(old.sms_countries.as_str()))
        .filter(tenant::Column::SmsDailyCap.eq(old.sms_daily_cap))
        .filter(tenant::Column::SmsCodeSeconds.eq(old.sms_code_seconds))
        .filter(tenant::Column::Theme.eq(old.theme.as_str()));
    update = match &old.host {
        Some(host) => update.filter(tenant::Column::Host.eq(host.as_str())),
        None => update.filter(tenant::Column::Host.is_null()),
    };
    let result = update.exec(&txn).await.map_err(duplicate_as("a tenant with this host"))?;
    if result.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    super::audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    Ok(true)
}
