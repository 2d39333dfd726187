//! Stage 3: code generation from a validated history.
//!
//! The expansion is one block expression of type
//! `::migrate_runtime::__private::EmbeddedMigrations`, usable in a `static`, a
//! `const` or a `let`:
//!
//! - `const _: &[u8] = include_bytes!("<absolute path>");` for every file, so rustc
//!   lists the files as inputs of the crate and Cargo rebuilds it when one is edited
//!   or deleted;
//! - three flat tables: one string constant holding every text (sections, ids,
//!   file names, messages, checksums), one array of the `down_revision`,
//!   `branch_labels` and `depends_on` entries, one array of all statements;
//!   migrations and sections point into them by range, so the binary holds each
//!   text once and rustc builds a handful of large constants rather than tens of
//!   thousands of small ones (which made 10,000 migrations take minutes);
//! - the migrations in load order and the heads, built with the runtime's hidden
//!   `const fn` constructors.

use crate::validate::Validated;
use migrate_core::{MigrationFile, Problem, ProblemKind, Problems, Section, TransactionMode};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use std::ops::Range;

/// The tokens for a validated history.
pub(crate) fn expand(validated: &Validated) -> Result<TokenStream, Problems> {
    let rt = quote!(::migrate_runtime::__private);
    let files = validated.set.files();
    let tracking = files.iter().map(|file| {
        let path = validated.root.join(&file.file);
        let path = path.to_string_lossy();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    let mut texts = Vec::with_capacity(files.len());
    let mut migrations = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let mut tables = Tables {
            ident: format_ident!("__MIGRATE_TEXT_{}", i),
            text: Text::default(),
        };
        migrations.push(migration(&rt, file, &mut tables));
        if u32::try_from(tables.text.text.len()).is_err() {
            return Err(Problem::new(
                ProblemKind::File,
                "the migration holds more than 4 GiB of SQL, more than a binary can embed",
            )
            .at(file.file.clone(), None)
            .help("split the migration")
            .into());
        }
        let (ident, text) = (tables.ident, Literal::string(&tables.text.text));
        texts.push(quote!(const #ident: &str = #text;));
    }
    let graph = validated.set.graph();
    let heads = graph.heads().iter().map(|&h| graph.rev(h).id.as_str());
    Ok(quote! {
        {
            #(#tracking)*
            #(#texts)*
            // One constant for all migrations. Each migration's strings are one
            // string constant of its own: rustc copies a string constant for
            // every place that points into it, so one shared string would grow
            // with the square of the history. Thousands of migrations take longer
            // to evaluate than rustc's default patience, hence the `allow`.
            #[allow(long_running_const_eval)]
            const __MIGRATE_EMBEDDED: #rt::EmbeddedMigrations =
                #rt::EmbeddedMigrations::__new(&[#(#migrations),*], &[#(#heads),*]);
            __MIGRATE_EMBEDDED
        }
    })
}

/// The text constant one migration points into: one string for its sections,
/// id, file name, message and checksum, instead of one string each.
struct Tables {
    /// The constant's name.
    ident: Ident,
    /// Every string of the migration.
    text: Text,
}

impl Tables {
    /// Appends `s` to the text; returns its range.
    fn push_str(&mut self, s: &str) -> TokenStream {
        let start = self.text.text.len();
        self.text.text.push_str(s);
        range(start, self.text.text.len())
    }
}

/// One `EmbeddedMigration::__new(…)` call; appends its strings to the text.
fn migration(rt: &TokenStream, file: &MigrationFile, tables: &mut Tables) -> TokenStream {
    let text = tables.ident.clone();
    let revision = tables.push_str(&file.revision);
    let (down_revisions, branch_labels, depends_on) =
        (&file.down_revisions, &file.branch_labels, &file.depends_on);
    let message = tables.push_str(&file.message);
    let create_date = match &file.create_date {
        Some(date) => {
            let start = tables.text.text.len();
            tables.text.text.push_str(date);
            let (start, end) = (offset(start), offset(tables.text.text.len()));
            quote!([1u32, #start, #end])
        }
        None => quote!([0u32, 0u32, 0u32]),
    };
    let name = tables.push_str(&file.file);
    let transaction = match file.transaction {
        TransactionMode::PerMigration => quote!(#rt::TransactionMode::PerMigration),
        TransactionMode::None => quote!(#rt::TransactionMode::None),
    };
    let lines = [
        file.lines.revision,
        file.lines.down_revision,
        file.lines.branch_labels,
        file.lines.depends_on,
    ]
    .map(Literal::u32_suffixed);
    let upgrade = section(rt, &file.upgrade, tables);
    let downgrade = match &file.downgrade {
        Some(down) => {
            let down = section(rt, down, tables);
            quote!(::core::option::Option::Some(#down))
        }
        None => quote!(::core::option::Option::None),
    };
    let checksum = tables.push_str(file.checksum.as_str());
    quote! {
        #rt::EmbeddedMigration::__new(
            #text,
            #revision,
            &[#(#down_revisions),*],
            &[#(#branch_labels),*],
            &[#(#depends_on),*],
            #message,
            #create_date,
            #name,
            #transaction,
            [#(#lines),*],
            #upgrade,
            #downgrade,
            #checksum,
        )
    }
}

/// One `EmbeddedMigration::__section(…)` call; appends the section to the text.
fn section(rt: &TokenStream, section: &Section, tables: &mut Tables) -> TokenStream {
    let ranges = tables.text.push_section(section);
    let text = &tables.ident;
    let statements = section
        .statements
        .iter()
        .zip(&ranges.statements)
        .map(|(statement, range)| {
            let line = Literal::u32_suffixed(statement.line);
            let (from, to) = (offset(range.start), offset(range.end));
            quote!(#rt::EmbeddedStatement::__new(#text, #line, #from, #to))
        });
    let line = Literal::u32_suffixed(section.line);
    let whole = range(ranges.whole.start, ranges.whole.end);
    quote! {
        #rt::EmbeddedMigration::__section(#text, #line, #whole, &[#(#statements),*])
    }
}

/// `[start, end]` as `u32` literals.
fn range(start: usize, end: usize) -> TokenStream {
    let (start, end) = (offset(start), offset(end));
    quote!([#start, #end])
}

/// A byte offset into the text constant.
fn offset(at: usize) -> Literal {
    // `expand` refuses a text longer than `u32::MAX` bytes.
    Literal::u32_suffixed(u32::try_from(at).unwrap_or(u32::MAX))
}

/// The one string constant all sections are cut from.
#[derive(Default)]
struct Text {
    text: String,
}

/// Where a section and its statements sit in the [`Text`].
struct SectionRanges {
    whole: Range<usize>,
    statements: Vec<Range<usize>>,
}

impl Text {
    /// Appends `section` and returns the ranges of it and of its statements.
    fn push_section(&mut self, section: &Section) -> SectionRanges {
        let start = self.text.len();
        self.text.push_str(&section.sql);
        let end = self.text.len();
        let mut cursor = start;
        let mut statements = Vec::with_capacity(section.statements.len());
        for statement in &section.statements {
            // A statement is a trimmed slice of its section: find it after the
            // previous one (any match has the same text). Should it not be there,
            // it gets its own copy rather than a wrong range.
            let found = self
                .text
                .get(cursor..end)
                .and_then(|rest| rest.find(&statement.sql))
                .map(|at| cursor + at);
            let from = match found {
                Some(at) => {
                    cursor = at + statement.sql.len();
                    at
                }
                None => {
                    let at = self.text.len();
                    self.text.push_str(&statement.sql);
                    at
                }
            };
            statements.push(from..from + statement.sql.len());
        }
        SectionRanges {
            whole: start..end,
            statements,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Validated;
    use migrate_core::{GraphOptions, MigrationSet, SourceFile, Statement};
    use std::path::PathBuf;

    fn section(sql: &str, statements: &[&str]) -> Section {
        Section {
            line: 5,
            sql: sql.to_string(),
            statements: statements
                .iter()
                .map(|s| Statement {
                    line: 6,
                    sql: (*s).to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn ranges_cut_the_same_text_back_out() {
        let mut text = Text::default();
        let first = section(
            "\nCREATE TABLE a (x int);\n-- drop later\n",
            &["CREATE TABLE a (x int)"],
        );
        // The comment repeats the statement: the range may point at either copy.
        let second = section(
            "\n-- DROP TABLE a\nDROP TABLE a;\nDROP TABLE b;\n",
            &["DROP TABLE a", "DROP TABLE b"],
        );
        let sections = [first, second];
        let ranges: Vec<SectionRanges> = sections.iter().map(|s| text.push_section(s)).collect();
        for (section, ranges) in sections.iter().zip(&ranges) {
            assert_eq!(
                text.text.get(ranges.whole.clone()),
                Some(section.sql.as_str())
            );
            let cut: Vec<Option<&str>> = ranges
                .statements
                .iter()
                .map(|r| text.text.get(r.clone()))
                .collect();
            let expected: Vec<Option<&str>> = section
                .statements
                .iter()
                .map(|s| Some(s.sql.as_str()))
                .collect();
            assert_eq!(cut, expected);
        }
        // Each SQL text is held once.
        assert_eq!(
            text.text.len(),
            sections.iter().map(|s| s.sql.len()).sum::<usize>()
        );
    }

    #[test]
    fn a_statement_missing_from_its_section_gets_its_own_copy() {
        let mut text = Text::default();
        let odd = section("SELECT 1;\n", &["SELECT 1", "SELECT 2"]);
        let ranges = text.push_section(&odd);
        assert_eq!(
            text.text.get(ranges.statements[1].clone()),
            Some("SELECT 2")
        );
        assert_eq!(text.text.get(ranges.whole.clone()), Some("SELECT 1;\n"));
    }

    #[test]
    fn generated_code_names_only_the_private_module_and_core() -> Result<(), Problems> {
        let source = SourceFile {
            name: "migrations/2026-01-01_create_a_0123456789ab.sql".to_string(),
            text: "-- revision: 0123456789ab\n-- down_revision: none\n\n-- migrate:upgrade\nCREATE TABLE a (x int);\n\n-- migrate:downgrade\nDROP TABLE a;\n".to_string(),
        };
        let validated = Validated {
            root: PathBuf::from("/crate"),
            set: MigrationSet::from_sources(&[source], &GraphOptions::default())?,
        };
        let code = expand(&validated)?.to_string().replace(' ', "");
        let mut paths = 0;
        for (at, _) in code.match_indices("::") {
            // An absolute path: `::` that does not follow a name.
            let before = code[..at].chars().last();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                let rest = &code[at..];
                assert!(
                    rest.starts_with("::migrate_runtime::__private::")
                        || rest.starts_with("::core::"),
                    "unexpected path at {rest:.60}"
                );
                paths += 1;
            }
        }
        assert!(paths > 5, "{code}");
        assert!(code.contains("::core::include_bytes!(\"/crate/migrations/2026-01-01_create_a_0123456789ab.sql\")"), "{code}");
        Ok(())
    }
}
