use entity::consent;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::StoreError;
use crate::domain::Scope;

pub async fn find(
    db: &impl ConnectionTrait,
    user_id: &str,
    client_row_id: &str,
) -> Result<Option<consent::Model>, StoreError> {
    Ok(consent::Entity::find()
        .filter(consent::Column::UserId.eq(user_id))
        .filter(consent::Column::ClientId.eq(client_row_id))
        .one(db)
        .await?)
}

/// Records (or widens) the person's consent for a client.
pub async fn grant(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    client_row_id: &str,
    scope: &Scope,
    now: i64,
) -> Result<(), StoreError> {
    match find(db, user_id, client_row_id).await? {
        Some(existing) => {
            let merged = Scope::parse(&existing.scope).union(scope);
            let mut active: consent::ActiveModel = existing.into();
            active.scope = Set(merged.as_string());
            active.update(db).await?;
        }
        None => {
            consent::ActiveModel {
                id: Set(uuid::Uuid::new_v4().to_string()),
                tenant_id: Set(tenant_id.to_string()),
                user_id: Set(user_id.to_string()),
                client_id: Set(client_row_id.to_string()),
                scope: Set(scope.as_string()),
                created_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Vec<consent::Model>, StoreError> {
    Ok(consent::Entity::find()
        .filter(consent::Column::UserId.eq(user_id))
        .order_by_asc(consent::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    user_id: &str,
    client_row_id: &str,
) -> Result<bool, StoreError> {
    let result = consent::Entity::delete_many()
        .filter(consent::Column::UserId.eq(user_id))
        .filter(consent::Column::ClientId.eq(client_row_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
