//! One-line TOML errors, shared by every TOML reader (io's accounts and volumes files, traffic's
//! scenario files), which sit in layers that do not import each other.

/// A TOML syntax error on one line, `line 4, column 1: unknown field …`: the library's own
/// text spans several lines (a snippet of the file under the position), which a message on a
/// terminal cannot keep (`io::text::terminal` escapes line breaks).
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return e.message().trim().to_string();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: {}", e.message().trim())
}
