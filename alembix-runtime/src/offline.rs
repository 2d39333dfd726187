//! Offline SQL (Alembic's `--sql`): the exact script an upgrade, downgrade or
//! stamp would run, version-table and history statements included, for a DBA
//! to review or run by hand. No connection is made; the start is given.
//!
//! The shape follows Alembic's (`shared/alembic/SEMANTICS.md` §12): each
//! statement ends with `;` and a blank line, each step is introduced by
//! `-- Running upgrade <from> -> <to>`, and starting from an empty database
//! the version table's `CREATE TABLE` comes first. Transactions follow the
//! [`Config`](crate::Config) and the dialect as the online run would:
//! `BEGIN;`/`COMMIT;` around each step (or once around everything with
//! [`RunTransaction::WholeRun`]) on
//! PostgreSQL and SQLite, none on MySQL/MariaDB and none around a
//! `-- transaction: none` migration. The history table is created with
//! `IF NOT EXISTS` (the script may be run against an Alembic-only database) and
//! gets one row per step, without a duration.
//!
//! With a target schema ([`Config::target_schema`](crate::Config::target_schema)) the script
//! then creates it if missing and points the session at it (`CREATE SCHEMA IF
//! NOT EXISTS` + `SET search_path TO`, `CREATE DATABASE IF NOT EXISTS` + `USE`),
//! before anything else.
//!
//! A migration with a `lock_timeout` or `statement_timeout` (its header, or
//! the `Config`) sets them before its statements as the online run does:
//! `SET LOCAL` inside its transaction on PostgreSQL; for the session on
//! MySQL/MariaDB and around a `-- transaction: none` migration, set back to
//! the server's default after it. A script does not retry: a statement that
//! times out stops it (`psql -v ON_ERROR_STOP=1`), and it can be run again.
//!
//! What differs from the online run: no lock is taken, nothing is checked
//! against the database (drift, unknown revisions), and on MySQL/MariaDB the
//! per-statement progress rows are not written.
//!
//! The script is written for the dialect's own client (`sqlite3`,
//! `psql -v ON_ERROR_STOP=1`, `mysql`/`mariadb`) to run as is:
//!
//! - it declares its encoding first: `SET client_encoding = 'UTF8'` on
//!   PostgreSQL, `SET NAMES utf8mb4` on MySQL/MariaDB (so a 4-byte character,
//!   an emoji, in a message or in data arrives whole);
//! - a statement that ends in a line comment gets its `;` on the next line,
//!   where the comment cannot swallow it;
//! - on MySQL/MariaDB, a statement with a `;` inside (a trigger, procedure,
//!   function or event with a `BEGIN … END` body) is wrapped in `DELIMITER`
//!   lines, with a delimiter that does not occur in it, because the client
//!   cuts at every `;` otherwise.
//!
//! The `mysql`/`mariadb` client drops comments before it sends a statement
//! unless it runs with `--comments`: the database is then the same as after
//! the online run except for the comments inside trigger and routine bodies.

use crate::config::RunTransaction;
use crate::dialect::{operation, state, Dialect, HistoryInsert, Sql};
use crate::error::{Direction, Error, Result};
use crate::migrator::{apply_to_rows, Migrator};
use crate::planning::{self, PlannedStep};
use alembix_core::sql::{ends_in_line_comment, has_semicolon};
use alembix_core::{MigrationFile, SqlDialect, TransactionMode};

/// What an offline script is for. Ranges are Alembic's `start:target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfflineCommand<'a> {
    /// `upgrade [start:]target`: without a start, from an empty database.
    Upgrade(&'a str),
    /// `downgrade start:target`: the start is required.
    Downgrade(&'a str),
    /// `stamp [start:]target`.
    Stamp(&'a str),
}

impl Migrator {
    /// The script `command` would run on `dialect`; no connection needed.
    ///
    /// ```
    /// # use alembix_runtime::{Config, Dialect, Migrator, OfflineCommand};
    /// # let set = alembix_runtime::core::MigrationSet::from_sources(&[], &Default::default()).unwrap();
    /// let migrator = Migrator::new(set, Config::default()).unwrap();
    /// let script = migrator.offline_sql(Dialect::Postgres, OfflineCommand::Upgrade("heads")).unwrap();
    /// assert!(script.contains("CREATE TABLE \"alembic_version\""));
    /// ```
    pub fn offline_sql(&self, dialect: Dialect, command: OfflineCommand<'_>) -> Result<String> {
        self.check_dialect(dialect)?;
        let sql = Sql::new(dialect, self.tables());
        let graph = self.set()?.graph();
        let (plan, steps) = match command {
            OfflineCommand::Upgrade(range) => planning::upgrade_offline(graph, range)?,
            OfflineCommand::Downgrade(range) => planning::downgrade_offline(graph, range)?,
            OfflineCommand::Stamp(range) => planning::stamp_offline(graph, &[range])?,
        };
        let whole_run = self.config().transaction == RunTransaction::WholeRun;
        if whole_run && !dialect.transactional_ddl() {
            return Err(Error::Unsupported(format!(
                "RunTransaction::WholeRun needs transactional DDL, which {} does not have",
                dialect.name()
            )));
        }
        let mut script = Script::new(dialect.sql_dialect());
        match dialect {
            Dialect::Postgres => script.statement("SET client_encoding = 'UTF8'"),
            Dialect::Mysql => script.statement("SET NAMES utf8mb4"),
            Dialect::Sqlite => {}
        }
        // The target schema, as the online run points its session at it
        // (created there only if missing; here always `IF NOT EXISTS`).
        if let Some(target) = &self.tables().target {
            let quoted = dialect.quote(target);
            match dialect {
                Dialect::Postgres => {
                    script.statement(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"));
                    script.statement(&format!("SET search_path TO {quoted}"));
                }
                Dialect::Mysql => {
                    script.statement(&format!("CREATE DATABASE IF NOT EXISTS {quoted}"));
                    script.statement(&format!("USE {quoted}"));
                }
                Dialect::Sqlite => {
                    return Err(Error::Unsupported(format!(
                        "target_schema ({target}) is a PostgreSQL schema or a MySQL/MariaDB database; a SQLite script has neither: leave target_schema unset"
                    )))
                }
            }
        }
        if whole_run {
            script.statement("BEGIN");
        }
        // Starting from an empty database, Alembic creates its table first.
        if plan.create_table || steps.iter().any(|s| s.create_table) {
            script.statement(&sql.create_version_table(false));
        }
        script.statement(&sql.create_history_table());
        let mut rows = plan.rows_before.clone();
        for step in &steps {
            apply_to_rows(&mut rows, step);
            let digest = self.digest_of(&rows, dialect.sql_dialect());
            self.emit_step(&sql, step, whole_run, digest.as_deref(), &mut script)?;
        }
        if whole_run {
            script.statement("COMMIT");
        }
        Ok(script.out)
    }

    fn emit_step(
        &self,
        sql: &Sql,
        step: &PlannedStep,
        whole_run: bool,
        digest: Option<&str>,
        script: &mut Script,
    ) -> Result<()> {
        let set = self.set()?;
        let graph = set.graph();
        let file = step.revision.map(|i| set.file(i));
        let dialect = sql.dialect.sql_dialect();
        if let (Some(f), false) = (file, step.stamp) {
            if let Some(error) = unrunnable(f, step.direction, sql.dialect) {
                return Err(error);
            }
        }
        let statements = match (file, step.stamp, step.direction) {
            (Some(f), false, Direction::Upgrade) => f.upgrade.statements(dialect),
            (Some(f), false, Direction::Downgrade) => match &f.downgrade {
                Some(d) => d.statements(dialect),
                None => {
                    return Err(Error::Irreversible {
                        revision: f.revision.clone(),
                        file: f.file.clone(),
                    })
                }
            },
            _ => &[],
        };
        let non_tx = file.is_some_and(|f| f.transaction == TransactionMode::None);
        if whole_run && non_tx && !step.stamp {
            if let Some(f) = file {
                return Err(Error::Unsupported(format!(
                    "revision {} ({}) is marked `-- transaction: none`; it cannot run inside RunTransaction::WholeRun",
                    f.revision, f.file
                )));
            }
        }
        let own_transaction =
            !whole_run && sql.dialect.transactional_ddl() && (step.stamp || !non_tx);
        if own_transaction {
            script.statement("BEGIN");
        }
        let (from, to, verb) = match (step.stamp, step.direction, step.revision) {
            (true, _, _) => (step.remove.join(","), step.add.join(","), "stamp_revision"),
            (false, Direction::Upgrade, Some(i)) => (
                graph.ids(&graph.rev(i).down).join(","),
                graph.rev(i).id.clone(),
                "upgrade",
            ),
            (false, Direction::Downgrade, Some(i)) => (
                graph.rev(i).id.clone(),
                graph.ids(&graph.rev(i).down).join(","),
                "downgrade",
            ),
            (false, _, None) => (String::new(), String::new(), "stamp_revision"),
        };
        script.comment(&format!("-- Running {verb} {from} -> {to}"));
        // The migration's timeouts: for its transaction (`SET LOCAL`), else
        // for the session and set back after it.
        let timeouts = file
            .filter(|_| !step.stamp)
            .map(|f| self.step_timeouts(f, sql.dialect))
            .unwrap_or_default();
        let local = own_transaction || whole_run;
        for statement in sql.dialect.set_timeouts(timeouts, local) {
            script.statement(&statement);
        }
        for statement in statements {
            script.migration_statement(&statement.sql);
        }
        if !own_transaction {
            for statement in sql.dialect.reset_timeouts(timeouts, None, local) {
                script.statement(&statement);
            }
        }
        let (remove, add) = crate::migrator::net_change(step);
        for statement in sql.version_changes(&remove, &add) {
            script.statement(&statement);
        }
        let mut history = |idx: usize, op: &str, st: &str, total: usize| {
            let rev = graph.rev(idx);
            let f = set.file(idx);
            script.statement(&sql.insert_history(&HistoryInsert {
                revision: &rev.id,
                down_revisions: &graph.ids(&rev.down).join(","),
                depends_on: &graph.ids(&rev.deps).join(","),
                operation: op,
                state: st,
                checksum: f.checksum(sql.dialect.sql_dialect()).as_str(),
                statements_done: total,
                statements_total: total,
                duration_ms: None,
                message: &f.message,
                detail: None,
                applied_digest: digest,
            }));
        };
        if step.stamp {
            for a in &add {
                if let Some(i) = graph.index_of(a) {
                    history(i, operation::STAMP, state::STAMPED, 0);
                }
            }
            for r in &remove {
                if let Some(i) = graph.index_of(r) {
                    history(i, operation::STAMP, state::UNSTAMPED, 0);
                }
            }
        } else if let Some(i) = step.revision {
            let (op, st) = match step.direction {
                Direction::Upgrade => (operation::UPGRADE, state::APPLIED),
                Direction::Downgrade => (operation::DOWNGRADE, state::REVERTED),
            };
            history(i, op, st, statements.len());
        }
        if own_transaction {
            script.statement("COMMIT");
        }
        Ok(())
    }
}

/// The error for a step whose section `dialect` reads as ending inside a
/// string, quoted name, comment or dollar-quoted body (see
/// [`alembix_core::sql::Unterminated`]); `None` when it can run. Checked for
/// every step of a run before its first statement, online and offline.
pub(crate) fn unrunnable(
    file: &MigrationFile,
    direction: Direction,
    dialect: Dialect,
) -> Option<Error> {
    let (section, name) = match direction {
        Direction::Upgrade => (Some(&file.upgrade), "upgrade"),
        Direction::Downgrade => (file.downgrade.as_ref(), "downgrade"),
    };
    let open = section?.unterminated(dialect.sql_dialect())?;
    Some(Error::Unsupported(format!(
        "revision {} ({}:{}) cannot run on {}: its {name} section ends inside {} there, never closed{}. Nothing was run; fix the file (a new revision if this one was applied elsewhere)",
        file.revision,
        file.file,
        open.line,
        dialect.name(),
        open.unclosed,
        if dialect == Dialect::Mysql {
            " (MySQL/MariaDB read a backslash as escaping the character after it: write `\\\\` for a backslash)"
        } else {
            ""
        }
    )))
}

/// The script being written: statements end with `;` and a blank line.
struct Script {
    out: String,
    dialect: SqlDialect,
}

impl Script {
    fn new(dialect: SqlDialect) -> Self {
        Script {
            out: String::new(),
            dialect,
        }
    }

    /// A statement the runtime writes itself (never a comment at its end, no
    /// `;` inside).
    fn statement(&mut self, text: &str) {
        self.out.push_str(text.trim_end());
        self.out.push_str(";\n\n");
    }

    /// A statement of a migration, ended so that the dialect's client sends
    /// it whole (see the module docs).
    fn migration_statement(&mut self, text: &str) {
        let text = text.trim_end();
        if self.dialect == SqlDialect::Mysql && has_semicolon(text, self.dialect) {
            let delimiter = delimiter_for(text);
            self.out.push_str(&format!(
                "DELIMITER {delimiter}\n{text}\n{delimiter}\nDELIMITER ;\n\n"
            ));
        } else if ends_in_line_comment(text, self.dialect) {
            self.out.push_str(text);
            self.out.push_str("\n;\n\n");
        } else {
            self.statement(text);
        }
    }

    fn comment(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push_str("\n\n");
    }
}

/// A `mysql` client delimiter that does not occur in `text`: `//`, or more
/// slashes.
fn delimiter_for(text: &str) -> String {
    let mut delimiter = "//".to_string();
    while text.contains(&delimiter) {
        delimiter.push('/');
    }
    delimiter
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(dialect: SqlDialect, statements: &[&str]) -> String {
        let mut script = Script::new(dialect);
        for statement in statements {
            script.migration_statement(statement);
        }
        script.out
    }

    #[test]
    fn each_statement_ends_where_its_client_sees_the_end() {
        let cases: &[(SqlDialect, &str, &str)] = &[
            (SqlDialect::Sqlite, "SELECT 1", "SELECT 1;\n\n"),
            (SqlDialect::Sqlite, "SELECT 1 -- why", "SELECT 1 -- why\n;\n\n"),
            (SqlDialect::Postgres, "SELECT '--'", "SELECT '--';\n\n"),
            (SqlDialect::Mysql, "SELECT 1 # why", "SELECT 1 # why\n;\n\n"),
            (SqlDialect::Mysql, "SELECT 1 --1", "SELECT 1 --1;\n\n"),
            (SqlDialect::Postgres, "SELECT 1 # 2", "SELECT 1 # 2;\n\n"),
            (
                SqlDialect::Mysql,
                "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END",
                "DELIMITER //\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END\n//\nDELIMITER ;\n\n",
            ),
            (
                SqlDialect::Mysql,
                "CREATE PROCEDURE p() BEGIN SELECT '//'; END -- done",
                "DELIMITER ///\nCREATE PROCEDURE p() BEGIN SELECT '//'; END -- done\n///\nDELIMITER ;\n\n",
            ),
            (SqlDialect::Mysql, "SELECT ';'", "SELECT ';';\n\n"),
            (
                SqlDialect::Sqlite,
                "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END",
                "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;\n\n",
            ),
        ];
        for (dialect, statement, expected) in cases {
            assert_eq!(
                written(*dialect, &[statement]),
                *expected,
                "{dialect}: {statement}"
            );
        }
    }
}
