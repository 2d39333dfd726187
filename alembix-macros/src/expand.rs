//! Stage 3: code generation from a validated history.
//!
//! The expansion is one block expression of type
//! `::alembix_runtime::__private::EmbeddedMigrations`, usable in a `static`, a
//! `const` or a `let`:
//!
//! - `::core::include_bytes!("<absolute path>");` for every file, as statements of
//!   one `const _: ()`, so rustc lists the files as inputs of the crate and Cargo
//!   rebuilds it when one is edited or deleted; the bytes go nowhere;
//! - one `const fn` call with literals: a string holding every text of the
//!   set once, a byte string locating each migration's strings and statements in
//!   it (see [`crate::layout`]), the heads, and what a database at the heads
//!   holds: its sorted version rows and applied-set digest
//!   ([`alembix_core::digest`]), so a launch at the heads builds no graph.
//!
//! Two literals cost rustc next to nothing however long the history, where one
//! expression per migration, section and statement took it longer than
//! `diesel_migrations` (tens of thousands of items to type-check and evaluate),
//! and they put no pointer per string in the binary.

use crate::layout::layout;
use crate::validate::Validated;
use alembix_core::Problems;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// The tokens for a validated history.
pub(crate) fn expand(
    validated: &Validated,
    runtime: &TokenStream,
) -> Result<TokenStream, Problems> {
    let rt = quote!(#runtime::__private);
    let files = validated.set.files();
    let tracking = files
        .iter()
        .map(|file| validated.root.join(&file.file))
        .chain(validated.settings_file.clone())
        .map(|path| {
            let path = path.to_string_lossy().into_owned();
            quote!(::core::include_bytes!(#path);)
        });
    let layout = layout(files)?;
    let text = Literal::string(&layout.text);
    let table = Literal::byte_string(&layout.table);
    let graph = validated.set.graph();
    let heads = graph.heads().iter().map(|&h| graph.rev(h).id.as_str());
    // What a database at the heads holds, so that a launch at the heads needs
    // neither the graph nor a checksum computed at run time.
    let mut head_rows = graph.ids(graph.real_heads());
    head_rows.sort();
    let head_digests = alembix_core::SqlDialect::ALL
        .map(|dialect| alembix_core::digest::of_whole_set(&validated.set, dialect));
    let any_heads = validated.any_heads;
    let dialects = validated.dialects.bits();
    Ok(quote! {
        {
            const _: () = {
                #(#tracking)*
            };
            const __ALEMBIX_EMBEDDED: #rt::EmbeddedMigrations =
                #rt::EmbeddedMigrations::__new(
                    #text,
                    #table,
                    &[#(#heads),*],
                    &[#(#head_rows),*],
                    [#(#head_digests),*],
                    #any_heads,
                    #dialects,
                );
            __ALEMBIX_EMBEDDED
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alembix_core::{GraphOptions, MigrationSet, SourceFile};
    use std::path::PathBuf;

    #[test]
    fn generated_code_names_only_the_private_module_and_core() -> Result<(), Problems> {
        let source = SourceFile {
            name: "migrations/2026-01-01_create_a_0123456789ab.sql".to_string(),
            text: "-- revision: 0123456789ab\n-- down_revision: none\n\n-- migrate:upgrade\nCREATE TABLE a (x int);\n\n-- migrate:downgrade\nDROP TABLE a;\n".to_string(),
        };
        let validated = Validated {
            root: PathBuf::from("/crate"),
            set: MigrationSet::from_sources(&[source], &GraphOptions::default())?,
            any_heads: false,
            dialects: alembix_core::Dialects::UNDECLARED,
            settings_file: None,
        };
        let code = expand(&validated, &quote!(::alembix_runtime))?.to_string();
        // Tokens are printed apart: an absolute path is a `::` token that does not
        // follow a name.
        let tokens: Vec<&str> = code.split_whitespace().collect();
        let mut paths = 0;
        for (at, window) in tokens.windows(4).enumerate() {
            let before = at.checked_sub(1).and_then(|i| tokens.get(i));
            let follows_name = before
                .and_then(|t| t.chars().last())
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if window[0] == "::" && !follows_name {
                assert!(
                    window[1..] == ["alembix_runtime", "::", "__private"] || window[1] == "core",
                    "unexpected path at {window:?}"
                );
                paths += 1;
            }
        }
        assert_eq!(paths, 3, "{code}");
        let code = code.replace(' ', "");
        assert!(code.contains("::core::include_bytes!(\"/crate/migrations/2026-01-01_create_a_0123456789ab.sql\")"), "{code}");
        Ok(())
    }
}
