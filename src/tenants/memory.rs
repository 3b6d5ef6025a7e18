//! Tenant rows by slug, remembered for a few seconds: every request names its tenant, and a
//! database round trip per request for a row that changes a few times a year is the largest
//! fixed cost of the token endpoint. Changes made in this process forget the memory at once;
//! another instance (or the CLI) sees a change within `SECONDS`.

use std::collections::HashMap;
use std::sync::RwLock;

pub const SECONDS: i64 = 5;

#[derive(Default)]
pub struct Memory(RwLock<HashMap<String, (entity::tenant::Model, i64)>>);

impl Memory {
    pub fn get(&self, slug: &str, now: i64) -> Option<entity::tenant::Model> {
        let rows = self.0.read().ok()?;
        rows.get(slug).filter(|(_, until)| now < *until).map(|(row, _)| row.clone())
    }

    /// `get`'s tenant id alone (for an answer from memory, which needs nothing else of the row).
    pub fn id(&self, slug: &str, now: i64) -> Option<String> {
        let rows = self.0.read().ok()?;
        rows.get(slug).filter(|(_, until)| now < *until).map(|(row, _)| row.id.clone())
    }

    /// The row last read, however old: served while the database cannot be reached (a tenant
    /// changes only through the database, so nothing newer can exist meanwhile).
    pub fn get_stale(&self, slug: &str) -> Option<entity::tenant::Model> {
        let rows = self.0.read().ok()?;
        rows.get(slug).map(|(row, _)| row.clone())
    }

    /// Only tenants that exist are remembered, so unknown slugs cannot grow the map.
    pub fn keep(&self, row: &entity::tenant::Model, now: i64) {
        if let Ok(mut rows) = self.0.write() {
            rows.insert(row.slug.clone(), (row.clone(), now + SECONDS));
        }
    }

    pub fn forget_all(&self) {
        if let Ok(mut rows) = self.0.write() {
            rows.clear();
        }
    }
}
