//! What one page render may cost, so a tenant's theme cannot take memory or time from the others.
//! Fuel counts instructions, not bytes: one `"x" * 100000000` is one instruction. So templates from a
//! themes folder are vetted when they load (no operator or block that grows a value from values),
//! the few value-building filters left keep to a byte budget, and the output has a size cap and a
//! deadline. `http::page::render` runs the render off the async workers, a few at a time per theme.

use std::io;
use std::time::{Duration, Instant};

use minijinja::machinery::{Token, WhitespaceConfig, tokenize};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::StringInput;
use minijinja::{Error, ErrorKind, State, Value};

/// The largest page a render may write; the largest real page is a few tens of KiB.
pub const MAX_PAGE_BYTES: usize = 512 * 1024;
/// The largest value a filter or `t()` may build or take (a joined list, a message argument).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// The largest template file a theme may have: its literals are the largest values it can write.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// Wall-clock time one render may take, waiting for its turn included.
pub const RENDER_DEADLINE: Duration = Duration::from_secs(2);
/// Renders of one theme that may run at once; more wait for their turn (within the deadline).
pub const RENDERS_PER_THEME: usize = 2;

/// Filters a folder theme may use: each gives a value no larger than its input (`join` is
/// replaced by [`join`], which keeps to [`MAX_VALUE_BYTES`]) and keeps escaped text marked safe
/// (`title` does not: `x|e|title|e|title|e...` grows by 4 bytes per `<` each round).
const FILTERS: [&str; 19] = [
    "escape",
    "e",
    "safe",
    "length",
    "count",
    "upper",
    "lower",
    "capitalize",
    "trim",
    "default",
    "d",
    "first",
    "last",
    "int",
    "float",
    "bool",
    "abs",
    "round",
    "join",
];
const FUNCTIONS: [&str; 4] = ["t", "range", "super", "dict"];
const METHODS: [&str; 5] = ["items", "keys", "values", "get", "cycle"];

/// Why a template from a themes folder is refused, and on which line.
pub struct Refusal {
    pub line: Option<usize>,
    pub message: String,
}

/// Checks a template's source for constructs whose cost fuel does not see. It reads the tokens,
/// before anything is compiled: compiling folds constants, so `"x" * 100000000` would already
/// cost its 100 MB at load.
pub fn vet(source: &str) -> Result<(), Refusal> {
    // The default syntax, as the theme environments use (a unit struct unless `custom_syntax`).
    let syntax: SyntaxConfig = Default::default();
    let tokens = tokenize(source, false, syntax, WhitespaceConfig::default());
    let mut before: [Option<Token<'_>>; 3] = [None, None, None];
    let mut open_set = false;
    for token in tokens {
        let (token, span) = token.map_err(|e| Refusal { line: e.line(), message: e.to_string() })?;
        let refuse = |what: String| Refusal {
            line: Some(usize::from(span.start_line)),
            message: format!("{what} is not available in themes (it can build values of any size)"),
        };
        if let Some(what) = refused(&before, &token) {
            return Err(refuse(what));
        }
        // `{% set x %}...{% endset %}` captures output into a value; `{% set x = ... %}` does not.
        match (&before, &token) {
            ([.., Some(Token::BlockStart)], Token::Ident("set")) => open_set = true,
            (_, Token::Assign) => open_set = false,
            (_, Token::BlockEnd) if open_set => return Err(refuse("a set block".to_string())),
            _ => {}
        }
        before = [before[1].take(), before[2].take(), Some(token)];
    }
    Ok(())
}

/// What `token`, after the three tokens `before` it, would do that a theme may not.
fn refused(before: &[Option<Token<'_>>; 3], token: &Token<'_>) -> Option<String> {
    let what = match (before, token) {
        (_, Token::Mul) => "the * operator".to_string(),
        (_, Token::Pow) => "the ** operator".to_string(),
        (_, Token::Plus) => "the + operator".to_string(),
        (_, Token::Tilde) => "the ~ operator".to_string(),
        ([.., Some(Token::BlockStart)], Token::Ident(tag @ ("macro" | "call" | "filter"))) => {
            format!("a {tag} block")
        }
        ([.., Some(Token::Pipe)], Token::Ident(name)) if !FILTERS.contains(name) => {
            format!("the filter {name}")
        }
        // A call: `name(` is a function (or, after `is` or `is not`, a test), `.name(` a method.
        ([_, Some(Token::Dot), Some(Token::Ident(name))], Token::ParenOpen) if !METHODS.contains(name) => {
            format!("the method {name}")
        }
        (
            [_, Some(Token::Pipe | Token::Dot | Token::Ident("is")), Some(Token::Ident(_))],
            Token::ParenOpen,
        )
        | ([Some(Token::Ident("is")), Some(Token::Ident("not")), Some(Token::Ident(_))], Token::ParenOpen) => {
            return None;
        }
        ([.., Some(Token::Ident(name))], Token::ParenOpen) if !FUNCTIONS.contains(name) => {
            format!("the function {name}")
        }
        ([.., Some(Token::ParenClose | Token::BracketClose)], Token::ParenOpen) => {
            "calling a value".to_string()
        }
        _ => return None,
    };
    Some(what)
}

/// `join` within [`MAX_VALUE_BYTES`]: the size is added up before anything is built.
pub fn join(state: &State, value: &Value, joiner: Option<StringInput<'_>>) -> Result<Value, Error> {
    let separator = joiner.as_ref().map_or(0, |j| j.as_str().len());
    let mut size = 0usize;
    for item in value.try_iter()? {
        let item_size = item.as_str().map_or_else(|| item.to_string().len(), str::len);
        size = size.saturating_add(item_size).saturating_add(separator);
        if size > MAX_VALUE_BYTES {
            return Err(too_large("join"));
        }
    }
    minijinja::filters::join(state, value, joiner)
}

pub fn too_large(what: &str) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("{what} would exceed {MAX_VALUE_BYTES} bytes"))
}

/// The page being written: refuses to grow past [`MAX_PAGE_BYTES`] or to go on past the deadline.
pub struct CappedPage {
    pub html: Vec<u8>,
    deadline: Instant,
    /// Why the page stopped growing (minijinja reports only that a write failed).
    pub stopped: Option<String>,
}

impl CappedPage {
    pub fn new(deadline: Instant) -> Self {
        Self { html: Vec::with_capacity(16 * 1024), deadline, stopped: None }
    }

    fn stop(&mut self, why: String) -> io::Error {
        self.stopped = Some(why.clone());
        io::Error::other(why)
    }
}

impl io::Write for CappedPage {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.html.len().saturating_add(buf.len()) > MAX_PAGE_BYTES {
            return Err(self.stop(format!("the page would exceed {MAX_PAGE_BYTES} bytes")));
        }
        if Instant::now() > self.deadline {
            return Err(self.stop(format!("the page took longer than {RENDER_DEADLINE:?} to render")));
        }
        self.html.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use minijinja::context;

    use super::*;
    use crate::views::{I18n, new_environment};

    fn refusal(source: &str) -> Option<String> {
        vet(source).err().map(|r| format!("line {}: {}", r.line.unwrap_or(0), r.message))
    }

    #[test]
    fn vetting_refuses_what_builds_values_and_keeps_what_pages_use() {
        for allowed in [
            "{% extends \"base.html\" %}{% block content %}{{ super() }}{% endblock %}",
            "{% set x = 1 %}{% if x is divisibleby(3) %}{{ t(\"error-title\", n=x) }}{% endif %}",
            "{% if x is not divisibleby(3) %}{{ loop.cycle(\"odd\", \"even\") }}{% endif %}",
            "{% for a in apps %}{{ loop.index }} {{ a.scopes|join(\", \")|e }}{{ a.get(\"x\") }}{% endfor %}",
            "{% include \"_error_summary.html\" %}{{ -3 - 1 }}",
        ] {
            assert_eq!(refusal(allowed), None, "{allowed}");
        }
        for (refused, why) in [
            ("{{ \"a\" ~ \"b\" }}", "line 1: the ~ operator"),
            ("\n{{ 2 ** 64 }}", "line 2: the ** operator"),
            ("{% set x %}{{ y }}{% endset %}", "a set block"),
            ("{% filter upper %}x{% endfilter %}", "a filter block"),
            ("{% call f() %}x{% endcall %}", "a call block"),
            ("{{ self.content() }}", "the method content"),
            ("{% for x in y recursive %}{{ loop(x.children) }}{% endfor %}", "the function loop"),
            ("{{ caller() }}", "the function caller"),
            ("{% if not caller() %}{% endif %}", "the function caller"),
            ("{{ x|indent(100000000) }}", "the filter indent"),
            ("{{ (x)(1) }}", "calling a value"),
        ] {
            let found = refusal(refused).unwrap_or_default();
            assert!(found.contains(why), "{refused}: {found}");
        }
    }

    #[test]
    fn join_and_message_arguments_keep_to_their_budget() {
        let env = new_environment(Arc::new(I18n::load().unwrap()));
        let big = "x".repeat(MAX_VALUE_BYTES + 1);
        let render = |source: &str| env.render_str(source, context! { big => big.clone(), lang => "en" });
        let joined = render("{{ range(100000)|join(\"0123456789\") }}").unwrap_err();
        assert!(joined.to_string().contains("join would exceed"), "{joined}");
        let argument = render("{{ t(\"error-title\", name=big) }}").unwrap_err();
        assert!(argument.to_string().contains("a message argument would exceed"), "{argument}");
        assert_eq!(render("{{ [1, 2]|join(\", \") }}").unwrap(), "1, 2");
    }

    #[test]
    fn allowed_filters_do_not_escape_text_twice() {
        let env = new_environment(Arc::new(I18n::load().unwrap()));
        let escaped_once = env.render_str("{{ (\"<&>\"|e)|length }}", context! {}).unwrap();
        // `join` escapes the characters of a string it joins, but keeps to its byte budget.
        for filter in FILTERS.iter().filter(|f| **f != "join") {
            let source = format!("{{{{ (\"<&>\"|e|{filter}|e)|length }}}}");
            if let Ok(length) = env.render_str(&source, context! {}) {
                let length: usize = length.parse().unwrap();
                assert!(length <= escaped_once.parse().unwrap(), "{filter}: {length}");
            }
        }
        assert_eq!(
            refusal("{{ x|e|title|e }}").unwrap_or_default(),
            "line 1: the filter title is not available in themes (it can build values of any size)"
        );
    }

    #[test]
    fn a_page_stops_at_its_cap() {
        let mut page = CappedPage::new(Instant::now() + RENDER_DEADLINE);
        assert!(io::Write::write_all(&mut page, &vec![b'x'; MAX_PAGE_BYTES]).is_ok());
        assert!(io::Write::write_all(&mut page, b"x").is_err());
        let mut late = CappedPage::new(Instant::now() - Duration::from_millis(1));
        assert!(io::Write::write_all(&mut late, b"x").is_err());
    }
}
