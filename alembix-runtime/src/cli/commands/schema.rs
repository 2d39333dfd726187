//! `schema dump` and `schema diff`: the schema the history builds (replayed
//! into a scratch database) or a live database has, as normalised text or
//! JSON, and what differs between the two (exit `7` when anything does).
//!
//! The scratch database is SQLite in memory, unless `--dialect` or the
//! scheme of `--db` names a PostgreSQL or MySQL/MariaDB server: then it is
//! `alembix_scratch_<pid>_<n>`, created on that server and dropped
//! afterwards, on every path.

use crate::backend::Database;
use crate::cli::context::Context;
use crate::cli::failure::Failure;
use crate::cli::{DatabaseArg, DialectArg, Exit, JsonArg};
use crate::dialect::Dialect;
use crate::schema::{diff, Difference, Schema, Scratch};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

/// Arguments of `schema`.
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// What to do with the schema.
    #[command(subcommand)]
    pub action: SchemaAction,
}

/// `schema dump` or `schema diff`.
#[derive(Debug, Clone, Subcommand)]
pub enum SchemaAction {
    /// Print the schema the history builds (replayed into a scratch database), or with --live a database's.
    Dump(SchemaDumpArgs),
    /// Compare the schema the history builds with a live database's (exit 7 when they differ).
    Diff(SchemaDiffArgs),
}

/// Arguments of `schema dump`.
#[derive(Debug, Clone, Args)]
pub struct SchemaDumpArgs {
    /// Replay the history up to REV (any target `upgrade` takes) [default: heads].
    #[arg(long, value_name = "REV", conflicts_with = "live")]
    pub revision: Option<String>,
    /// Read the --db database itself instead of replaying the history (nothing is changed).
    #[arg(long)]
    pub live: bool,
    /// The scratch database's dialect: sqlite (in memory) or a server's, created on the --db server
    /// [default: the scheme of --db, else sqlite].
    #[arg(long, value_enum, conflicts_with = "live")]
    pub dialect: Option<DialectArg>,
    /// The database (`--db`, `--schema`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// Arguments of `schema diff`.
#[derive(Debug, Clone, Args)]
pub struct SchemaDiffArgs {
    /// The first side: the history replayed (`history`) or the --db database (`live`).
    #[arg(long, value_enum, default_value = "history")]
    pub from: Side,
    /// The second side.
    #[arg(long, value_enum, default_value = "live")]
    pub to: Side,
    /// The history side replays up to REV [default: heads].
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// The scratch database's dialect [default: the scheme of --db].
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// The database (`--db`, `--schema`).
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format (`--json`).
    #[command(flatten)]
    pub output: JsonArg,
}

/// A side of `schema diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Side {
    /// The history, replayed into a scratch database.
    History,
    /// The --db database.
    Live,
}

impl SchemaArgs {
    /// The `--db` argument of the action.
    pub(in crate::cli) fn db(&self) -> &DatabaseArg {
        match &self.action {
            SchemaAction::Dump(a) => &a.db,
            SchemaAction::Diff(a) => &a.db,
        }
    }

    /// The `--json` argument of the action.
    pub(in crate::cli) fn output(&self) -> JsonArg {
        match &self.action {
            SchemaAction::Dump(a) => a.output,
            SchemaAction::Diff(a) => a.output,
        }
    }

    /// The command's name, as typed.
    pub(in crate::cli) fn name(&self) -> &'static str {
        match &self.action {
            SchemaAction::Dump(_) => "schema dump",
            SchemaAction::Diff(_) => "schema diff",
        }
    }
}

/// The document of `schema dump`.
#[derive(Serialize)]
struct DumpDocument<'a> {
    command: &'static str,
    /// `history` or `live`.
    source: &'static str,
    /// The history's target (`heads` unless --revision); `null` for `live`.
    revision: Option<&'a str>,
    /// The live database's URL, password masked; `null` for `history`.
    database: Option<&'a str>,
    schema: &'a Schema,
}

/// The document of `schema diff`.
#[derive(Serialize)]
struct DiffDocument<'a> {
    command: &'static str,
    from: &'static str,
    to: &'static str,
    equal: bool,
    exit_code: u8,
    differences: &'a [Difference],
}

/// Runs `schema dump` or `schema diff`.
pub(super) fn run(ctx: &Context<'_>, args: &SchemaArgs) -> Result<Exit, Failure> {
    match &args.action {
        SchemaAction::Dump(args) => dump(ctx, args),
        SchemaAction::Diff(args) => compare(ctx, args),
    }
}

fn dump(ctx: &Context<'_>, args: &SchemaDumpArgs) -> Result<Exit, Failure> {
    let revision = args.revision.as_deref().unwrap_or("heads");
    let (schema, database) = if args.live {
        let mut db = ctx.connect(&args.db)?;
        let schema = ctx.migrator.inspect_schema(&mut db)?;
        (schema, Some(db.redacted_url().to_string()))
    } else {
        (replayed(ctx, &args.db, args.dialect, revision)?, None)
    };
    if ctx.json {
        ctx.out.json(&DumpDocument {
            command: ctx.name,
            source: if args.live { "live" } else { "history" },
            revision: (!args.live).then_some(revision),
            database: database.as_deref(),
            schema: &schema,
        });
    } else {
        ctx.out.print(schema.text());
    }
    Ok(Exit::Success)
}

fn compare(ctx: &Context<'_>, args: &SchemaDiffArgs) -> Result<Exit, Failure> {
    let revision = args.revision.as_deref().unwrap_or("heads");
    let read = |side: Side| -> Result<(Schema, String), Failure> {
        match side {
            Side::History => Ok((
                replayed(ctx, &args.db, args.dialect, revision)?,
                format!("history ({revision})"),
            )),
            Side::Live => {
                let mut db = ctx.connect(&args.db)?;
                let schema = ctx.migrator.inspect_schema(&mut db)?;
                Ok((schema, format!("live ({})", db.redacted_url())))
            }
        }
    };
    let (from, from_label) = read(args.from)?;
    let (to, to_label) = read(args.to)?;
    let differences = diff(&from, &to);
    let exit = if differences.is_empty() {
        Exit::Success
    } else {
        Exit::SchemaDrift
    };
    if ctx.json {
        let name = |side: Side| match side {
            Side::History => "history",
            Side::Live => "live",
        };
        ctx.out.json(&DiffDocument {
            command: ctx.name,
            from: name(args.from),
            to: name(args.to),
            equal: differences.is_empty(),
            exit_code: exit.code(),
            differences: &differences,
        });
    } else if !differences.is_empty() {
        ctx.out.line(format_args!("--- {from_label}"));
        ctx.out.line(format_args!("+++ {to_label}"));
        for d in &differences {
            ctx.out.line(d.line());
        }
    }
    Ok(exit)
}

/// The schema the history builds up to `revision`, replayed into a scratch
/// database (dropped before this returns).
pub(in crate::cli) fn replayed(
    ctx: &Context<'_>,
    db: &DatabaseArg,
    dialect: Option<DialectArg>,
    revision: &str,
) -> Result<Schema, Failure> {
    let url = ctx.migrations.database_url(db.url.as_deref());
    if let Some(url) = &url {
        // A string that is no URL this binary accepts is refused, as by
        // every command, not taken for "no server".
        Database::driver_url(url)?;
    }
    let of_url = url.as_deref().and_then(Dialect::of_url);
    let dialect = match (dialect.map(Dialect::from), of_url) {
        (Some(d), _) => d,
        (None, Some(d)) => d,
        (None, None) => {
            if ctx.migrator.check_dialect(Dialect::Sqlite).is_err() {
                return Err(Failure::usage(format!(
                    "`{}` replays the history into a scratch database, in memory with SQLite, but this history is written for {}: pass --db URL of a server of one of them to create the scratch database on (it is dropped afterwards)",
                    ctx.name,
                    ctx.migrator.dialects()
                )));
            }
            Dialect::Sqlite
        }
    };
    ctx.migrator.check_dialect(dialect)?;
    let mut scratch = match dialect {
        Dialect::Sqlite => Scratch::in_memory()?,
        server => match url.filter(|u| Dialect::of_url(u) == Some(server)) {
            Some(url) => Scratch::on_server(&url)?,
            None => {
                return Err(Failure::usage(format!(
                    "`{}` replays the history into a scratch {} database: pass --db URL of a {} server to create it on (it is dropped afterwards)",
                    ctx.name,
                    server.name(),
                    server.name()
                )))
            }
        },
    };
    let schema = ctx.migrator.replay_schema(&mut scratch, revision)?;
    scratch.remove()?;
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::json_writer;
    use crate::schema::{Column, Table};

    #[test]
    fn the_documents_keep_their_field_names() {
        let schema = Schema {
            dialect: "sqlite".to_string(),
            tables: vec![Table {
                name: "t".to_string(),
                columns: vec![Column {
                    name: "id".to_string(),
                    data_type: "integer".to_string(),
                    ..Column::default()
                }],
                ..Table::default()
            }],
            ..Schema::default()
        };
        let dump = DumpDocument {
            command: "schema dump",
            source: "history",
            revision: Some("heads"),
            database: None,
            schema: &schema,
        };
        let text: String = json_writer::text(&dump).split_whitespace().collect();
        assert_eq!(
            text,
            r#"{"command":"schemadump","source":"history","revision":"heads","database":null,"schema":{"dialect":"sqlite","tables":[{"name":"t","columns":[{"name":"id","type":"integer","nullable":false,"default":null,"extra":null}],"primary_key":null,"unique":[],"indexes":[],"foreign_keys":[],"checks":[]}],"views":[],"enums":[],"sequences":[],"functions":[],"triggers":[]}}"#
        );
        let differences = [
            Difference::Context("table t".to_string()),
            Difference::Added("  index ix (id)".to_string()),
        ];
        let document = DiffDocument {
            command: "schema diff",
            from: "history",
            to: "live",
            equal: false,
            exit_code: Exit::SchemaDrift.code(),
            differences: &differences,
        };
        let text: String = json_writer::text(&document).split_whitespace().collect();
        assert_eq!(
            text,
            r#"{"command":"schemadiff","from":"history","to":"live","equal":false,"exit_code":7,"differences":[{"kind":"context","line":"tablet"},{"kind":"added","line":"indexix(id)"}]}"#
        );
    }
}
