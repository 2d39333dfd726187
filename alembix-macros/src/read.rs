//! Stage 1: the macro's argument, the crate root, and the files of the folder.
//!
//! The folder is scanned by the core's [`scan_folder`], the one place that decides
//! what counts as a migration file, shared with the runtime and the xtask.

use alembix_core::scan::{read_settings, scan_folder};
use alembix_core::settings::SETTINGS_FILE;
use alembix_core::{HeadPolicy, Problem, ProblemKind, Problems, Settings, SourceFile};
use proc_macro2::{Span, TokenStream, TokenTree};
use std::path::PathBuf;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

/// Hidden: when set, the folder is resolved against this directory instead of
/// `CARGO_MANIFEST_DIR` (trybuild compiles test cases in a scratch crate).
pub(crate) const MANIFEST_DIR_OVERRIDE: &str = "ALEMBIX_MANIFEST_DIR_OVERRIDE";

/// The macro's argument: the folder, as a string literal relative to the crate root.
pub(crate) struct FolderArg {
    /// The path of the runtime crate the generated code names: `$crate` when the
    /// runtime's `embed_migrations!` wrapper calls the macro (so a caller that
    /// depends only on `alembix` builds), `::alembix_runtime` when called directly.
    pub(crate) runtime: TokenStream,
    /// The folder as written.
    pub(crate) path: String,
    /// Where errors point: the literal.
    pub(crate) span: Span,
    /// Which heads the history may have: one (several only on their own
    /// branch labels), or, with `heads = "any"`, any number, as Alembic allows.
    pub(crate) heads: HeadPolicy,
}

impl Parse for FolderArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let usage = "expected the migrations folder as a string literal relative to the crate's Cargo.toml, e.g. `embed_migrations!(\"migrations\")`";
        let runtime = if input.peek(LitStr) {
            quote::quote!(::alembix_runtime)
        } else {
            // `<path to the runtime>;`, written by the runtime's wrapper.
            let mut path = TokenStream::new();
            while !input.is_empty() && !input.peek(Token![;]) {
                path.extend([input.parse::<TokenTree>()?]);
            }
            input
                .parse::<Token![;]>()
                .map_err(|e| syn::Error::new(e.span(), usage))?;
            path
        };
        let lit: LitStr = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), usage))?;
        let mut heads = HeadPolicy::default();
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        if !input.is_empty() {
            // The one option: `heads = "any"`.
            let option = "expected `heads = \"any\"` after the folder: the only option, which lets the history keep several unmerged heads (as Alembic does); without it, a second head fails the build";
            let key: syn::Ident = input
                .parse()
                .map_err(|e| syn::Error::new(e.span(), option))?;
            if key != "heads" {
                return Err(syn::Error::new(key.span(), option));
            }
            input
                .parse::<Token![=]>()
                .map_err(|e| syn::Error::new(e.span(), option))?;
            let value: LitStr = input
                .parse()
                .map_err(|e| syn::Error::new(e.span(), option))?;
            if value.value() != "any" {
                return Err(syn::Error::new(value.span(), option));
            }
            heads = HeadPolicy::Any;
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            }
            if !input.is_empty() {
                return Err(input.error(option));
            }
        }
        Ok(FolderArg {
            runtime,
            path: lit.value(),
            span: lit.span(),
            heads,
        })
    }
}

/// The files read from the folder.
pub(crate) struct Folder {
    /// The crate root every name is relative to.
    pub(crate) root: PathBuf,
    /// The migration files, named relative to `root`.
    pub(crate) sources: Vec<SourceFile>,
    /// Which heads the history may have (the macro's `heads` option).
    pub(crate) heads: HeadPolicy,
    /// The history's `alembix.toml`.
    pub(crate) settings: Settings,
    /// Its path, when the file exists.
    pub(crate) settings_file: Option<PathBuf>,
}

/// Finds the crate root and reads the migration files of `folder` below it.
pub(crate) fn read(folder: &FolderArg) -> Result<Folder, Problems> {
    let root = crate_root()?;
    let scanned = scan_folder(&root, &folder.path);
    let settings = read_settings(&root, &folder.path);
    let (sources, settings) = match (scanned, settings) {
        (Ok(sources), Ok(settings)) => (sources, settings),
        (Err(Problems(mut a)), Err(Problems(b))) => {
            a.extend(b);
            return Err(Problems(a));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let settings_path = root.join(&folder.path).join(SETTINGS_FILE);
    let settings_file = settings_path.is_file().then_some(settings_path);
    let mut problems = Vec::new();
    for source in &sources {
        // The scan names files lossily; a name that does not round-trip cannot be
        // tracked by `include_bytes!`, so it must be renamed.
        if source.name.contains('\u{fffd}') && !root.join(&source.name).is_file() {
            problems.push(
                Problem::new(ProblemKind::File, "the file name is not valid UTF-8")
                    .at(source.name.clone(), None)
                    .help("rename the file; `cargo xtask new-migration` writes names like `2026-01-02_add_users_a1b2c3d4e5f6.sql`"),
            );
        }
    }
    if problems.is_empty() {
        Ok(Folder {
            root,
            sources,
            heads: folder.heads,
            settings,
            settings_file,
        })
    } else {
        Err(Problems(problems))
    }
}

/// The directory the folder is relative to: the override, else the calling crate's.
fn crate_root() -> Result<PathBuf, Problems> {
    for var in [MANIFEST_DIR_OVERRIDE, "CARGO_MANIFEST_DIR"] {
        match std::env::var(var) {
            Ok(dir) if !dir.is_empty() => return Ok(PathBuf::from(dir)),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Problem::new(
                    ProblemKind::File,
                    format!("the crate's path (`{var}`) is not valid UTF-8"),
                )
                .help("move the crate to a folder whose path is valid UTF-8")
                .into())
            }
            _ => {}
        }
    }
    Err(Problem::new(
        ProblemKind::File,
        "`CARGO_MANIFEST_DIR` is not set, so the migrations folder cannot be found",
    )
    .help("build with cargo, which tells the macro where the crate's Cargo.toml is")
    .into())
}
