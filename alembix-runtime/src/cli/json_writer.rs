//! How a `--json` document is written: serde_json's pretty printer (two-space
//! indentation, fields in the order of the struct that derives `Serialize`),
//! with the two choices these documents have always made:
//!
//! - a duration in milliseconds has three decimals (`"duration_ms": 1.500`),
//!   microsecond precision, whatever the value;
//! - a control character in a string is `\u00XX` unless it is `\n`, `\r` or
//!   `\t` (serde_json's default writes backspace and form feed as `\b`, `\f`).
//!
//! The documents' field names and order are an interface (see the README).

use serde::{Serialize, Serializer};
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};
use std::io::{self, Write};
use std::time::Duration;

/// Writes `document` to `writer` as pretty-printed JSON (no final newline).
pub(super) fn write(writer: impl Write, document: &impl Serialize) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(writer, Style::default());
    document.serialize(&mut serializer)
}

/// `#[serde(serialize_with = "json_writer::duration_ms")]`: a [`Duration`] as a
/// number of milliseconds (written with three decimals).
pub(super) fn duration_ms<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64() * 1000.0)
}

/// serde_json's [`PrettyFormatter`], but for numbers with a fraction and for
/// the escapes of backspace and form feed.
#[derive(Default)]
struct Style {
    pretty: PrettyFormatter<'static>,
}

impl Formatter for Style {
    /// Only durations are `f64`s: three decimals. (serde_json writes `null`
    /// for a value that is not finite without calling this.)
    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        write!(writer, "{value:.3}")
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        match char_escape {
            CharEscape::Backspace => writer.write_all(b"\\u0008"),
            CharEscape::FormFeed => writer.write_all(b"\\u000c"),
            other => self.pretty.write_char_escape(writer, other),
        }
    }

    // The rest is the pretty printer's.

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(writer)
    }
}

/// `document` as the commands print it (unit tests).
#[cfg(test)]
pub(super) fn text(document: &impl Serialize) -> String {
    let mut bytes = Vec::new();
    let written = write(&mut bytes, document);
    assert!(written.is_ok(), "{written:?}");
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_orders_fields() {
        #[derive(Serialize)]
        struct Document {
            b: &'static str,
            a: [&'static str; 2],
            n: Option<bool>,
            #[serde(serialize_with = "duration_ms")]
            ms: Duration,
            empty: Vec<String>,
        }
        let value = Document {
            b: "quote \" backslash \\ newline \n tab \t bell \u{7}",
            a: ["x", "y"],
            n: None,
            ms: Duration::from_micros(1500),
            empty: Vec::new(),
        };
        assert_eq!(
            text(&value),
            "{\n  \"b\": \"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007\",\n  \"a\": [\n    \"x\",\n    \"y\"\n  ],\n  \"n\": null,\n  \"ms\": 1.500,\n  \"empty\": []\n}"
        );
    }

    #[test]
    fn control_characters_and_durations_read_as_they_always_have() {
        #[derive(Serialize)]
        struct Document {
            s: &'static str,
            #[serde(serialize_with = "duration_ms")]
            zero: Duration,
            #[serde(serialize_with = "duration_ms")]
            whole: Duration,
            empty: Option<[u8; 0]>,
            nested: Vec<Vec<u8>>,
        }
        let value = Document {
            s: "\u{8}\u{c}\r\u{1f}\u{7f}/é\u{2028}",
            zero: Duration::ZERO,
            whole: Duration::from_secs(2),
            empty: Some([]),
            nested: vec![Vec::new(), vec![1]],
        };
        assert_eq!(
            text(&value),
            "{\n  \"s\": \"\\u0008\\u000c\\r\\u001f\u{7f}/é\u{2028}\",\n  \"zero\": 0.000,\n  \"whole\": 2000.000,\n  \"empty\": [],\n  \"nested\": [\n    [],\n    [\n      1\n    ]\n  ]\n}"
        );
    }
}
