//! Stage 3, the data: a validated history laid out as the two constants the
//! runtime reads, one string holding every text once and one byte table of
//! lengths and positions in it.
//!
//! The format is documented on `Data` in `alembix-runtime/src/embedded.rs`, the
//! one place that reads it; this is the one place that writes it. Keep the two in
//! step: the differential test (`alembix-runtime/tests/embed`) reads back every
//! field of real fixtures.

use alembix_core::checksum::ALGORITHM;
use alembix_core::sql::{Split, Unclosed};
use alembix_core::{
    Checksum, MigrationFile, Problem, ProblemKind, Section, SqlDialect, TransactionMode,
};
use std::collections::HashMap;

/// Flag: the migration has a `create_date`.
const HAS_CREATE_DATE: u64 = 1;
/// Flag: the migration has a downgrade section.
const HAS_DOWNGRADE: u64 = 2;
/// Flag: the migration runs outside a transaction.
const NO_TRANSACTION: u64 = 4;
/// Flag: dialects split the upgrade section differently.
const UPGRADE_VARIES: u64 = 8;
/// Flag: dialects split the downgrade section differently.
const DOWNGRADE_VARIES: u64 = 16;
/// Flag: the upgrade section has dialect variants (and a checksum per dialect).
const UPGRADE_PARTS: u64 = 32;
/// Flag: the downgrade section has dialect variants.
const DOWNGRADE_PARTS: u64 = 64;
/// Flag: the header gives a `lock_timeout` or a `statement_timeout`.
const HAS_TIMEOUTS: u64 = 128;

/// The two constants of an embedded set.
pub(crate) struct Layout {
    /// Every string of the set, once.
    pub(crate) text: String,
    /// The index and the records (see `Data` in the runtime).
    pub(crate) table: Vec<u8>,
}

/// Lays out `files` (in load order).
pub(crate) fn layout(files: &[MigrationFile]) -> Result<Layout, Problem> {
    let mut text = String::new();
    // Each migration's strings, one after the other: file name, revision id
    // (unless the file name holds it, as the core requires), message,
    // create_date, upgrade SQL, downgrade SQL. Where each starts, and where its
    // revision id starts in it.
    let mut starts = Vec::with_capacity(files.len());
    // What the names lists point at: every revision id, then any other name once.
    let mut names: HashMap<&str, usize> = HashMap::with_capacity(files.len());
    for file in files {
        let start = text.len();
        text.push_str(&file.file);
        let revision_at = file.file.rfind(&file.revision).unwrap_or_else(|| {
            text.push_str(&file.revision);
            file.file.len()
        });
        starts.push((start, revision_at));
        names.entry(&file.revision).or_insert(start + revision_at);
        text.push_str(&file.message);
        text.push_str(file.create_date.as_deref().unwrap_or_default());
        text.push_str(&file.upgrade.sql);
        text.push_str(file.downgrade.as_ref().map_or("", |d| d.sql.as_str()));
    }

    let mut table = Vec::new();
    table.extend(le_u32(files.len()));
    table.resize(4 + 8 * files.len(), 0);
    for (index, (file, &(start, revision_at))) in files.iter().zip(&starts).enumerate() {
        let record = table.len();
        let entry = 4 + 8 * index;
        table.splice(
            entry..entry + 8,
            le_u32(record).into_iter().chain(le_u32(start)),
        );

        let mut flags = 0;
        if file.create_date.is_some() {
            flags |= HAS_CREATE_DATE;
        }
        if file.downgrade.is_some() {
            flags |= HAS_DOWNGRADE;
        }
        if file.transaction == TransactionMode::None {
            flags |= NO_TRANSACTION;
        }
        if varies(&file.upgrade) {
            flags |= UPGRADE_VARIES;
        }
        if file.downgrade.as_ref().is_some_and(varies) {
            flags |= DOWNGRADE_VARIES;
        }
        if file.upgrade.has_variants() {
            flags |= UPGRADE_PARTS;
        }
        if file.downgrade.as_ref().is_some_and(Section::has_variants) {
            flags |= DOWNGRADE_PARTS;
        }
        if !file.timeouts.is_empty() {
            flags |= HAS_TIMEOUTS;
        }
        for n in [
            file.file.len(),
            revision_at,
            file.revision.len(),
            file.message.len(),
        ] {
            varint(&mut table, wide(n));
        }
        varint(&mut table, flags);
        if let Some(date) = &file.create_date {
            varint(&mut table, wide(date.len()));
        }
        let lines = &file.lines;
        for line in [
            lines.revision,
            lines.down_revision,
            lines.branch_labels,
            lines.depends_on,
        ] {
            varint(&mut table, line.into());
        }
        if !file.timeouts.is_empty() {
            for timeout in [file.timeouts.lock, file.timeouts.statement] {
                // 0 for none, else 1 + milliseconds (the core caps them at a day).
                let ms = timeout.map_or(0, |d| {
                    u64::try_from(d.as_millis())
                        .unwrap_or(u64::MAX)
                        .saturating_add(1)
                });
                varint(&mut table, ms);
            }
        }
        if file.upgrade.has_variants() {
            for dialect in SqlDialect::ALL {
                table.extend(sha256(file, file.checksum(dialect))?);
            }
        } else {
            table.extend(sha256(file, file.checksum(SqlDialect::Sqlite))?);
        }
        for list in [&file.down_revisions, &file.branch_labels, &file.depends_on] {
            varint(&mut table, wide(list.len()));
            for name in list {
                let at = *names.entry(name.as_str()).or_insert_with(|| {
                    text.push_str(name);
                    text.len() - name.len()
                });
                varint(&mut table, wide(at));
                varint(&mut table, wide(name.len()));
            }
        }
        let mut at = start
            + file.file.len().max(revision_at + file.revision.len())
            + file.message.len()
            + file.create_date.as_ref().map_or(0, String::len);
        for section in std::iter::once(&file.upgrade).chain(&file.downgrade) {
            write_section(&mut table, &mut text, section, at);
            if section.has_variants() {
                write_parts(&mut table, section);
            }
            at += section.sql.len();
        }
    }

    if u32::try_from(text.len()).is_err() || u32::try_from(table.len()).is_err() {
        return Err(Problem::new(
            ProblemKind::File,
            "the migrations hold more than 4 GiB of text, more than a binary can embed",
        )
        .help("squash old migrations into one, or embed fewer of them"));
    }
    Ok(Layout { text, table })
}

/// Whether `section` needs the long record: its splits differ per dialect,
/// or one is unterminated.
fn varies(section: &Section) -> bool {
    !section.splits.is_uniform() || section.splits.distinct()[0].unterminated.is_some()
}

/// Writes the record of `section`, whose SQL is `text[start..]`: its line, the
/// length of its SQL, then its one split, or (when [`varies`]) which split
/// each dialect runs (two bits each, in one byte) and every distinct split
/// with what it leaves unterminated.
fn write_section(table: &mut Vec<u8>, text: &mut String, section: &Section, start: usize) {
    varint(table, section.line.into());
    varint(table, wide(section.sql.len()));
    if !varies(section) {
        write_split(table, text, section, &section.splits.distinct()[0], start);
        return;
    }
    let which = section.splits.which();
    table.push(which[0] | which[1] << 2 | which[2] << 4);
    for split in section.splits.distinct() {
        write_split(table, text, section, split, start);
        write_unterminated(table, text, split, start, start + section.sql.len());
    }
}

/// Writes the parts of a section with dialect variants: their count, then
/// per part its dialect (0 for the default, else 1 + its index), its
/// marker's line, and where its text is in the section's SQL.
fn write_parts(table: &mut Vec<u8>, section: &Section) {
    varint(table, wide(section.parts.len()));
    for part in &section.parts {
        varint(table, part.dialect.map_or(0, |d| wide(d.index()) + 1));
        varint(table, part.line.into());
        varint(table, wide(part.range.start));
        varint(table, wide(part.range.len()));
    }
}

/// Writes the statements of one split of `section`.
///
/// A statement is a trimmed slice of its section: it is found after the previous
/// one (any match has the same text). Should it not be there, it and the rest
/// get their own copy at the end of the text rather than a wrong position.
fn write_split(
    table: &mut Vec<u8>,
    text: &mut String,
    section: &Section,
    split: &Split,
    start: usize,
) {
    let end = start + section.sql.len();
    let mut statements = Vec::new();
    let (mut line, mut cursor) = (section.line, start);
    for statement in &split.statements {
        let found = text
            .get(cursor..end)
            .and_then(|rest| rest.find(&statement.sql))
            .map(|at| cursor + at);
        let at = found.unwrap_or_else(|| {
            text.push_str(&statement.sql);
            text.len() - statement.sql.len()
        });
        varint(&mut statements, statement.line.wrapping_sub(line).into());
        varint(&mut statements, wide(at - cursor));
        varint(&mut statements, wide(statement.sql.len()));
        line = statement.line;
        cursor = at + statement.sql.len();
    }
    varint(table, wide(split.statements.len()));
    varint(table, wide(statements.len()));
    table.extend(statements);
}

/// Writes what `split` leaves open: 0, or the kind (1 to 7, as the runtime's
/// `Reader::split` reads it), the line, and for a dollar quote where its tag
/// is in the text (the section's SQL holds it) and its length.
fn write_unterminated(
    table: &mut Vec<u8>,
    text: &mut String,
    split: &Split,
    start: usize,
    end: usize,
) {
    let Some(open) = &split.unterminated else {
        varint(table, 0);
        return;
    };
    let kind = match &open.unclosed {
        Unclosed::Quote('"') => 2,
        Unclosed::Quote('`') => 3,
        Unclosed::Quote('[') => 4,
        Unclosed::Quote(_) => 1,
        Unclosed::EscapeString => 5,
        Unclosed::BlockComment => 6,
        Unclosed::DollarQuote(_) => 7,
    };
    varint(table, kind);
    varint(table, open.line.into());
    if let Unclosed::DollarQuote(tag) = &open.unclosed {
        let at = text
            .get(start..end)
            .and_then(|sql| sql.find(tag.as_str()))
            .map(|at| start + at)
            .unwrap_or_else(|| {
                text.push_str(tag);
                text.len() - tag.len()
            });
        varint(table, wide(at));
        varint(table, wide(tag.len()));
    }
}

/// The 32 bytes of a `sha256:<hex>` checksum.
fn sha256(file: &MigrationFile, checksum: &Checksum) -> Result<[u8; 32], Problem> {
    let checksum = checksum.as_str();
    let hex = checksum
        .strip_prefix(ALGORITHM)
        .and_then(|rest| rest.strip_prefix(':'))
        .filter(|hex| hex.len() == 64);
    let mut digest = [0u8; 32];
    let decoded = hex.is_some_and(|hex| {
        hex.as_bytes()
            .chunks(2)
            .zip(&mut digest)
            .all(|(pair, byte)| match pair {
                [high, low] => match (nibble(*high), nibble(*low)) {
                    (Some(high), Some(low)) => {
                        *byte = high << 4 | low;
                        true
                    }
                    _ => false,
                },
                _ => false,
            })
    });
    if decoded {
        Ok(digest)
    } else {
        Err(Problem::new(
            ProblemKind::File,
            format!("the checksum `{checksum}` is not a `{ALGORITHM}:` digest, the only kind `embed_migrations!` can embed"),
        )
        .at(file.file.clone(), None)
        .help("use the same version of alembix-core and alembix-macros (depend on alembix-runtime alone)"))
    }
}

/// The value of a lowercase hex digit (the only case the core writes, so the
/// runtime's text is the same string).
fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// Appends `value` as an unsigned LEB128 integer.
fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// `value` little-endian in four bytes (`layout` refuses data past `u32::MAX`).
fn le_u32(value: usize) -> [u8; 4] {
    u32::try_from(value).unwrap_or(u32::MAX).to_le_bytes()
}

fn wide(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alembix_core::sql::Splits;
    use alembix_core::Statement;

    fn section(sql: &str, statements: &[&str]) -> Section {
        let split = Split {
            statements: statements
                .iter()
                .enumerate()
                .map(|(i, s)| Statement {
                    line: 6 + u32::try_from(i).unwrap_or(0),
                    sql: (*s).to_string(),
                })
                .collect(),
            unterminated: None,
        };
        Section {
            line: 5,
            sql: sql.to_string(),
            splits: Splits::uniform(split),
            parts: vec![alembix_core::file::Part {
                dialect: None,
                line: 5,
                range: 0..sql.len(),
            }],
        }
    }

    /// Reads back what `write_section` wrote: (line, statements).
    fn read_section(table: &[u8], text: &str, start: usize) -> (u32, Vec<(u32, String)>) {
        let mut at = 0;
        let mut next = || {
            let (mut value, mut shift) = (0u64, 0);
            while let Some(&byte) = table.get(at) {
                at += 1;
                value |= u64::from(byte & 0x7f) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            usize::try_from(value).unwrap_or(usize::MAX)
        };
        let line = next();
        let (_sql_len, count, _bytes) = (next(), next(), next());
        // Only uniform sections here (see `varies`).
        let (mut previous, mut cursor) = (line, start);
        let mut statements = Vec::new();
        for _ in 0..count {
            previous += next();
            let from = cursor + next();
            let to = from + next();
            statements.push((
                u32::try_from(previous).unwrap_or(0),
                text.get(from..to).unwrap_or("<out of range>").to_string(),
            ));
            cursor = to;
        }
        (u32::try_from(line).unwrap_or(0), statements)
    }

    fn round_trip(sections: &[Section]) -> Vec<(u32, Vec<(u32, String)>)> {
        let mut text: String = sections.iter().map(|s| s.sql.as_str()).collect();
        let mut start = 0;
        let mut read = Vec::new();
        for section in sections {
            let mut table = Vec::new();
            write_section(&mut table, &mut text, section, start);
            read.push(read_section(&table, &text, start));
            start += section.sql.len();
        }
        read
    }

    fn expected(section: &Section) -> (u32, Vec<(u32, String)>) {
        let statements = section
            .splits
            .statements(alembix_core::SqlDialect::Sqlite)
            .iter()
            .map(|s| (s.line, s.sql.clone()));
        (section.line, statements.collect())
    }

    #[test]
    fn statements_are_cut_back_out_of_their_section() {
        let first = section(
            "\nCREATE TABLE a (x int);\n-- drop later\n",
            &["CREATE TABLE a (x int)"],
        );
        // The comment repeats the statement: the position may be either copy.
        let second = section(
            "\n-- DROP TABLE a\nDROP TABLE a;\nDROP TABLE b;\n",
            &["DROP TABLE a", "DROP TABLE b"],
        );
        let read = round_trip(&[first.clone(), second.clone()]);
        assert_eq!(read, [expected(&first), expected(&second)]);
    }

    #[test]
    fn a_statement_missing_from_its_section_gets_its_own_copy() {
        let odd = section(
            "SELECT 1;\nSELECT 3;\n",
            &["SELECT 1", "SELECT 2", "SELECT 3"],
        );
        assert_eq!(round_trip(std::slice::from_ref(&odd)), [expected(&odd)]);
    }

    #[test]
    fn a_section_split_differently_per_dialect_holds_each_split() {
        // `'C:\'` then the end: a string still open for MySQL only.
        let sql = "\nSELECT 'C:\\';\n";
        let section = Section::new(5, sql.to_string());
        assert!(varies(&section));
        let mut text = sql.to_string();
        let mut table = Vec::new();
        write_section(&mut table, &mut text, &section, 0);
        // The SQL starts on line 6, with an empty line: the statement is on 7.
        let expected = [
            5,          // the marker's line
            15,         // the length of the SQL
            0b01_00_00, // SQLite and PostgreSQL run split 0, MySQL split 1
            1, 3, 2, 1, 12, // split 0: one statement in 3 bytes: line +2, at +1, 12 long
            0,  // nothing left open
            1, 3, 2, 1, 13, // split 1: the statement runs on through its `;`
            1, 7, // left open: a `'` string, from line 7
        ];
        assert_eq!(table, expected);
        assert_eq!(text, sql, "the statements are cut from the section");
        let plain = Section::new(5, "\nSELECT 1;\n".to_string());
        assert!(!varies(&plain));
    }

    #[test]
    fn varints_take_seven_bits_a_byte() {
        let mut out = Vec::new();
        for value in [0, 127, 128, 300, u64::from(u32::MAX)] {
            varint(&mut out, value);
        }
        assert_eq!(
            out,
            [0, 127, 0x80, 1, 0xac, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]
        );
    }

    fn parse(name: &str, text: &str) -> Result<MigrationFile, Vec<Problem>> {
        alembix_core::file::parse(name, text)
    }

    #[test]
    fn each_string_is_held_once() -> Result<(), Vec<Problem>> {
        let base = parse(
            "migrations/2026-01-01_create_a_0123456789ab.sql",
            "-- revision: 0123456789ab\n-- down_revision: none\n-- message: create a\n-- create_date: 2026-01-01\n\n-- migrate:upgrade\nCREATE TABLE a (x int);\nCREATE INDEX a_x ON a (x);\n\n-- migrate:downgrade\nDROP TABLE a;\n",
        )?;
        let child = parse(
            "migrations/2026-01-02_b_ba9876543210.sql",
            "-- revision: ba9876543210\n-- down_revision: 0123456789ab\n-- branch_labels: b\n-- depends_on: 0123456789ab\n\n-- migrate:upgrade\nSELECT 1;\n\n-- migrate:irreversible\n",
        )?;
        let layout = layout(&[base.clone(), child.clone()]).map_err(|p| vec![p])?;
        // The file names hold the revision ids; the down_revision and depends_on
        // point at the parent's; the statements at their sections. Only the
        // label is new.
        let expected = [
            base.file.as_str(),
            &base.message,
            base.create_date.as_deref().unwrap_or("?"),
            &base.upgrade.sql,
            base.downgrade.as_ref().map_or("?", |d| d.sql.as_str()),
            &child.file,
            &child.message,
            &child.upgrade.sql,
            "b",
        ]
        .concat();
        assert_eq!(layout.text, expected);
        assert_eq!(layout.table.get(..4), Some(&[2, 0, 0, 0][..]));
        Ok(())
    }

    #[test]
    fn a_revision_missing_from_the_file_name_follows_it() -> Result<(), Vec<Problem>> {
        let mut file = parse(
            "migrations/2026-01-01_create_a_0123456789ab.sql",
            "-- revision: 0123456789ab\n-- down_revision: none\n\n-- migrate:upgrade\nSELECT 1;\n\n-- migrate:irreversible\n",
        )?;
        file.file = "migrations/first.sql".to_string();
        let layout = layout(&[file]).map_err(|p| vec![p])?;
        assert!(
            layout
                .text
                .starts_with("migrations/first.sql0123456789abSELECT 1;"),
            "{:?}",
            layout.text
        );
        // The record: file name length, then where the revision id starts.
        assert_eq!(layout.table.get(12..14), Some(&[20, 20][..]));
        Ok(())
    }

    #[test]
    fn a_checksum_in_another_format_is_refused() -> Result<(), Vec<Problem>> {
        let mut file = parse(
            "migrations/2026-01-01_create_a_0123456789ab.sql",
            "-- revision: 0123456789ab\n-- down_revision: none\n\n-- migrate:upgrade\nSELECT 1;\n\n-- migrate:downgrade\nSELECT 1;\n",
        )?;
        assert!(sha256(&file, file.checksum(SqlDialect::Sqlite)).is_ok());
        file.checksums = std::array::from_fn(|_| alembix_core::Checksum::from_stored("md5:0123"));
        let problem = sha256(&file, file.checksum(SqlDialect::Sqlite))
            .err()
            .map(|p| p.message);
        assert_eq!(
            problem.as_deref(),
            Some("the checksum `md5:0123` is not a `sha256:` digest, the only kind `embed_migrations!` can embed")
        );
        Ok(())
    }
}
