use entity::webauthn_ceremony;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;

/// Stores a ceremony in place of its owner's earlier one of the same kind.
pub async fn replace(db: &impl ConnectionTrait, model: webauthn_ceremony::Model) -> Result<(), StoreError> {
    webauthn_ceremony::Entity::delete_many()
        .filter(webauthn_ceremony::Column::TenantId.eq(model.tenant_id.as_str()))
        .filter(webauthn_ceremony::Column::Kind.eq(model.kind.as_str()))
        .filter(webauthn_ceremony::Column::Owner.eq(model.owner.as_str()))
        .exec(db)
        .await?;
    let active: webauthn_ceremony::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

/// Takes a live ceremony of this kind and owner out of the table. Only the caller whose DELETE
/// removed the row gets it, so a ceremony can be finished once, on any instance.
pub async fn take(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
    kind: &str,
    owner: &str,
    now: i64,
) -> Result<Option<webauthn_ceremony::Model>, StoreError> {
    let Some(row) = webauthn_ceremony::Entity::find_by_id(id.to_string())
        .filter(webauthn_ceremony::Column::TenantId.eq(tenant_id))
        .filter(webauthn_ceremony::Column::Kind.eq(kind))
        .filter(webauthn_ceremony::Column::Owner.eq(owner))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let deleted = webauthn_ceremony::Entity::delete_many()
        .filter(webauthn_ceremony::Column::Id.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    Ok((deleted == 1 && row.expires_at > now).then_some(row))
}
