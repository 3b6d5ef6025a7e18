//! Themes: `default` compiled in, and `<themes_dir>/<name>/` folders that override any subset of
//! its templates and static files, with a `theme.toml` for display name, logo, favicon and colours
//! (rendered as CSS custom properties, so a colour change needs no template). Templates from a
//! folder run with auto-escaping and a fuel limit, and are vetted for constructs that build values
//! of any size (`budget.rs`): a broken or hostile theme cannot hang a worker or fill the memory.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::Environment;
use serde::Deserialize;

use super::I18n;
use crate::crypto::sha256_hex;

/// Instructions one page may spend (a few thousand are typical); a loop that runs away stops.
pub const FUEL: u64 = 200_000;
pub const DEFAULT: &str = "default";

const COLOUR_KEYS: [&str; 8] =
    ["brand", "brand_contrast", "text", "muted", "background", "surface", "error", "focus"];

#[derive(Debug, thiserror::Error)]
#[error("theme {theme}: {file}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct ThemeError {
    pub theme: String,
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeToml {
    /// Shown in the header when no logo is set, and as the logo's alternative text.
    display_name: Option<String>,
    /// File names in the theme's `static/` folder.
    logo: Option<String>,
    favicon: Option<String>,
    #[serde(default)]
    colors: BTreeMap<String, String>,
}

pub struct Asset {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

pub struct Theme {
    pub name: String,
    pub display_name: Option<String>,
    pub stylesheet_url: String,
    pub colours_url: Option<String>,
    pub logo_url: Option<String>,
    pub favicon_url: Option<String>,
    pub(super) env: Environment<'static>,
    assets: HashMap<String, Asset>,
}

impl Theme {
    pub fn asset(&self, cache_name: &str) -> Option<&Asset> {
        self.assets.get(cache_name)
    }

    /// Stores an asset under a content-hashed name and returns its URL.
    fn add_asset(&mut self, file_name: &str, bytes: Vec<u8>) -> String {
        let hash = &sha256_hex(&String::from_utf8_lossy(&bytes))[..12];
        let (stem, ext) = file_name.rsplit_once('.').unwrap_or((file_name, "bin"));
        let cache_name = format!("{stem}.{hash}.{ext}");
        let content_type = content_type(ext);
        self.assets.insert(cache_name.clone(), Asset { content_type, bytes });
        format!("/static/{}/{cache_name}", self.name)
    }
}

fn content_type(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

pub struct ThemeSet {
    themes: HashMap<String, Theme>,
}

impl ThemeSet {
    /// The embedded default, then every folder of `dir` (a `default` folder overrides the embedded
    /// files, which is how the default theme is edited in development).
    pub fn load(dir: Option<&Path>, i18n: &Arc<I18n>) -> Result<Self, ThemeError> {
        let mut themes = HashMap::new();
        let mut names = vec![DEFAULT.to_string()];
        if let Some(dir) = dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            let mut found: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n != DEFAULT && valid_name(n))
                .collect();
            found.sort();
            names.extend(found);
        }
        for name in names {
            let folder = dir.map(|d| d.join(&name)).filter(|p| p.is_dir());
            let theme = build(&name, folder.as_deref(), i18n)?;
            themes.insert(name, theme);
        }
        Ok(Self { themes })
    }

    /// The named theme, or the default when there is no such theme.
    pub fn get(&self, name: &str) -> &Theme {
        match self.themes.get(name) {
            Some(theme) => theme,
            None => &self.themes[DEFAULT],
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.themes.contains_key(name)
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.themes.keys().cloned().collect();
        names.sort();
        names
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn error(theme: &str, file: &str, message: impl Into<String>) -> ThemeError {
    ThemeError { theme: theme.to_string(), file: file.to_string(), line: None, message: message.into() }
}

fn build(name: &str, folder: Option<&Path>, i18n: &Arc<I18n>) -> Result<Theme, ThemeError> {
    let mut env = super::new_environment(i18n.clone());
    for (template, source) in super::TEMPLATES {
        env.add_template(template, source).map_err(|e| ThemeError {
            theme: name.into(),
            file: template.into(),
            line: e.line(),
            message: e.to_string(),
        })?;
    }
    let mut theme = Theme {
        name: name.to_string(),
        display_name: None,
        stylesheet_url: String::new(),
        colours_url: None,
        logo_url: None,
        favicon_url: None,
        env,
        assets: HashMap::new(),
    };
    let mut stylesheet = super::STYLESHEET.as_bytes().to_vec();
    let mut meta = ThemeToml::default();
    if let Some(folder) = folder {
        let pages = read_dir_files(&folder.join("templates"), name)?
            .into_iter()
            .filter(|(f, _)| f.ends_with(".html"));
        // Emails live in templates/email/ and are plain text.
        let emails = read_dir_files(&folder.join("templates").join("email"), name)?
            .into_iter()
            .filter(|(f, _)| f.ends_with(".txt"))
            .map(|(f, source)| (format!("email/{f}"), source));
        for (file, source) in pages.chain(emails) {
            let path = format!("templates/{file}");
            if source.len() > super::budget::MAX_TEMPLATE_BYTES {
                let limit = super::budget::MAX_TEMPLATE_BYTES;
                return Err(error(name, &path, format!("larger than {limit} bytes")));
            }
            let source = String::from_utf8(source).map_err(|_| error(name, &path, "not UTF-8"))?;
            super::budget::vet(&source).map_err(|refusal| ThemeError {
                theme: name.into(),
                file: path.clone(),
                line: refusal.line,
                message: refusal.message,
            })?;
            theme.env.add_template_owned(file.clone(), source).map_err(|e| ThemeError {
                theme: name.into(),
                file: path,
                line: e.line(),
                message: e.to_string(),
            })?;
        }
        let static_files = read_dir_files(&folder.join("static"), name)?;
        let mut by_name: HashMap<String, Vec<u8>> = HashMap::new();
        for (file, bytes) in static_files {
            if file == "style.css" {
                stylesheet = bytes;
            } else {
                by_name.insert(file, bytes);
            }
        }
        let toml_path = folder.join("theme.toml");
        if toml_path.is_file() {
            let text =
                std::fs::read_to_string(&toml_path).map_err(|e| error(name, "theme.toml", e.to_string()))?;
            meta = toml_from_str(&text).map_err(|e| error(name, "theme.toml", e))?;
        }
        for key in meta.colors.keys() {
            if !COLOUR_KEYS.contains(&key.as_str()) {
                return Err(error(
                    name,
                    "theme.toml",
                    format!("unknown colour {key:?}; known: {}", COLOUR_KEYS.join(", ")),
                ));
            }
        }
        for (key, value) in &meta.colors {
            if !is_hex_colour(value) {
                return Err(error(
                    name,
                    "theme.toml",
                    format!("colour {key} = {value:?} must be #rgb or #rrggbb"),
                ));
            }
        }
        for (field, file) in [("logo", &meta.logo), ("favicon", &meta.favicon)] {
            if let Some(file) = file {
                let bytes = by_name.get(file).ok_or_else(|| {
                    error(name, "theme.toml", format!("{field} {file:?} is not in static/"))
                })?;
                let url = theme.add_asset(file, bytes.clone());
                if field == "logo" {
                    theme.logo_url = Some(url);
                } else {
                    theme.favicon_url = Some(url);
                }
            }
        }
        for (file, bytes) in by_name {
            theme.add_asset(&file, bytes);
        }
    }
    theme.stylesheet_url = theme.add_asset("style.css", stylesheet);
    if !meta.colors.is_empty() {
        let css: String =
            meta.colors.iter().map(|(k, v)| format!("  --{}: {v};\n", k.replace('_', "-"))).collect();
        theme.colours_url = Some(theme.add_asset("colours.css", format!(":root {{\n{css}}}\n").into_bytes()));
    }
    theme.display_name = meta.display_name;
    Ok(theme)
}

fn toml_from_str(text: &str) -> Result<ThemeToml, String> {
    use figment::Figment;
    use figment::providers::{Format, Toml};
    Figment::from(Toml::string(text)).extract().map_err(|e| e.to_string())
}

fn is_hex_colour(value: &str) -> bool {
    value
        .strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The files directly in `dir` (none when it does not exist), name and bytes.
fn read_dir_files(dir: &Path, theme: &str) -> Result<Vec<(String, Vec<u8>)>, ThemeError> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut files = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let path: PathBuf = entry.path();
        if !path.is_file() {
            continue;
        }
        let Some(file) = entry.file_name().into_string().ok() else { continue };
        let bytes = std::fs::read(&path).map_err(|e| error(theme, &file, e.to_string()))?;
        files.push((file, bytes));
    }
    Ok(files)
}

/// The newest modification time under `dir`, to notice edits in development mode.
pub fn newest_change(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = std::fs::metadata(dir).and_then(|m| m.modified()).ok();
    let Ok(entries) = std::fs::read_dir(dir) else { return newest };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        let candidate = if path.is_dir() {
            newest_change(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        if candidate > newest {
            newest = candidate;
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_must_be_plain_hex() {
        assert!(is_hex_colour("#0b5d6b") && is_hex_colour("#fff"));
        for bad in ["red", "#12", "#1234567", "#0b5d6b; } body { display: none", "url(x)"] {
            assert!(!is_hex_colour(bad), "{bad}");
        }
    }
}

#[cfg(test)]
mod shipped {
    use std::path::PathBuf;
    use std::sync::Arc;

    use crate::views::{I18n, Views};

    fn shipped_themes() -> Views {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("themes");
        Views::with_themes(Arc::new(I18n::load().unwrap()), Some(dir), false).unwrap()
    }

    #[test]
    fn every_shipped_theme_renders_every_page_in_every_language() {
        let views = shipped_themes();
        let names = views.theme_names();
        assert!(names.len() >= 3, "default and two example themes: {names:?}");
        for name in names {
            assert_eq!(views.check(&name), Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn example_themes_differ_in_logo_colours_and_wording() {
        let views = shipped_themes();
        let west = views.links("kliniek-west");
        let oost = views.links("zorggroep-oost");
        assert!(west.logo.is_some() && oost.logo.is_some());
        assert_ne!(west.logo, oost.logo);
        assert_ne!(west.colours, oost.colours);
        let (_, css) =
            views.asset("kliniek-west", west.colours.unwrap().rsplit('/').next().unwrap()).unwrap();
        assert!(String::from_utf8(css).unwrap().contains("--brand: #7a1f5c;"));
        assert!(
            views.links("default").colours.is_none(),
            "the default theme's colours live in its stylesheet"
        );
        assert_eq!(views.links("no-such-theme").name, "default", "unknown themes fall back to the default");
    }

    #[test]
    fn a_hostile_theme_runs_out_of_fuel_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("loop").join("templates");
        std::fs::create_dir_all(&templates).unwrap();
        std::fs::write(
            templates.join("message.html"),
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        )
        .unwrap();
        let views =
            Views::with_themes(Arc::new(I18n::load().unwrap()), Some(dir.path().into()), false).unwrap();
        let failures = views.check("loop");
        assert_eq!(failures.len(), 2, "message.html in both languages: {failures:?}");
        assert!(failures[0].contains("fuel"), "{failures:?}");
    }

    #[test]
    fn a_broken_theme_is_reported_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("broken").join("templates");
        std::fs::create_dir_all(&templates).unwrap();
        std::fs::write(templates.join("login.html"), "line one\n{% if %}\n").unwrap();
        let err = match Views::with_themes(Arc::new(I18n::load().unwrap()), Some(dir.path().into()), false) {
            Err(err) => err.to_string(),
            Ok(_) => panic!("a syntax error must not load"),
        };
        assert!(err.contains("theme broken: templates/login.html line 2"), "{err}");
    }
}
