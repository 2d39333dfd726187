//! Problems become compile errors: one `compile_error!` per problem, all in one
//! build, each pointing at the folder literal and naming the file and line
//! (relative to the crate root) in its text, since a span cannot point into a
//! `.sql` file. A typed placeholder follows so that code naming the static gets no
//! second error.

use alembix_core::{Problem, Problems};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

/// The tokens for a history that did not validate.
pub(crate) fn report(problems: &Problems, span: Span, runtime: &TokenStream) -> TokenStream {
    let errors = problems.iter().map(|problem| {
        let text = message(problem);
        quote_spanned!(span=> ::core::compile_error!(#text);)
    });
    quote! {
        {
            #(#errors)*
            const __ALEMBIX_EMBEDDED: #runtime::__private::EmbeddedMigrations =
                #runtime::__private::EmbeddedMigrations::__new("", &[], &[], &[], ["", "", ""], false, 0);
            __ALEMBIX_EMBEDDED
        }
    }
}

/// `file:line: message`, then `help: …` on its own line.
fn message(problem: &Problem) -> String {
    let mut text = match (&problem.file, problem.line) {
        (Some(file), Some(line)) => format!("{file}:{line}: {}", problem.message),
        (Some(file), None) => format!("{file}: {}", problem.message),
        _ => problem.message.clone(),
    };
    if let Some(help) = &problem.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    text
}
