//! The append-only audit log's rows (what an event holds is `crate::audit`'s business).

use entity::audit_event;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::StoreError;

/// Appends an event, logging it as it is written (inside the writer's transaction when there is
/// one). The log target stays `tessera::audit`, where these lines have always been, for filters.
pub async fn insert(db: &impl ConnectionTrait, model: audit_event::Model) -> Result<(), StoreError> {
    tracing::info!(
        target: "tessera::audit",
        event = model.event.as_str(),
        tenant = model.tenant_id.as_deref(),
        user = model.user_id.as_deref(),
        "audit"
    );
    let active: audit_event::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn list_for_tenant(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Vec<audit_event::Model>, StoreError> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(tenant_id))
        .order_by_asc(audit_event::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Which events of a tenant to read.
pub struct AuditQuery<'a> {
    pub tenant_id: &'a str,
    pub user_id: Option<&'a str>,
    pub event: Option<&'a str>,
    /// At or after (Unix seconds).
    pub since: Option<i64>,
    /// Before (Unix seconds).
    pub until: Option<i64>,
    /// Continue after this event (its time and id): the next older ones.
    pub before: Option<(i64, &'a str)>,
}

/// Events newest first (ties by id, so a page boundary never skips or repeats one).
pub async fn list_page(
    db: &impl ConnectionTrait,
    query: &AuditQuery<'_>,
    limit: u64,
) -> Result<Vec<audit_event::Model>, StoreError> {
    use audit_event::Column;
    let mut select = audit_event::Entity::find().filter(Column::TenantId.eq(query.tenant_id));
    if let Some(user_id) = query.user_id {
        select = select.filter(Column::UserId.eq(user_id));
    }
    if let Some(event) = query.event {
        select = select.filter(Column::Event.eq(event));
    }
    if let Some(since) = query.since {
        select = select.filter(Column::CreatedAt.gte(since));
    }
    if let Some(until) = query.until {
        select = select.filter(Column::CreatedAt.lt(until));
    }
    if let Some((time, id)) = query.before {
        select = select.filter(
            Condition::any()
                .add(Column::CreatedAt.lt(time))
                .add(Condition::all().add(Column::CreatedAt.eq(time)).add(Column::Id.lt(id))),
        );
    }
    Ok(select.order_by_desc(Column::CreatedAt).order_by_desc(Column::Id).limit(limit).all(db).await?)
}
