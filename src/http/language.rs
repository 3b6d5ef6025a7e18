//! The language switcher: `?lang=nl` on any page picks the language and remembers it in a cookie,
//! on the same URL, so a login in progress keeps its state. The page's own path is kept in a
//! task-local for the switcher links (GET pages only: a POST's URL cannot be reloaded).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::cookies;
use crate::state::AppState;
use crate::views::i18n::SUPPORTED;

pub const COOKIE: &str = "tessera-lang";

tokio::task_local! {
    /// The path of the GET request being served, for the switcher links.
    pub static PAGE_PATH: Option<String>;
}

pub async fn remember_language(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let chosen = request
        .uri()
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").map(|(_, v)| v.into_owned())
        })
        .filter(|lang| SUPPORTED.contains(&lang.as_str()));
    if let Some(lang) = &chosen
        && let Ok(value) = HeaderValue::from_str(&format!("{COOKIE}={lang}"))
    {
        // The handler of this very request already sees the choice.
        request.headers_mut().append(header::COOKIE, value);
    }
    let path = (request.method() == Method::GET).then(|| request.uri().path().to_string());
    let mut response = PAGE_PATH.scope(path, next.run(request)).await;
    if let Some(lang) = chosen
        && let Some(cookie) = cookies::set(&state, COOKIE, &lang, Some(365 * 86_400))
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Links to this page in every language, when the page is a GET page.
pub fn switcher_links() -> Vec<(&'static str, String)> {
    let path = PAGE_PATH.try_with(|p| p.clone()).ok().flatten();
    match path {
        Some(path) => {
            let path = same_origin_path(&path);
            SUPPORTED.iter().map(|lang| (*lang, format!("{path}?lang={lang}"))).collect()
        }
        None => Vec::new(),
    }
}

/// The request path as a link that stays on this origin, whatever the request said: exactly one
/// leading `/` (`//evil.example/x` would be a link to another host) and every byte outside
/// RFC 3986's path characters percent-encoded (browsers read a `\` as `/`).
fn same_origin_path(path: &str) -> String {
    let mut link = String::from("/");
    for byte in path.trim_start_matches(['/', '\\']).bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%/".contains(&byte) {
            link.push(char::from(byte));
        } else {
            link.push_str(&format!("%{byte:02X}"));
        }
    }
    link
}

#[cfg(test)]
mod tests {
    use super::same_origin_path;

    #[test]
    fn switcher_paths_stay_on_this_origin() {
        assert_eq!(same_origin_path("/t/acme/login/abc"), "/t/acme/login/abc");
        assert_eq!(same_origin_path("//evil.example/x"), "/evil.example/x");
        assert_eq!(same_origin_path("/\\evil.example/x"), "/evil.example/x");
        assert_eq!(same_origin_path("/a\\b\"<c>"), "/a%5Cb%22%3Cc%3E");
        assert_eq!(same_origin_path(""), "/");
        assert_eq!(same_origin_path("/caf%C3%A9"), "/caf%C3%A9");
    }
}
