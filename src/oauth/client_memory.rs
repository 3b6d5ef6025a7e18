//! Client rows remembered for a few seconds, like tenants (`tenants::memory`): every token,
//! introspection and revocation request authenticates a client, and reading a row that changes a
//! few times a year was a database round trip of each (issue 17). Changes made through this
//! process (`admin::clients`) forget the memory at once; another instance, or the CLI, is seen
//! within `SECONDS` (docs/decisions.md, "Clients in memory").

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use entity::client::Model;

use crate::state::AppState;
use crate::store::{self, StoreError};

pub const SECONDS: i64 = 5;

/// Rows by (tenant row id, client_id) and by client row id. Only clients that exist are
/// remembered, so requests naming unknown clients cannot grow the maps.
#[derive(Default)]
pub struct Memory(RwLock<Maps>);

#[derive(Default)]
struct Maps {
    by_client_id: HashMap<(String, String), (Arc<Model>, i64)>,
    by_row_id: HashMap<String, (Arc<Model>, i64)>,
}

impl Memory {
    fn by_client_id(&self, tenant_id: &str, client_id: &str, now: i64) -> Option<Arc<Model>> {
        let maps = self.0.read().ok()?;
        // The key is owned; a lookup allocates two short strings, still far below a round trip.
        let key = (tenant_id.to_string(), client_id.to_string());
        maps.by_client_id.get(&key).filter(|(_, until)| now < *until).map(|(row, _)| row.clone())
    }

    fn by_row_id(&self, id: &str, now: i64) -> Option<Arc<Model>> {
        let maps = self.0.read().ok()?;
        maps.by_row_id.get(id).filter(|(_, until)| now < *until).map(|(row, _)| row.clone())
    }

    fn keep(&self, row: &Arc<Model>, now: i64) {
        if let Ok(mut maps) = self.0.write() {
            let until = now + SECONDS;
            maps.by_client_id.insert((row.tenant_id.clone(), row.client_id.clone()), (row.clone(), until));
            maps.by_row_id.insert(row.id.clone(), (row.clone(), until));
        }
    }

    /// After any change to any client: the next request reads the rows again.
    pub fn forget_all(&self) {
        if let Ok(mut maps) = self.0.write() {
            maps.by_client_id.clear();
            maps.by_row_id.clear();
        }
    }
}

/// The client `client_id` of the tenant, from memory or the database.
pub async fn find(
    state: &AppState,
    tenant_id: &str,
    client_id: &str,
) -> Result<Option<Arc<Model>>, StoreError> {
    let now = state.now();
    if let Some(row) = state.client_memory.by_client_id(tenant_id, client_id, now) {
        return Ok(Some(row));
    }
    let Some(row) = store::clients::find(&state.db, tenant_id, client_id).await? else {
        return Ok(None);
    };
    let row = Arc::new(row);
    state.client_memory.keep(&row, now);
    Ok(Some(row))
}

/// The client with this row id, from memory or the database.
pub async fn find_by_row_id(state: &AppState, id: &str) -> Result<Option<Arc<Model>>, StoreError> {
    let now = state.now();
    if let Some(row) = state.client_memory.by_row_id(id, now) {
        return Ok(Some(row));
    }
    let Some(row) = store::clients::find_by_row_id(&state.db, id).await? else {
        return Ok(None);
    };
    let row = Arc::new(row);
    state.client_memory.keep(&row, now);
    Ok(Some(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, client_id: &str) -> Arc<Model> {
        Arc::new(Model {
            id: id.to_string(),
            tenant_id: "t1".to_string(),
            client_id: client_id.to_string(),
            ..Default::default()
        })
    }

    #[test]
    fn a_row_is_remembered_for_seconds_and_forgotten_on_change() {
        let memory = Memory::default();
        memory.keep(&row("r1", "portal"), 100);
        assert!(memory.by_client_id("t1", "portal", 100 + SECONDS - 1).is_some());
        assert!(memory.by_row_id("r1", 100).is_some());
        assert!(memory.by_client_id("t1", "portal", 100 + SECONDS).is_none(), "stale after SECONDS");
        assert!(memory.by_client_id("t2", "portal", 100).is_none(), "another tenant's client id");
        memory.forget_all();
        assert!(memory.by_client_id("t1", "portal", 100).is_none());
        assert!(memory.by_row_id("r1", 100).is_none());
    }
}
