//! A minimal JSON value for `--json` output: fields keep the order they are
//! written in, strings are escaped per RFC 8259, and nothing else is needed
//! (no serde in the runtime's dependency tree).

use std::fmt::{self, Write as _};

/// A JSON value, built by the renderers in [`super::output`].
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number with a fraction (durations in milliseconds).
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object; fields in the order written.
    Obj(Vec<(&'static str, Json)>),
}

impl Json {
    /// An empty object, to be filled with [`Json::with`].
    pub fn object() -> Json {
        Json::Obj(Vec::new())
    }

    /// Adds a field to an object (no-op on other values).
    pub fn with(mut self, key: &'static str, value: impl Into<Json>) -> Json {
        if let Json::Obj(fields) = &mut self {
            fields.push((key, value.into()));
        }
        self
    }

    /// An array of strings.
    pub fn strings<S: AsRef<str>>(items: &[S]) -> Json {
        Json::Arr(
            items
                .iter()
                .map(|s| Json::Str(s.as_ref().to_string()))
                .collect(),
        )
    }

    fn write(&self, out: &mut String, indent: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Float(x) if x.is_finite() => {
                let _ = write!(out, "{x:.3}");
            }
            Json::Float(_) => out.push_str("null"),
            Json::Str(s) => escape(s, out),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent + 1);
                    item.write(out, indent + 1);
                }
                newline(out, indent);
                out.push(']');
            }
            Json::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent + 1);
                    escape(key, out);
                    out.push_str(": ");
                    value.write(out, indent + 1);
                }
                newline(out, indent);
                out.push('}');
            }
        }
    }
}

impl fmt::Display for Json {
    /// Pretty-printed with two-space indentation, as `serde_json::to_string_pretty`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out, 0);
        f.write_str(&out)
    }
}

fn newline(out: &mut String, indent: usize) {
    out.push('\n');
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn escape(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<&String> for Json {
    fn from(s: &String) -> Json {
        Json::Str(s.clone())
    }
}

impl From<usize> for Json {
    fn from(n: usize) -> Json {
        Json::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Json {
        Json::Int(n)
    }
}

impl From<i32> for Json {
    fn from(n: i32) -> Json {
        Json::Int(i64::from(n))
    }
}

impl From<u8> for Json {
    fn from(n: u8) -> Json {
        Json::Int(i64::from(n))
    }
}

impl From<std::time::Duration> for Json {
    /// Milliseconds, with microsecond precision.
    fn from(d: std::time::Duration) -> Json {
        Json::Float(d.as_secs_f64() * 1000.0)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(value: Option<T>) -> Json {
        value.map_or(Json::Null, Into::into)
    }
}

impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Json {
        Json::Arr(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_orders_fields() {
        let value = Json::object()
            .with("b", "quote \" backslash \\ newline \n tab \t bell \u{7}")
            .with("a", Json::strings(&["x", "y"]))
            .with("n", Json::Null)
            .with("ms", std::time::Duration::from_micros(1500))
            .with("empty", Json::Arr(Vec::new()));
        assert_eq!(
            value.to_string(),
            "{\n  \"b\": \"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007\",\n  \"a\": [\n    \"x\",\n    \"y\"\n  ],\n  \"n\": null,\n  \"ms\": 1.500,\n  \"empty\": []\n}"
        );
    }
}
