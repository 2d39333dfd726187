//! The schema a diesel `schema.rs` asks for, laid over the schema the
//! history produces now: what `new-migration --autogenerate` diffs the
//! history against.
//!
//! A pipeline in three stages:
//!
//! 1. **read**: the file parsed with syn ([`Parse`] impls on small structs):
//!    every `table!`, `joinable!`, and the `#[diesel(postgres_type(…))]` /
//!    `#[diesel(mysql_type(…))]` names of `pub mod sql_types`; a failure
//!    names `path:line:column`;
//! 2. **resolve**: Rust names to SQL names (`#[sql_name]`), SQLite's
//!    implicit `rowid` key left out, every key column and `joinable!`
//!    checked against the tables it names;
//! 3. **overlay**: the current schema printed as diesel prints it
//!    ([`schema_rs`]) and read back by the same stages, so that both sides
//!    are compared in diesel's own terms; where they differ, the current
//!    schema is changed to say what `schema.rs` says (new SQL types from
//!    diesel's type for the dialect), and everything `schema.rs` cannot say
//!    (defaults, indexes, checks, views, functions, triggers, tables diesel
//!    cannot print) is kept.

// `new-migration --autogenerate` is this module's caller, next.

use alembix_runtime::schema::{schema_rs, Column, ForeignKey, Key, Schema, Table};
use proc_macro2::Span;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, parenthesized, Attribute, Ident, Token};

/// The schema a diesel `schema.rs` asks for, laid over `current` (the schema the history produces now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Desired {
    /// `current`, changed to say what `schema.rs` says.
    pub schema: Schema,
    /// What a reader of the migration should know: choices made for them
    /// (auto-increment, a default length), data at risk, what is kept
    /// because `schema.rs` cannot say it.
    pub notes: Vec<String>,
}

/// The schema `text` (a diesel `schema.rs`, read from `path`) asks for,
/// laid over `current`. Fails on a file syn cannot parse or whose names do
/// not add up (`path:line:column` and what was expected), on a type with
/// no SQL type for the dialect, and on a current schema diesel cannot print.
pub(crate) fn desired_schema(text: &str, path: &str, current: &Schema) -> Result<Desired, String> {
    desired_schema_over(text, path, current, current)
}

/// The same, for a `schema.rs` printed from `baseline` (the history's
/// schema on the dialect whose diesel types the file holds), laid over
/// `current` (the history's schema on another dialect, or the same): what
/// the file changes against `baseline` is changed in `current`, in
/// `current`'s dialect; everything else stays as `current` has it.
pub(crate) fn desired_schema_over(
    text: &str,
    path: &str,
    baseline: &Schema,
    current: &Schema,
) -> Result<Desired, String> {
    let read_as = Dialect::of(&baseline.dialect)?;
    let dialect = Dialect::of(&current.dialect)?;
    let printed = schema_rs(baseline)
        .map_err(|e| format!("the history's schema cannot be written as schema.rs: {e}"))?;
    let mut notes = Vec::new();
    let view = model(
        &printed.text,
        "schema.rs of the history",
        read_as,
        &mut notes,
    )?;
    let wanted = model(text, path, read_as, &mut notes)?;
    let mut overlay = Overlay {
        dialect,
        path,
        current,
        schema: current.clone(),
        notes,
        widths: mysql_widths(current),
    };
    overlay.apply(&view, &wanted, &printed.skipped)?;
    let mut schema = overlay.schema;
    schema.tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Desired {
        schema,
        notes: overlay.notes,
    })
}

// ---------------------------------------------------------------------------
// Read: the file as syn parses it.

/// The backend whose diesel types `schema.rs` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl Dialect {
    /// The dialect a [`Schema`] names.
    fn of(name: &str) -> Result<Dialect, String> {
        match name {
            "sqlite" => Ok(Dialect::Sqlite),
            "postgresql" => Ok(Dialect::Postgres),
            "mysql" => Ok(Dialect::Mysql),
            other => Err(format!(
                "schema.rs is read for sqlite, postgresql or mysql, not for the dialect `{other}`"
            )),
        }
    }

    /// Its name in messages.
    fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL",
        }
    }
}

/// A place in the file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At {
    line: usize,
    column: usize,
}

impl At {
    /// Where `span` starts.
    fn of(span: Span) -> At {
        let start = span.start();
        At {
            line: start.line,
            column: start.column + 1,
        }
    }

    /// `path:line:column: message`.
    fn say(self, path: &str, message: impl fmt::Display) -> String {
        format!("{path}:{}:{}: {message}", self.line, self.column)
    }
}

/// Every error of a syn parse, located.
fn located(path: &str, error: syn::Error) -> Vec<String> {
    error
        .into_iter()
        .map(|e| At::of(e.span()).say(path, &e))
        .collect()
}

/// One `table! { … }`, as written.
struct TableDecl {
    attrs: Vec<Attribute>,
    schema: Option<Ident>,
    name: Ident,
    key: Option<Vec<Ident>>,
    columns: Vec<ColumnDecl>,
}

impl Parse for TableDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // `use diesel::sql_types::*; use super::sql_types::Mood;`
        while input.peek(Token![use]) {
            input.parse::<syn::ItemUse>()?;
        }
        let attrs = input.call(Attribute::parse_outer)?;
        let first = input.call(Ident::parse_any)?;
        let (schema, name) = if input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            (Some(first), input.call(Ident::parse_any)?)
        } else {
            (None, first)
        };
        let key = if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            let names =
                Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
            Some(names.into_iter().collect())
        } else {
            None
        };
        let content;
        braced!(content in input);
        let columns = Punctuated::<ColumnDecl, Token![,]>::parse_terminated(&content)?;
        Ok(TableDecl {
            attrs,
            schema,
            name,
            key,
            columns: columns.into_iter().collect(),
        })
    }
}

/// `#[sql_name = "…"] #[max_length = N] name -> Type`.
struct ColumnDecl {
    attrs: Vec<Attribute>,
    name: Ident,
    ty: syn::Type,
}

impl Parse for ColumnDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let name = input.call(Ident::parse_any)?;
        input.parse::<Token![->]>()?;
        let ty = input.parse()?;
        Ok(ColumnDecl { attrs, name, ty })
    }
}

/// `child -> parent (column)`.
struct JoinableDecl {
    child: Ident,
    parent: Ident,
    column: Ident,
}

impl Parse for JoinableDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let child = input.call(Ident::parse_any)?;
        input.parse::<Token![->]>()?;
        let parent = input.call(Ident::parse_any)?;
        let content;
        parenthesized!(content in input);
        let column = content.call(Ident::parse_any)?;
        if !content.is_empty() {
            return Err(content.error("expected `)`: joinable! names one column"));
        }
        Ok(JoinableDecl {
            child,
            parent,
            column,
        })
    }
}

/// A type of `sql_types`: the backend's name for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Custom {
    /// `postgres_type(name = …, schema = …)`.
    postgres: Option<(String, Option<String>)>,
    /// `mysql_type(name = …)`: `Enum`, `Set`.
    mysql: Option<String>,
}

/// A column's diesel type: `Nullable<Array<Nullable<Unsigned<Base>>>>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct DieselType {
    /// The SQL type's name (`Integer`, `Mood`), without its path.
    base: String,
    nullable: bool,
    array: bool,
    unsigned: bool,
    /// `#[max_length = N]`.
    max_length: Option<u64>,
}

impl fmt::Display for DieselType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.base.clone();
        if self.unsigned {
            out = format!("Unsigned<{out}>");
        }
        if self.array {
            out = format!("Array<{out}>");
        }
        if self.nullable {
            out = format!("Nullable<{out}>");
        }
        if let Some(n) = self.max_length {
            out = format!("{out} (#[max_length = {n}])");
        }
        f.write_str(&out)
    }
}

/// The diesel type `ty` writes: the wrappers diesel knows around the name
/// of an SQL type.
fn diesel_type(ty: &syn::Type) -> syn::Result<DieselType> {
    let expected = "expected a diesel SQL type: `Integer`, `Nullable<Text>`, `Array<Nullable<Int4>>`, `sql_types::Mood`";
    let mut out = DieselType::default();
    let mut ty = ty;
    loop {
        let syn::Type::Path(path) = ty else {
            return Err(syn::Error::new_spanned(ty, expected));
        };
        let Some(last) = path.path.segments.last().filter(|_| path.qself.is_none()) else {
            return Err(syn::Error::new_spanned(ty, expected));
        };
        let name = last.ident.unraw().to_string();
        let inner = match &last.arguments {
            syn::PathArguments::None => None,
            syn::PathArguments::AngleBracketed(args) => match args.args.first() {
                Some(syn::GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
                _ => return Err(syn::Error::new_spanned(ty, expected)),
            },
            syn::PathArguments::Parenthesized(_) => {
                return Err(syn::Error::new_spanned(ty, expected))
            }
        };
        match (name.as_str(), inner) {
            (_, None) => {
                out.base = name;
                return Ok(out);
            }
            // diesel's arrays hold `Nullable` elements; the model cannot say so.
            ("Nullable", Some(inner)) if out.array => ty = inner,
            ("Nullable", Some(inner)) if !out.nullable && !out.unsigned => {
                out.nullable = true;
                ty = inner;
            }
            ("Array", Some(inner)) if !out.array && !out.unsigned => {
                out.array = true;
                ty = inner;
            }
            ("Unsigned", Some(inner)) if !out.unsigned => {
                out.unsigned = true;
                ty = inner;
            }
            _ => return Err(syn::Error::new_spanned(ty, expected)),
        }
    }
}

/// The string of `#[name = "…"]` among `attrs`.
fn string_attr(attrs: &[Attribute], name: &str) -> syn::Result<Option<String>> {
    let Some(attr) = attrs.iter().find(|a| a.path().is_ident(name)) else {
        return Ok(None);
    };
    match &attr.meta {
        syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }),
            ..
        }) => Ok(Some(text.value())),
        _ => Err(syn::Error::new_spanned(
            attr,
            format!("expected `#[{name} = \"…\"]`"),
        )),
    }
}

/// `#[max_length = N]` among `attrs`.
fn max_length(attrs: &[Attribute]) -> syn::Result<Option<u64>> {
    let Some(attr) = attrs.iter().find(|a| a.path().is_ident("max_length")) else {
        return Ok(None);
    };
    match &attr.meta {
        syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }),
            ..
        }) => n.base10_parse().map(Some),
        _ => Err(syn::Error::new_spanned(
            attr,
            "expected `#[max_length = N]`",
        )),
    }
}

/// The backend's names of a `sql_types` struct, from its `#[diesel(…)]`;
/// `None` for a struct that is no SQL type.
fn custom(attrs: &[Attribute]) -> Option<Custom> {
    let mut found = Custom::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("diesel")) {
        // Other diesel attributes are not ours to check: a failure only
        // means no name is taken from this one.
        let _ = attr.parse_nested_meta(|meta| {
            let backend = if meta.path.is_ident("postgres_type") {
                "postgres"
            } else if meta.path.is_ident("mysql_type") {
                "mysql"
            } else {
                return Ok(());
            };
            let (mut name, mut schema) = (None, None);
            meta.parse_nested_meta(|inner| {
                let value: syn::Expr = inner.value()?.parse()?;
                let text = match value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                };
                if inner.path.is_ident("name") {
                    name = text;
                } else if inner.path.is_ident("schema") {
                    schema = text;
                }
                Ok(())
            })?;
            match (backend, name) {
                ("postgres", Some(name)) => found.postgres = Some((name, schema)),
                ("mysql", Some(name)) => found.mysql = Some(name),
                _ => {}
            }
            Ok(())
        });
    }
    (found != Custom::default()).then_some(found)
}

/// What the file declares, as written.
#[derive(Default)]
struct Declared {
    tables: Vec<TableDecl>,
    joinables: Vec<JoinableDecl>,
    /// `sql_types` structs by their Rust name.
    customs: BTreeMap<String, Custom>,
}

/// Collects the declarations of `items`, and of the modules among them.
fn collect(items: &[syn::Item], path: &str, out: &mut Declared, errors: &mut Vec<String>) {
    for item in items {
        match item {
            syn::Item::Macro(m) => {
                let name = m.mac.path.segments.last().map(|s| s.ident.to_string());
                match name.as_deref() {
                    Some("table") => match m.mac.parse_body::<TableDecl>() {
                        Ok(table) => out.tables.push(table),
                        Err(e) => errors.extend(located(path, e)),
                    },
                    Some("joinable") => match m.mac.parse_body::<JoinableDecl>() {
                        Ok(joinable) => out.joinables.push(joinable),
                        Err(e) => errors.extend(located(path, e)),
                    },
                    // `allow_tables_to_appear_in_same_query!` and the rest say nothing of the schema.
                    _ => {}
                }
            }
            syn::Item::Mod(syn::ItemMod {
                content: Some((_, items)),
                ..
            }) => collect(items, path, out, errors),
            syn::Item::Struct(s) => {
                if let Some(found) = custom(&s.attrs) {
                    out.customs.insert(s.ident.unraw().to_string(), found);
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Resolve: SQL names, keys and joins checked.

/// A table as `schema.rs` describes it, by SQL names.
#[derive(Debug, Clone)]
struct ModelTable {
    name: String,
    rust: String,
    /// Its key; `None` for SQLite's implicit `rowid`.
    key: Option<Vec<String>>,
    columns: Vec<ModelColumn>,
    at: At,
}

impl ModelTable {
    /// Its column of SQL name `name`.
    fn column(&self, name: &str) -> Option<&ModelColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column as `schema.rs` describes it.
#[derive(Debug, Clone)]
struct ModelColumn {
    name: String,
    ty: DieselType,
    /// Its type's `sql_types` names, when it is a custom type.
    custom: Option<Custom>,
    at: At,
}

/// A `joinable!`, by SQL names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Link {
    child: String,
    parent: String,
    column: String,
}

/// What a `schema.rs` says, by SQL names.
#[derive(Debug, Clone, Default)]
struct Model {
    tables: Vec<ModelTable>,
    links: BTreeSet<Link>,
}

impl Model {
    /// Its table of SQL name `name`.
    fn table(&self, name: &str) -> Option<&ModelTable> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// Reads `text` (from `path`) into a [`Model`]: all errors at once.
fn model(
    text: &str,
    path: &str,
    dialect: Dialect,
    notes: &mut Vec<String>,
) -> Result<Model, String> {
    let file = syn::parse_file(text).map_err(|e| located(path, e).join("\n"))?;
    let mut declared = Declared::default();
    let mut errors = Vec::new();
    collect(&file.items, path, &mut declared, &mut errors);
    let mut model = Model::default();
    // Rust name → table, for `joinable!`.
    let mut by_rust: BTreeMap<String, usize> = BTreeMap::new();
    for decl in &declared.tables {
        match resolve_table(decl, path, dialect, &declared.customs) {
            Ok(None) => notes.push(At::of(decl.name.span()).say(
                path,
                format_args!(
                    "`{}.{}` is in another schema: the model reads one, so it is left out",
                    decl.schema.as_ref().map(Ident::to_string).unwrap_or_default(),
                    decl.name
                ),
            )),
            Ok(Some(table)) => {
                if model.table(&table.name).is_some() || by_rust.contains_key(&table.rust) {
                    errors.push(table.at.say(
                        path,
                        format_args!("the table `{}` is declared twice", table.name),
                    ));
                    continue;
                }
                by_rust.insert(table.rust.clone(), model.tables.len());
                model.tables.push(table);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    for j in &declared.joinables {
        let find = |ident: &Ident| {
            let found = by_rust
                .get(&ident.unraw().to_string())
                .and_then(|i| model.tables.get(*i));
            found.ok_or_else(|| {
                At::of(ident.span()).say(
                    path,
                    format_args!("joinable! names `{ident}`, which no table! declares"),
                )
            })
        };
        let (child, parent) = match (find(&j.child), find(&j.parent)) {
            (Ok(child), Ok(parent)) => (child, parent),
            (child, parent) => {
                errors.extend(child.err());
                errors.extend(parent.err());
                continue;
            }
        };
        let rust = j.column.unraw().to_string();
        let column = declared
            .tables
            .iter()
            .find(|t| t.schema.is_none() && t.name.unraw() == child.rust)
            .and_then(|t| t.columns.iter().find(|c| c.name.unraw() == rust))
            .map(|c| {
                string_attr(&c.attrs, "sql_name")
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| rust.clone())
            });
        match column {
            Some(column) => {
                model.links.insert(Link {
                    child: child.name.clone(),
                    parent: parent.name.clone(),
                    column,
                });
            }
            None => errors.push(At::of(j.column.span()).say(
                path,
                format_args!(
                    "joinable! names the column `{rust}`, which `{}` does not have",
                    child.rust
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(model)
    } else {
        Err(errors.join("\n"))
    }
}

/// A `table!` by SQL names; `None` for a table of another schema.
fn resolve_table(
    decl: &TableDecl,
    path: &str,
    dialect: Dialect,
    customs: &BTreeMap<String, Custom>,
) -> Result<Option<ModelTable>, Vec<String>> {
    if decl.schema.is_some() {
        return Ok(None);
    }
    let mut errors = Vec::new();
    let rust = decl.name.unraw().to_string();
    let name = match string_attr(&decl.attrs, "sql_name") {
        Ok(name) => name.unwrap_or_else(|| rust.clone()),
        Err(e) => {
            errors.extend(located(path, e));
            rust.clone()
        }
    };
    let mut columns: Vec<ModelColumn> = Vec::new();
    let mut rust_names: Vec<String> = Vec::new();
    for c in &decl.columns {
        let at = At::of(c.name.span());
        let column_rust = c.name.unraw().to_string();
        let sql_name = string_attr(&c.attrs, "sql_name");
        let length = max_length(&c.attrs);
        let ty = diesel_type(&c.ty);
        let (sql_name, length, mut ty) = match (sql_name, length, ty) {
            (Ok(s), Ok(l), Ok(t)) => (s, l, t),
            (s, l, t) => {
                errors.extend(s.err().into_iter().flat_map(|e| located(path, e)));
                errors.extend(l.err().into_iter().flat_map(|e| located(path, e)));
                errors.extend(t.err().into_iter().flat_map(|e| located(path, e)));
                continue;
            }
        };
        ty.max_length = length;
        let column_name = sql_name.unwrap_or_else(|| column_rust.clone());
        if columns.iter().any(|c| c.name == column_name) || rust_names.contains(&column_rust) {
            errors.push(at.say(
                path,
                format_args!("the column `{name}.{column_name}` is declared twice"),
            ));
            continue;
        }
        rust_names.push(column_rust);
        columns.push(ModelColumn {
            name: column_name,
            custom: customs.get(&ty.base).cloned(),
            ty,
            at,
        });
    }
    // diesel's default key is `id`.
    let key_idents: Vec<(String, At)> = match &decl.key {
        Some(key) => key
            .iter()
            .map(|k| (k.unraw().to_string(), At::of(k.span())))
            .collect(),
        None => vec![("id".to_string(), At::of(decl.name.span()))],
    };
    let mut key = Vec::new();
    for (k, at) in key_idents {
        match rust_names.iter().position(|r| *r == k) {
            Some(i) => key.push(columns[i].name.clone()),
            None => errors.push(at.say(
                path,
                format_args!("the primary key names `{k}`, which is no column of `{rust}`"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // SQLite's implicit rowid, as diesel prints it for a table without a key.
    let implicit = dialect == Dialect::Sqlite
        && matches!(key.as_slice(), [k] if ["rowid", "oid", "_rowid_"].contains(&k.as_str()))
        && columns.first().is_some_and(|c| {
            Some(&c.name) == key.first() && c.ty.base == "Integer" && !c.ty.nullable
        });
    let key = if implicit {
        columns.remove(0);
        None
    } else {
        Some(key)
    };
    Ok(Some(ModelTable {
        name,
        rust,
        key,
        columns,
        at: At::of(decl.name.span()),
    }))
}

// ---------------------------------------------------------------------------
// Overlay: the current schema made to say what schema.rs says.

/// The current schema being changed, and the notes on it.
struct Overlay<'a> {
    dialect: Dialect,
    path: &'a str,
    current: &'a Schema,
    schema: Schema,
    notes: Vec<String>,
    /// MySQL: whether the server writes integer display widths (`int(11)`),
    /// as the history's columns show; `None` when none does.
    widths: Option<bool>,
}

/// An SQL type for a diesel type, and what was chosen for it.
struct Mapped {
    sql: String,
    note: Option<String>,
}

impl Overlay<'_> {
    /// Adds `note`, once.
    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// Makes the schema say what `wanted` says where `view` (the current
    /// schema as diesel prints it) says otherwise; `skipped` are the tables
    /// diesel could not print.
    fn apply(&mut self, view: &Model, wanted: &Model, skipped: &[String]) -> Result<(), String> {
        for name in skipped {
            let note = if wanted.table(name).is_some() {
                format!("table `{name}` has no primary key in the history, so diesel cannot print it: kept as it is (give it a key in a migration first)")
            } else {
                format!("table `{name}` has no primary key, so schema.rs cannot describe it: kept, not managed by schema.rs")
            };
            self.note(note);
        }
        let mut removed_tables = Vec::new();
        for table in &view.tables {
            if wanted.table(&table.name).is_none() {
                self.schema.tables.retain(|t| t.name != table.name);
                removed_tables.push(table.name.clone());
                self.note(format!(
                    "table `{}` is not in schema.rs: it is dropped, with its rows",
                    table.name
                ));
            }
        }
        for table in &wanted.tables {
            match view.table(&table.name) {
                Some(seen) => self.overlay_table(seen, table)?,
                None if self.current.table(&table.name).is_some() => {
                    if !skipped.contains(&table.name) {
                        self.note(format!(
                            "table `{}` is one diesel does not print (a name starting with `__`): kept as it is",
                            table.name
                        ));
                    }
                }
                None => {
                    let new = self.new_table(table)?;
                    self.schema.tables.push(new);
                }
            }
        }
        for name in &removed_tables {
            self.drop_references(name, None);
        }
        for link in wanted.links.difference(&view.links) {
            self.add_foreign_key(link);
        }
        for link in view.links.difference(&wanted.links) {
            let Some(child) = self.schema.tables.iter_mut().find(|t| t.name == link.child) else {
                continue;
            };
            let before = child.foreign_keys.len();
            child.foreign_keys.retain(|fk| {
                !(fk.columns == [link.column.clone()] && fk.referenced_table == link.parent)
            });
            if child.foreign_keys.len() < before {
                self.note(format!(
                    "the foreign key `{}.{}` → `{}` has no joinable! in schema.rs: it is dropped",
                    link.child, link.column, link.parent
                ));
            }
        }
        let mut kept: Vec<String> = Vec::new();
        kept.extend(self.schema.views.iter().map(|v| format!("view {}", v.name)));
        kept.extend(
            self.schema
                .functions
                .iter()
                .map(|f| format!("function {}", f.name)),
        );
        kept.extend(
            self.schema
                .triggers
                .iter()
                .map(|t| format!("trigger {}", t.name)),
        );
        if !kept.is_empty() {
            self.note(format!(
                "kept, not managed by schema.rs: {}",
                kept.join(", ")
            ));
        }
        Ok(())
    }

    /// The table `wanted` describes, new.
    fn new_table(&mut self, wanted: &ModelTable) -> Result<Table, String> {
        let mut table = Table::default();
        table.name = wanted.name.clone();
        for w in &wanted.columns {
            let sql = self.sql_for(&wanted.name, w)?;
            let mut column = Column::default();
            column.name = w.name.clone();
            column.data_type = sql;
            column.nullable = w.ty.nullable;
            table.columns.push(column);
        }
        if let Some(key) = &wanted.key {
            if self.dialect != Dialect::Sqlite {
                for column in table.columns.iter_mut().filter(|c| key.contains(&c.name)) {
                    if column.nullable {
                        column.nullable = false;
                        let note = format!(
                            "`{}.{}` is in the primary key, which {} keeps NOT NULL: made NOT NULL (schema.rs says Nullable)",
                            table.name,
                            column.name,
                            self.dialect.name()
                        );
                        self.note(note);
                    }
                }
            }
            if let [only] = key.as_slice() {
                self.auto_increment(&mut table, only);
            }
            let mut primary = Key::default();
            primary.columns = key.clone();
            table.primary_key = Some(primary);
        }
        Ok(table)
    }

    /// A new table's one integer key column numbers its rows itself.
    fn auto_increment(&mut self, table: &mut Table, key: &str) {
        let Some(column) = table.columns.iter_mut().find(|c| c.name == key) else {
            return;
        };
        let ty = column.data_type.as_str();
        let note = match self.dialect {
            Dialect::Sqlite if ty == "integer" => format!(
                "`{}.{key}` is an INTEGER PRIMARY KEY, SQLite's rowid: new rows are numbered without an auto-increment",
                table.name
            ),
            Dialect::Sqlite if ["smallint", "bigint"].contains(&ty) => format!(
                "`{}.{key}` is a `{ty}` key: only an INTEGER PRIMARY KEY is SQLite's rowid, so new rows are not numbered by themselves (diesel's `Integer` is)",
                table.name
            ),
            Dialect::Postgres if ["smallint", "integer", "bigint"].contains(&ty) => {
                column.extra = Some("identity by default".to_string());
                format!(
                    "`{}.{key}` is the table's one integer key: made `GENERATED BY DEFAULT AS IDENTITY`",
                    table.name
                )
            }
            Dialect::Mysql if mysql_integer(ty) => {
                column.extra = Some("auto_increment".to_string());
                format!(
                    "`{}.{key}` is the table's one integer key: made AUTO_INCREMENT",
                    table.name
                )
            }
            _ => return,
        };
        self.note(note);
    }

    /// `current`'s table made to say what `wanted` says, where `seen` is
    /// how diesel prints it now.
    fn overlay_table(&mut self, seen: &ModelTable, wanted: &ModelTable) -> Result<(), String> {
        let Some(index) = self
            .schema
            .tables
            .iter()
            .position(|t| t.name == wanted.name)
        else {
            return Ok(());
        };
        let mut table = self.schema.tables[index].clone();
        let mut removed = Vec::new();
        let mut columns = Vec::new();
        for column in &table.columns {
            let (Some(now), Some(w)) = (seen.column(&column.name), wanted.column(&column.name))
            else {
                if seen.column(&column.name).is_some() {
                    removed.push(column.name.clone());
                    self.note(format!(
                        "column `{}.{}` is not in schema.rs: it is dropped, with its data",
                        table.name, column.name
                    ));
                } else {
                    columns.push(column.clone());
                }
                continue;
            };
            let mut column = column.clone();
            if let Some(sql) = self.type_change(&table.name, now, w)? {
                self.note(format!(
                    "column `{}.{}` changes type: `{}` to `{sql}`",
                    table.name, column.name, column.data_type
                ));
                column.data_type = sql;
            }
            if now.ty.nullable != w.ty.nullable {
                column.nullable = w.ty.nullable;
                if !column.nullable {
                    self.note(format!(
                        "column `{}.{}` becomes NOT NULL: rows holding NULL there must be updated in the migration first",
                        table.name, column.name
                    ));
                }
            }
            columns.push(column);
        }
        let kept_in_table: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let kept_in_file: Vec<&str> = wanted
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .filter(|n| kept_in_table.contains(n))
            .collect();
        if kept_in_file
            != kept_in_table
                .iter()
                .copied()
                .filter(|n| wanted.column(n).is_some())
                .collect::<Vec<_>>()
        {
            self.note(format!(
                "schema.rs lists the columns of `{}` in another order: the table's order is kept",
                table.name
            ));
        }
        for (i, w) in wanted.columns.iter().enumerate() {
            if columns.iter().any(|c| c.name == w.name) {
                continue;
            }
            let mut column = Column::default();
            column.name = w.name.clone();
            column.data_type = self.sql_for(&table.name, w)?;
            column.nullable = w.ty.nullable;
            if !column.nullable {
                self.note(format!(
                    "column `{}.{}` is added NOT NULL: schema.rs cannot say a default: give one in the migration if the table has rows",
                    table.name, column.name
                ));
            }
            let at = wanted.columns[..i]
                .iter()
                .rev()
                .find_map(|p| columns.iter().position(|c| c.name == p.name))
                .map_or(0, |p| p + 1);
            columns.insert(at, column);
        }
        table.columns = columns;
        if seen.key != wanted.key {
            table.primary_key = wanted.key.as_ref().map(|columns| {
                let mut key = Key::default();
                key.columns = columns.clone();
                key
            });
            let says = match &wanted.key {
                Some(key) => format!("({})", key.join(", ")),
                None => "none (SQLite's rowid)".to_string(),
            };
            self.note(format!(
                "the primary key of `{}` becomes {says}",
                table.name
            ));
        }
        self.schema.tables[index] = table;
        for column in &removed {
            self.drop_references(&wanted.name, Some(column));
        }
        Ok(())
    }

    /// Drops what names `table` (or its `column`) and cannot outlive it:
    /// its indexes, unique keys and foreign keys on the column, foreign keys
    /// of other tables to it, a dropped table's triggers; notes checks and
    /// views that may name it.
    fn drop_references(&mut self, table: &str, column: Option<&str>) {
        let mut notes = Vec::new();
        let names = |columns: &[String]| match column {
            Some(c) => columns
                .iter()
                .any(|x| x == c || x.strip_suffix(" desc") == Some(c)),
            None => false,
        };
        for t in &mut self.schema.tables {
            if t.name == table {
                let before = (t.indexes.len(), t.unique.len(), t.foreign_keys.len());
                t.indexes.retain(|i| !names(&i.columns));
                t.unique.retain(|k| !names(&k.columns));
                t.foreign_keys.retain(|fk| !names(&fk.columns));
                if before != (t.indexes.len(), t.unique.len(), t.foreign_keys.len()) {
                    notes.push(format!(
                        "the indexes and keys of `{table}` on `{}` go with the column",
                        column.unwrap_or_default()
                    ));
                }
                if let Some(c) = column {
                    for check in t.checks.iter().filter(|k| mentions(&k.expression, c)) {
                        notes.push(format!(
                            "the check `{}` of `{table}` names `{c}`: change or drop it in the migration",
                            check.expression
                        ));
                    }
                }
            }
            let before = t.foreign_keys.len();
            t.foreign_keys.retain(|fk| {
                fk.referenced_table != table
                    || column.is_some_and(|c| !fk.referenced_columns.iter().any(|r| r == c))
            });
            if t.foreign_keys.len() < before && t.name != table {
                notes.push(format!(
                    "the foreign keys of `{}` to `{table}` go with it",
                    t.name
                ));
            }
        }
        if column.is_none() {
            let prefix = format!("{table}.");
            let before = self.schema.triggers.len();
            self.schema
                .triggers
                .retain(|t| !t.name.starts_with(&prefix));
            if self.schema.triggers.len() < before {
                notes.push(format!("the triggers of `{table}` go with it"));
            }
            for view in &self.schema.views {
                if mentions(&view.definition, table) {
                    notes.push(format!(
                        "the view `{}` names `{table}`: change or drop it in the migration",
                        view.name
                    ));
                }
            }
        }
        for note in notes {
            self.note(note);
        }
    }

    /// A foreign key for a `joinable!` the history does not have yet: to
    /// the parent's one-column primary key.
    fn add_foreign_key(&mut self, link: &Link) {
        let parent_key = self
            .schema
            .table(&link.parent)
            .and_then(|t| t.primary_key.as_ref())
            .map(|k| k.columns.clone())
            .unwrap_or_default();
        let Some(child) = self.schema.tables.iter_mut().find(|t| t.name == link.child) else {
            return;
        };
        if child
            .foreign_keys
            .iter()
            .any(|fk| fk.columns == [link.column.clone()] && fk.referenced_table == link.parent)
        {
            return;
        }
        if parent_key.len() != 1 {
            let note = format!(
                "joinable!({} -> {} ({})): `{}` has no one-column primary key to reference; no foreign key is made",
                link.child, link.parent, link.column, link.parent
            );
            self.note(note);
            return;
        }
        let mut fk = ForeignKey::default();
        fk.columns = vec![link.column.clone()];
        fk.referenced_table = link.parent.clone();
        fk.referenced_columns = parent_key;
        fk.on_delete = "no action".to_string();
        fk.on_update = "no action".to_string();
        child.foreign_keys.push(fk);
        child.foreign_keys.sort();
        self.note(format!(
            "joinable!({} -> {} ({})): a new foreign key, on delete and on update no action",
            link.child, link.parent, link.column
        ));
    }

    /// The new SQL type of a column whose diesel type is `now` and that
    /// schema.rs says is `wanted`; `None` when diesel sees no difference.
    fn type_change(
        &mut self,
        table: &str,
        now: &ModelColumn,
        wanted: &ModelColumn,
    ) -> Result<Option<String>, String> {
        if same_type(now, wanted) {
            return Ok(None);
        }
        // Another spelling of what diesel reads now (`Integer` for `Int4`)
        // is no change; the notes are for a type that does change.
        if let Ok(mapped) = self.map(wanted) {
            if self
                .printed(&mapped.sql)
                .is_some_and(|printed| same_type(&printed, now))
            {
                return Ok(None);
            }
        }
        self.sql_for(table, wanted).map(Some)
    }

    /// The SQL type for a column of `table` schema.rs describes, with its notes.
    fn sql_for(&mut self, table: &str, column: &ModelColumn) -> Result<String, String> {
        let Mapped { sql, note } = self.map(column).map_err(|why| {
            column
                .at
                .say(self.path, format_args!("`{table}.{}`: {why}", column.name))
        })?;
        if let Some(note) = note {
            self.note(format!("`{table}.{}`: {note}", column.name));
        }
        // A type diesel reads back as another: say so, once.
        if let Some(printed) = self.printed(&sql) {
            let back = self.map(&printed).map(|m| m.sql);
            if back.as_deref() != Ok(sql.as_str()) {
                let mut shown = printed.ty.clone();
                shown.nullable = false;
                self.note(format!(
                    "`{table}.{}`: diesel reads `{sql}` back as `{shown}` on {}",
                    column.name,
                    self.dialect.name()
                ));
            }
        }
        Ok(sql)
    }

    /// How diesel prints a column of SQL type `sql` (not null).
    fn printed(&self, sql: &str) -> Option<ModelColumn> {
        let mut column = Column::default();
        column.name = "c".to_string();
        column.data_type = sql.to_string();
        let mut key = Key::default();
        key.columns = vec!["c".to_string()];
        let mut table = Table::default();
        table.name = "t".to_string();
        table.columns = vec![column];
        table.primary_key = Some(key);
        let mut schema = Schema::default();
        schema.dialect = self.current.dialect.clone();
        schema.enums = self.current.enums.clone();
        schema.tables = vec![table];
        let text = schema_rs(&schema).ok()?.text;
        let model = model(&text, "schema.rs", self.dialect, &mut Vec::new()).ok()?;
        model.table("t")?.column("c").cloned()
    }

    /// The SQL type for `column`'s diesel type, spelled as the dialect's
    /// introspection reports it; `Err` says why there is none.
    fn map(&self, column: &ModelColumn) -> Result<Mapped, String> {
        let ty = &column.ty;
        let none = || {
            format!(
                "diesel reads no {} column as `{}`: write this column in the migration",
                self.dialect.name(),
                DieselType {
                    nullable: false,
                    max_length: None,
                    ..ty.clone()
                }
            )
        };
        if let Some(custom) = &column.custom {
            return match (self.dialect, custom) {
                (
                    Dialect::Postgres,
                    Custom {
                        postgres: Some((name, schema)),
                        ..
                    },
                ) => {
                    let base = match schema.as_deref() {
                        Some(s) if s != "pg_catalog" && s != "public" => format!("{s}.{name}"),
                        _ => name.clone(),
                    };
                    let known = self.current.enums.iter().any(|e| e.name == *name)
                        || schema.as_deref() == Some("pg_catalog");
                    Ok(Mapped {
                        sql: if ty.array { format!("{base}[]") } else { base },
                        note: (!known).then(|| {
                            format!("the type `{name}` is not in the history: create it in the migration before the column")
                        }),
                    })
                }
                (Dialect::Mysql, Custom { mysql: Some(_), .. }) => Err(
                    "schema.rs does not hold an enum's or set's labels: write this column in the migration".to_string(),
                ),
                _ => Err(none()),
            };
        }
        let length = ty.max_length;
        let mut note = None;
        let base = match self.dialect {
            Dialect::Sqlite if !ty.array && !ty.unsigned => sqlite_sql(&ty.base, length),
            Dialect::Postgres if !ty.unsigned => postgres_sql(&ty.base, length),
            Dialect::Mysql if !ty.array => {
                let (sql, defaulted) = mysql_sql(&ty.base, length, ty.unsigned, self.widths);
                note = defaulted;
                sql
            }
            _ => None,
        };
        let base = base.ok_or_else(none)?;
        Ok(Mapped {
            sql: if ty.array { format!("{base}[]") } else { base },
            note,
        })
    }
}

/// Whether two columns have the same diesel type (nullability aside).
fn same_type(a: &ModelColumn, b: &ModelColumn) -> bool {
    let key = |c: &ModelColumn| match &c.custom {
        Some(Custom {
            postgres: Some((name, _)),
            ..
        }) => format!("postgres {name}"),
        _ => c.ty.base.clone(),
    };
    a.ty.array == b.ty.array
        && a.ty.unsigned == b.ty.unsigned
        && a.ty.max_length == b.ty.max_length
        && key(a) == key(b)
}

/// Whether `text` has `word` as a whole word (not inside a longer name).
fn mentions(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}

/// SQLite: the declared type diesel reads as `name`.
fn sqlite_sql(name: &str, length: Option<u64>) -> Option<String> {
    Some(
        match name {
            "SmallInt" | "Smallint" | "Int2" => "smallint",
            "Integer" | "Int4" => "integer",
            "BigInt" | "Bigint" | "Int8" => "bigint",
            "Bool" => "boolean",
            "Text" => "text",
            "Varchar" | "VarChar" => {
                return Some(length.map_or("text".into(), |n| format!("varchar({n})")))
            }
            "Char" | "Bpchar" => {
                return Some(length.map_or("text".into(), |n| format!("character({n})")))
            }
            "Float" | "Float4" => "real",
            "Double" | "Float8" => "double",
            "Numeric" | "Decimal" => "numeric",
            "Binary" | "Blob" | "Bytea" => "blob",
            "Timestamp" => "timestamp",
            "Date" => "date",
            "Time" => "time",
            _ => return None,
        }
        .to_string(),
    )
}

/// PostgreSQL: the type as `format_type` reports it.
fn postgres_sql(name: &str, length: Option<u64>) -> Option<String> {
    Some(
        match name {
            "SmallInt" | "Smallint" | "Int2" => "smallint",
            "Integer" | "Int4" => "integer",
            "BigInt" | "Bigint" | "Int8" => "bigint",
            "Bool" => "boolean",
            "Text" => "text",
            "Varchar" | "VarChar" => {
                return Some(length.map_or("character varying".into(), |n| {
                    format!("character varying({n})")
                }))
            }
            "Char" | "Bpchar" => return Some(format!("character({})", length.unwrap_or(1))),
            "Float" | "Float4" => "real",
            "Double" | "Float8" => "double precision",
            "Numeric" | "Decimal" => "numeric",
            "Binary" | "Bytea" | "Blob" => "bytea",
            "Timestamp" => "timestamp without time zone",
            "Timestamptz" => "timestamp with time zone",
            "Date" => "date",
            "Time" => "time without time zone",
            "Interval" => "interval",
            "Uuid" => "uuid",
            "Json" => "json",
            "Jsonb" => "jsonb",
            "Inet" => "inet",
            "Cidr" => "cidr",
            "MacAddr" | "Macaddr" => "macaddr",
            "MacAddr8" | "Macaddr8" => "macaddr8",
            "Money" => "money",
            "Oid" => "oid",
            "Citext" => "citext",
            "Int4range" | "Int8range" | "Numrange" | "Tsrange" | "Tstzrange" | "Daterange" => {
                return Some(name.to_ascii_lowercase())
            }
            _ => return None,
        }
        .to_string(),
    )
}

/// MySQL/MariaDB: the `COLUMN_TYPE` diesel reads as `name`, and the note
/// for a length or display width chosen here.
fn mysql_sql(
    name: &str,
    length: Option<u64>,
    unsigned: bool,
    widths: Option<bool>,
) -> (Option<String>, Option<String>) {
    let integer = match name {
        "TinyInt" | "Tinyint" => Some(("tinyint", 4, 3)),
        "SmallInt" | "Smallint" | "Int2" => Some(("smallint", 6, 5)),
        "Integer" | "Int4" => Some(("int", 11, 10)),
        "BigInt" | "Bigint" | "Int8" => Some(("bigint", 20, 20)),
        _ => None,
    };
    if let Some((base, signed_width, unsigned_width)) = integer {
        let width = if unsigned {
            unsigned_width
        } else {
            signed_width
        };
        let mut sql = match widths {
            Some(false) => base.to_string(),
            _ => format!("{base}({width})"),
        };
        if unsigned {
            sql.push_str(" unsigned");
        }
        let note = widths.is_none().then(|| {
            format!("no integer column of the history shows whether the server writes display widths: `{sql}`, as MariaDB reports it (MySQL 8 reports `{base}`)")
        });
        return (Some(sql), note);
    }
    if unsigned {
        return (None, None);
    }
    let sized = |base: &str| {
        match length {
        Some(n) => (Some(format!("{base}({n})")), None),
        None => (
            Some(format!("{base}(255)")),
            Some(format!(
                "{base} needs a length on MySQL and schema.rs gives none (#[max_length]): `{base}(255)`"
            )),
        ),
    }
    };
    let plain = |sql: &str| (Some(sql.to_string()), None);
    match name {
        "Bool" => plain("tinyint(1)"),
        "Text" => plain("text"),
        "Tinytext" | "Mediumtext" | "Longtext" | "Tinyblob" | "Blob" | "Mediumblob"
        | "Longblob" => plain(&name.to_ascii_lowercase()),
        "Varchar" | "VarChar" => sized("varchar"),
        "Char" => plain(&format!("char({})", length.unwrap_or(1))),
        "Binary" | "Bytea" => match length {
            Some(n) => plain(&format!("binary({n})")),
            None => plain("blob"),
        },
        "Varbinary" => sized("varbinary"),
        "Float" | "Float4" => plain("float"),
        "Double" | "Float8" => plain("double"),
        "Numeric" | "Decimal" => plain("decimal(10,0)"),
        "Timestamp" => plain("timestamp"),
        "Datetime" => plain("datetime"),
        "Date" => plain("date"),
        "Time" => plain("time"),
        "Json" => plain("json"),
        _ => (None, None),
    }
}

/// Whether a MySQL `COLUMN_TYPE` is an integer (not `tinyint(1)`, a Bool).
fn mysql_integer(ty: &str) -> bool {
    let base = ty.split(['(', ' ']).next().unwrap_or_default();
    ty != "tinyint(1)" && ["tinyint", "smallint", "mediumint", "int", "bigint"].contains(&base)
}

/// MySQL: whether the history's integer columns carry display widths
/// (`int(11)`: MariaDB, MySQL 5.7) or not (`int`: MySQL 8); `None` when
/// no column shows it.
fn mysql_widths(current: &Schema) -> Option<bool> {
    current
        .tables
        .iter()
        .flat_map(|t| t.columns.iter())
        .map(|c| c.data_type.as_str())
        .filter(|t| mysql_integer(t))
        .map(|t| t.contains('('))
        .next()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]

    use super::*;
    use alembix_runtime::schema::{Check, Definition, Enum, Index};

    fn column(name: &str, data_type: &str, nullable: bool) -> Column {
        let mut c = Column::default();
        c.name = name.to_string();
        c.data_type = data_type.to_string();
        c.nullable = nullable;
        c
    }

    fn with(mut c: Column, default: Option<&str>, extra: Option<&str>) -> Column {
        c.default = default.map(str::to_string);
        c.extra = extra.map(str::to_string);
        c
    }

    fn key(name: Option<&str>, columns: &[&str]) -> Key {
        let mut k = Key::default();
        k.name = name.map(str::to_string);
        k.columns = columns.iter().map(|c| c.to_string()).collect();
        k
    }

    fn table(name: &str, pk: Option<Key>, columns: Vec<Column>) -> Table {
        let mut t = Table::default();
        t.name = name.to_string();
        t.primary_key = pk;
        t.columns = columns;
        t
    }

    fn fk(name: Option<&str>, columns: &[&str], parent: &str, referenced: &[&str]) -> ForeignKey {
        let mut f = ForeignKey::default();
        f.name = name.map(str::to_string);
        f.columns = columns.iter().map(|c| c.to_string()).collect();
        f.referenced_table = parent.to_string();
        f.referenced_columns = referenced.iter().map(|c| c.to_string()).collect();
        f.on_delete = "cascade".to_string();
        f.on_update = "no action".to_string();
        f
    }

    fn index(name: &str, columns: &[&str]) -> Index {
        let mut i = Index::default();
        i.name = name.to_string();
        i.columns = columns.iter().map(|c| c.to_string()).collect();
        i
    }

    fn definition(name: &str, text: &str) -> Definition {
        let mut d = Definition::default();
        d.name = name.to_string();
        d.definition = text.to_string();
        d
    }

    fn schema(dialect: &str, tables: Vec<Table>) -> Schema {
        let mut s = Schema::default();
        s.dialect = dialect.to_string();
        s.tables = tables;
        s
    }

    /// A SQLite schema as the reader reports one: rowid key, composite
    /// key, a keyword column, a table without a key, a trigger.
    fn sqlite_current() -> Schema {
        let mut users = table(
            "users",
            Some(key(None, &["id"])),
            vec![
                column("id", "integer", true),
                with(column("email", "varchar(200)", false), Some("'x'"), None),
                column("type", "text", false),
                with(column("active", "boolean", false), Some("1"), None),
                column("joined_at", "timestamp", true),
                column("score", "real", true),
            ],
        );
        users.unique = vec![key(None, &["email"])];
        let mut check = Check::default();
        check.expression = "score >= 0".to_string();
        users.checks = vec![check];
        let mut posts = table(
            "posts",
            Some(key(None, &["id"])),
            vec![
                column("id", "integer", false),
                column("user_id", "integer", false),
                column("title", "varchar(100)", false),
                column("body", "blob", true),
            ],
        );
        posts.indexes = vec![index("ix_posts_title", &["title", "id desc"])];
        posts.foreign_keys = vec![fk(None, &["user_id"], "users", &["id"])];
        let mut tags = table(
            "post tags",
            Some(key(None, &["tag", "post_id"])),
            vec![
                column("post_id", "integer", false),
                column("tag", "text", false),
            ],
        );
        tags.foreign_keys = vec![fk(None, &["post_id"], "posts", &["id"])];
        let log = table("log", None, vec![column("line", "text", false)]);
        let mut s = schema("sqlite", vec![log, tags, posts, users]);
        s.triggers = vec![definition(
            "posts.touch",
            "CREATE TRIGGER touch AFTER UPDATE ON posts BEGIN SELECT 1; END",
        )];
        s
    }

    fn postgres_current() -> Schema {
        let mut authors = table(
            "authors",
            Some(key(Some("authors_pkey"), &["id"])),
            vec![
                with(
                    column("id", "integer", false),
                    None,
                    Some("identity by default"),
                ),
                column("email", "character varying(200)", false),
                column("code", "character(3)", true),
                column("mood", "mood", true),
                column("tags", "text[]", true),
                with(
                    column("at", "timestamp with time zone", false),
                    Some("now()"),
                    None,
                ),
                column("doc", "jsonb", false),
                column("uid", "uuid", false),
            ],
        );
        authors.indexes = vec![index("ix_authors_email", &["email"])];
        let mut books = table(
            "books",
            Some(key(Some("books_pkey"), &["id"])),
            vec![
                column("id", "bigint", false),
                column("author_id", "integer", false),
                column("price", "numeric(10,2)", true),
                column("at", "timestamp without time zone", true),
            ],
        );
        books.foreign_keys = vec![fk(
            Some("fk_books_author"),
            &["author_id"],
            "authors",
            &["id"],
        )];
        let shelf = table(
            "shelf",
            Some(key(Some("shelf_pkey"), &["book_id", "slot"])),
            vec![
                column("book_id", "bigint", false),
                column("slot", "smallint", false),
            ],
        );
        let raw = table("raw", None, vec![column("line", "text", false)]);
        let mut s = schema("postgresql", vec![authors, books, raw, shelf]);
        let mut mood = Enum::default();
        mood.name = "mood".to_string();
        mood.labels = vec!["happy".to_string(), "sad".to_string()];
        s.enums = vec![mood];
        s.functions = vec![definition("touch()", "CREATE FUNCTION touch() …")];
        s.triggers = vec![definition(
            "books.touch",
            "CREATE TRIGGER touch BEFORE UPDATE ON books FOR EACH ROW EXECUTE FUNCTION touch()",
        )];
        s
    }

    fn mysql_current() -> Schema {
        let mut a = table(
            "a",
            Some(key(None, &["id"])),
            vec![
                with(
                    column("id", "bigint(20) unsigned", false),
                    None,
                    Some("auto_increment"),
                ),
                column("flag", "tinyint(1)", false),
                column("n", "int(11)", true),
                column("name", "varchar(50)", false),
                column("state", "enum('on','off')", false),
                column("at", "datetime", false),
            ],
        );
        a.unique = vec![key(Some("uq_a_name"), &["name"])];
        let mut b = table(
            "b",
            Some(key(None, &["id", "a_id"])),
            vec![
                column("id", "int(11)", false),
                column("a_id", "bigint(20) unsigned", false),
            ],
        );
        b.indexes = vec![index("fk_b_a", &["a_id"])];
        b.foreign_keys = vec![fk(Some("fk_b_a"), &["a_id"], "a", &["id"])];
        let c = table(
            "c",
            Some(key(None, &["id"])),
            vec![
                column("id", "int(11)", false),
                column("b_id", "int(11)", true),
            ],
        );
        let mut s = schema("mysql", vec![a, b, c]);
        s.triggers = vec![definition(
            "a.touch",
            "BEFORE UPDATE FOR EACH ROW SET NEW.n = NEW.n",
        )];
        s
    }

    /// The overlay of `text` on `current`.
    fn overlay(text: &str, current: &Schema) -> Desired {
        desired_schema(text, "schema.rs", current).expect("overlays")
    }

    fn printed(current: &Schema) -> String {
        schema_rs(current).expect("prints").text
    }

    fn table_of<'a>(desired: &'a Desired, name: &str) -> &'a Table {
        desired.schema.table(name).expect("table")
    }

    fn column_of<'a>(desired: &'a Desired, table: &str, name: &str) -> &'a Column {
        table_of(desired, table)
            .columns
            .iter()
            .find(|c| c.name == name)
            .expect("column")
    }

    fn has_note(desired: &Desired, part: &str) -> bool {
        desired.notes.iter().any(|n| n.contains(part))
    }

    #[test]
    fn each_dialects_printed_schema_overlays_to_itself() {
        let cases = [
            (
                sqlite_current(),
                vec!["kept, not managed by schema.rs: trigger posts.touch"],
            ),
            (
                postgres_current(),
                vec![
                    "table `raw` has no primary key, so schema.rs cannot describe it: kept, not managed by schema.rs",
                    "kept, not managed by schema.rs: function touch(), trigger books.touch",
                ],
            ),
            (
                mysql_current(),
                vec!["kept, not managed by schema.rs: trigger a.touch"],
            ),
        ];
        for (current, notes) in cases {
            let text = printed(&current);
            let desired = overlay(&text, &current);
            assert_eq!(desired.schema, current, "{}", current.dialect);
            assert_eq!(desired.notes, notes, "{}", current.dialect);
        }
    }

    #[test]
    fn the_example_history_overlays_its_own_schema_rs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace");
        let migrator = alembix_runtime::Migrator::from_folder(
            root,
            "migrations",
            alembix_runtime::Config::default(),
        )
        .expect("the history");
        let mut scratch = alembix_runtime::schema::Scratch::in_memory().expect("scratch");
        let current = migrator
            .replay_schema(&mut scratch, "heads")
            .expect("replays");
        let text = std::fs::read_to_string(root.join("src/schema.rs")).expect("schema.rs");
        let desired = overlay(&text, &current);
        assert_eq!(desired.schema, current);
        assert!(
            desired
                .notes
                .iter()
                .all(|n| n.starts_with("kept, not managed") || n.contains("no primary key")),
            "{:?}",
            desired.notes
        );
    }

    const NEW_TABLE: &str = "
diesel::table! {
    events (id) {
        id -> Integer,
        #[max_length = 80]
        title -> Varchar,
        at -> Nullable<Timestamp>,
        done -> Bool,
    }
}
";

    #[test]
    fn a_new_table_gets_each_dialects_auto_increment() {
        for (current, id, title, extra, note) in [
            (
                sqlite_current(),
                "integer",
                "varchar(80)",
                None,
                "SQLite's rowid",
            ),
            (
                postgres_current(),
                "integer",
                "character varying(80)",
                Some("identity by default"),
                "GENERATED BY DEFAULT AS IDENTITY",
            ),
            (
                mysql_current(),
                "int(11)",
                "varchar(80)",
                Some("auto_increment"),
                "AUTO_INCREMENT",
            ),
        ] {
            let text = format!("{}{NEW_TABLE}", printed(&current));
            let desired = overlay(&text, &current);
            let events = table_of(&desired, "events");
            assert_eq!(events.primary_key, Some(key(None, &["id"])));
            let types: Vec<(&str, &str, bool)> = events
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.data_type.as_str(), c.nullable))
                .collect();
            let (timestamp, boolean) = match current.dialect.as_str() {
                "postgresql" => ("timestamp without time zone", "boolean"),
                "mysql" => ("timestamp", "tinyint(1)"),
                _ => ("timestamp", "boolean"),
            };
            assert_eq!(
                types,
                [
                    ("id", id, false),
                    ("title", title, false),
                    ("at", timestamp, true),
                    ("done", boolean, false)
                ]
            );
            assert_eq!(events.columns[0].extra.as_deref(), extra);
            assert!(has_note(&desired, note), "{:?}", desired.notes);
            // Everything else is as it was.
            let mut rest = desired.schema.clone();
            rest.tables.retain(|t| t.name != "events");
            assert_eq!(rest, current);
            // And the new schema prints back to what was asked.
            let again = overlay(&printed(&desired.schema), &desired.schema);
            assert_eq!(again.schema, desired.schema);
        }
    }

    #[test]
    fn a_mysql_varchar_without_a_length_gets_255_and_widths_follow_the_history() {
        let mut current = mysql_current();
        for t in &mut current.tables {
            for c in &mut t.columns {
                c.data_type = c
                    .data_type
                    .replace("int(11)", "int")
                    .replace("bigint(20)", "bigint");
            }
        }
        let text = format!(
            "{}diesel::table! {{ tags (id) {{ id -> BigInt, name -> Varchar, }} }}\n",
            printed(&current)
        );
        let desired = overlay(&text, &current);
        let tags = table_of(&desired, "tags");
        assert_eq!(tags.columns[0].data_type, "bigint");
        assert_eq!(tags.columns[1].data_type, "varchar(255)");
        assert!(has_note(&desired, "`varchar(255)`"), "{:?}", desired.notes);
    }

    #[test]
    fn a_table_only_in_the_history_is_removed_and_tables_without_a_key_are_kept() {
        let current = postgres_current();
        let text = printed(&current)
            .replace("diesel::joinable!(books -> authors (author_id));", "")
            .replace(
                "diesel::table! {\n    shelf (book_id, slot) {\n        book_id -> Int8,\n        slot -> Int2,\n    }\n}\n",
                "",
            )
            .replace("diesel::allow_tables_to_appear_in_same_query!(authors, books, shelf,);", "");
        let desired = overlay(&text, &current);
        assert!(desired.schema.table("shelf").is_none());
        assert_eq!(desired.schema.table("raw"), current.table("raw"));
        assert!(has_note(&desired, "table `shelf` is not in schema.rs"));
        assert!(has_note(&desired, "table `raw` has no primary key"));

        // Dropping the parent drops the foreign keys to it, and its triggers.
        let sqlite = sqlite_current();
        let text = printed(&sqlite)
            .replace("diesel::joinable!(posts -> users (user_id));\n", "")
            .replace("diesel::joinable!(post_tags -> posts (post_id));\n", "");
        let start = text.find("diesel::table! {\n    posts").expect("posts");
        let end = start + text[start..].find("}\n}\n").expect("end") + 4;
        let text = format!("{}{}", &text[..start], &text[end..]);
        let desired = overlay(&text, &sqlite);
        assert!(desired.schema.table("posts").is_none());
        assert!(table_of(&desired, "post tags").foreign_keys.is_empty());
        assert!(desired.schema.triggers.is_empty());
        assert!(has_note(
            &desired,
            "the foreign keys of `post tags` to `posts`"
        ));
    }

    #[test]
    fn columns_are_added_removed_retyped_and_made_nullable() {
        let current = postgres_current();
        let text = printed(&current)
            .replace(
                "        uid -> Uuid,\n",
                "        uid -> Uuid,\n        bio -> Text,\n        nick -> Nullable<Text>,\n",
            )
            .replace("        doc -> Jsonb,\n", "")
            .replace(
                "        author_id -> Int4,\n",
                "        author_id -> Int8,\n",
            )
            .replace(
                "        email -> Varchar,",
                "        email -> Nullable<Varchar>,",
            )
            .replace(
                "        price -> Nullable<Numeric>,",
                "        price -> Numeric,",
            );
        let desired = overlay(&text, &current);
        let names: Vec<&str> = table_of(&desired, "authors")
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["id", "email", "code", "mood", "tags", "at", "uid", "bio", "nick"]
        );
        assert!(!column_of(&desired, "authors", "bio").nullable);
        assert!(column_of(&desired, "authors", "nick").nullable);
        assert_eq!(column_of(&desired, "authors", "bio").data_type, "text");
        assert!(has_note(&desired, "`authors.bio` is added NOT NULL"));
        assert!(has_note(&desired, "`authors.doc` is not in schema.rs"));
        let author_id = column_of(&desired, "books", "author_id");
        assert_eq!(author_id.data_type, "bigint");
        let email = column_of(&desired, "authors", "email");
        assert!(email.nullable);
        assert_eq!(email.data_type, "character varying(200)");
        let price = column_of(&desired, "books", "price");
        assert!(!price.nullable);
        // The type is diesel's `Numeric` on both sides: the SQL type stays.
        assert_eq!(price.data_type, "numeric(10,2)");
        assert!(has_note(&desired, "`books.price` becomes NOT NULL"));
        // Unchanged columns keep their default and extra.
        assert_eq!(
            column_of(&desired, "authors", "id"),
            &current.table("authors").unwrap().columns[0]
        );

        // Dropping an indexed column drops its index.
        let text = printed(&current).replace(
            "        #[max_length = 200]\n        email -> Varchar,\n",
            "",
        );
        let desired = overlay(&text, &current);
        assert!(table_of(&desired, "authors").indexes.is_empty());

        // An alias of the same diesel type is no change.
        let text = printed(&current).replace("id -> Int4,", "id -> Integer,");
        assert_eq!(overlay(&text, &current).schema, current);
    }

    #[test]
    fn joinables_add_and_remove_foreign_keys() {
        let current = mysql_current();
        let text = printed(&current).replace(
            "diesel::allow_tables_to_appear_in_same_query!",
            "diesel::joinable!(c -> b (b_id));\n\ndiesel::allow_tables_to_appear_in_same_query!",
        );
        let desired = overlay(&text, &current);
        // `b`'s key has two columns: nothing to reference.
        assert_eq!(desired.schema, current);
        assert!(has_note(&desired, "no one-column primary key"));

        let current = postgres_current();
        let text = printed(&current).replace(
            "diesel::joinable!(books -> authors (author_id));",
            "diesel::joinable!(shelf -> books (book_id));",
        );
        let desired = overlay(&text, &current);
        assert!(table_of(&desired, "books").foreign_keys.is_empty());
        let shelf = table_of(&desired, "shelf");
        let mut expected = fk(None, &["book_id"], "books", &["id"]);
        expected.on_delete = "no action".to_string();
        assert_eq!(shelf.foreign_keys, [expected]);
        assert!(has_note(
            &desired,
            "`books.author_id` → `authors` has no joinable!"
        ));
        assert!(has_note(
            &desired,
            "joinable!(shelf -> books (book_id)): a new foreign key"
        ));
        // The result prints those joinables.
        let again = printed(&desired.schema);
        assert!(again.contains("diesel::joinable!(shelf -> books (book_id));"));
        assert!(!again.contains("books -> authors"));
    }

    #[test]
    fn a_varchar_length_change_is_a_type_change() {
        let current = postgres_current();
        let text = printed(&current).replace("#[max_length = 200]", "#[max_length = 320]");
        let desired = overlay(&text, &current);
        assert_eq!(
            column_of(&desired, "authors", "email").data_type,
            "character varying(320)"
        );
        assert!(has_note(
            &desired,
            "`character varying(200)` to `character varying(320)`"
        ));

        let current = mysql_current();
        let text = printed(&current).replace("#[max_length = 50]", "#[max_length = 60]");
        let desired = overlay(&text, &current);
        assert_eq!(column_of(&desired, "a", "name").data_type, "varchar(60)");

        // diesel reads no length on SQLite: `Varchar` is `Text` there, as now.
        let current = sqlite_current();
        let text = printed(&current).replace(
            "        title -> Text,",
            "        #[max_length = 120]\n        title -> Varchar,",
        );
        let desired = overlay(&text, &current);
        assert_eq!(desired.schema, current);
    }

    #[test]
    fn sql_names_are_the_tables_and_columns_names() {
        let current = sqlite_current();
        let text = printed(&current);
        assert!(text.contains("#[sql_name = \"post tags\"]"));
        assert!(text.contains("#[sql_name = \"type\"]"));
        let text = text
            .replace("        type_ -> Text,\n", "        type_ -> Text,\n        #[sql_name = \"first name\"]\n        first_name -> Nullable<Text>,\n")
            + "\ndiesel::table! {\n    #[sql_name = \"audit log\"]\n    audit (id) {\n        id -> Integer,\n        #[sql_name = \"fn\"]\n        fn_ -> Text,\n    }\n}\n";
        let desired = overlay(&text, &current);
        assert_eq!(column_of(&desired, "users", "first name").data_type, "text");
        let audit = table_of(&desired, "audit log");
        assert_eq!(audit.columns[1].name, "fn");
        // Nothing else changes: the renamed names matched their SQL names.
        let mut rest = desired.schema.clone();
        rest.tables.retain(|t| t.name != "audit log");
        for t in &mut rest.tables {
            t.columns.retain(|c| c.name != "first name");
        }
        assert_eq!(rest, current);
    }

    #[test]
    fn custom_types_map_back_to_their_sql_names() {
        let current = postgres_current();
        let text = printed(&current)
            .replace(
                "    pub struct Mood;\n",
                "    pub struct Mood;\n\n    #[derive(diesel::sql_types::SqlType)]\n    #[diesel(postgres_type(name = \"feel\"))]\n    pub struct Feel;\n",
            )
            .replace(
                "        at -> Nullable<Timestamp>,\n",
                "        at -> Nullable<Timestamp>,\n        moods -> Array<Nullable<super::sql_types::Mood>>,\n        feel -> Nullable<super::sql_types::Feel>,\n",
            );
        let desired = overlay(&text, &current);
        assert_eq!(column_of(&desired, "books", "moods").data_type, "mood[]");
        assert_eq!(column_of(&desired, "books", "feel").data_type, "feel");
        assert!(has_note(&desired, "the type `feel` is not in the history"));

        // MySQL's enum labels are not in schema.rs.
        let current = mysql_current();
        let text = printed(&current).replace(
            "        b_id -> Nullable<Integer>,\n",
            "        b_id -> Nullable<Integer>,\n        state -> AStateEnum,\n",
        );
        let text = text.replace(
            "    c (id) {",
            "    use diesel::sql_types::*;\n    use super::sql_types::AStateEnum;\n\n    c (id) {",
        );
        let error = desired_schema(&text, "schema.rs", &current).expect_err("fails");
        assert!(
            error.contains("`c.state`: schema.rs does not hold an enum's or set's labels"),
            "{error}"
        );
    }

    #[test]
    fn a_parse_error_names_the_file_line_and_column() {
        let current = sqlite_current();
        let text = "diesel::table! {\n    users (id) {\n        id Integer,\n    }\n}\n";
        let error = desired_schema(text, "schema.rs", &current).expect_err("fails");
        assert_eq!(error, "schema.rs:3:12: expected `->`");
        let text = "diesel::table! {\n    users (id) {\n        id -> Integer,\n    }\n}\ndiesel::joinable!(users -> guilds (guild_id));\n";
        let error = desired_schema(text, "src/schema.rs", &current).expect_err("fails");
        assert_eq!(
            error,
            "src/schema.rs:6:28: joinable! names `guilds`, which no table! declares"
        );
        let text = "diesel::table! {\n    t (nope) {\n        id -> Jsonb,\n    }\n}\n";
        let error = desired_schema(text, "schema.rs", &current).expect_err("fails");
        assert_eq!(
            error,
            "schema.rs:2:8: the primary key names `nope`, which is no column of `t`"
        );
        let text = "diesel::table! {\n    t (id) {\n        id -> Jsonb,\n    }\n}\n";
        let error = desired_schema(text, "schema.rs", &current).expect_err("fails");
        assert_eq!(
            error,
            "schema.rs:3:9: `t.id`: diesel reads no SQLite column as `Jsonb`: write this column in the migration"
        );
        let error = desired_schema("fn (", "schema.rs", &current).expect_err("fails");
        assert!(error.starts_with("schema.rs:1:"), "{error}");
    }
}
