//! Cursor pagination: `?limit=&cursor=`. A cursor is opaque to clients (base64url of the list's
//! own key, tagged with the list it belongs to), so the order key can change without breaking them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::problem::Problem;

pub const DEFAULT_LIMIT: u64 = 50;

/// 1-200, 50 when not given.
pub fn limit(value: Option<u64>) -> Result<u64, Problem> {
    match value {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=crate::admin::MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(Problem::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid-query",
            "The query parameters are not acceptable",
            format!("limit must be between 1 and {}", crate::admin::MAX_PAGE),
        )),
    }
}

/// The cursor for the page after the key `key` of the list `list`.
pub fn encode(list: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}\n{key}"))
}

/// The key in a cursor of the list `list`; a cursor of another list or not made here is refused.
pub fn decode(list: &str, cursor: Option<&str>) -> Result<Option<String>, Problem> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else { return Ok(None) };
    let invalid = || {
        Problem::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid-cursor",
            "The cursor is not valid",
            "use the next_cursor of a previous page of this list",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    match text.split_once('\n') {
        Some((tag, key)) if tag == list && !key.is_empty() => Ok(Some(key.to_string())),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_one_list() {
        let cursor = encode("users", "an@example.org");
        assert_eq!(decode("users", Some(&cursor)).unwrap().as_deref(), Some("an@example.org"));
        assert!(decode("clients", Some(&cursor)).is_err());
        assert!(decode("users", Some("not base64!")).is_err());
        assert_eq!(decode("users", None).unwrap(), None);
        assert!(limit(Some(0)).is_err() && limit(Some(201)).is_err());
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
    }
}
