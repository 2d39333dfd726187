//! The one history every contender runs: N small, realistic migrations, and the
//! writers that put it in each contender's form (this project's `.sql` files, an
//! Alembic `versions/` folder, diesel_migrations, sqlx and refinery folders, the
//! floor's scripts).
//!
//! Migration `i` creates table `t<i>` (five columns) and an index on it and, from
//! the second migration on, adds a column to an earlier table (`t<i/2>`); its
//! downgrade undoes the three in reverse. The SQL is the same text for every
//! contender and runs unchanged on SQLite (3.35+) and PostgreSQL; MySQL/MariaDB
//! gets its own [`Form`], differing only in `DROP INDEX … ON <table>`. The
//! history is a single chain, so diesel_migrations, sqlx and refinery (which
//! have no graph) run it too.

use super::db::Backend;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// Bumped whenever the generated text changes, so cached folders are rewritten.
pub const GENERATOR_VERSION: &str = "bench-history-1";

/// The `create_date` every generated migration carries (fixed: reproducible files).
const CREATE_DATE: &str = "2026-01-01 00:00:00";

/// The SQL spelling of a generated history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Form {
    /// SQLite and PostgreSQL: `DROP INDEX <name>`.
    Standard,
    /// MySQL/MariaDB: `DROP INDEX <name> ON <table>`.
    Mysql,
}

impl Form {
    /// The form `backend` runs.
    pub fn of(backend: Backend) -> Form {
        match backend {
            Backend::Sqlite | Backend::Postgres => Form::Standard,
            Backend::Mysql => Form::Mysql,
        }
    }

    /// Its tag in generated names: empty for [`Form::Standard`], `my` else.
    pub fn tag(self) -> &'static str {
        match self {
            Form::Standard => "",
            Form::Mysql => "my",
        }
    }
}

/// One generated migration, in no contender's form yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// 0-based position in the chain.
    pub index: usize,
    /// The revision id: twelve hex digits, as Alembic makes them.
    pub revision: String,
    /// The previous migration's id; `None` for the first.
    pub down_revision: Option<String>,
    /// One line saying what it does.
    pub message: String,
    /// Upgrade statements, without the trailing `;`.
    pub upgrade: Vec<String>,
    /// Downgrade statements (the upgrade undone in reverse), without the `;`.
    pub downgrade: Vec<String>,
}

impl Migration {
    /// `t000042`: the table migration `index` creates.
    fn table(index: usize) -> String {
        format!("t{index:06}")
    }

    /// A short name for file and folder names: `000042_create_t000042`.
    pub fn slug(&self) -> String {
        format!("{:06}_create_{}", self.index, Migration::table(self.index))
    }
}

/// The revision id of migration `index`: unique (a bijection of the index) and
/// scattered like Alembic's random ids, so prefixes do not line up with order.
pub fn revision(index: usize) -> String {
    const MASK: u64 = (1 << 48) - 1;
    // Multiplying by an odd constant is a bijection modulo 2^48.
    let mixed = (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) & MASK;
    format!("{mixed:012x}")
}

/// The first `n` migrations of the chain, in the standard form.
pub fn history(n: usize) -> Vec<Migration> {
    history_in(n, Form::Standard)
}

/// The first `n` migrations of the chain, spelled for `form`.
pub fn history_in(n: usize, form: Form) -> Vec<Migration> {
    (0..n).map(|i| migration(i, form)).collect()
}

fn migration(index: usize, form: Form) -> Migration {
    let table = Migration::table(index);
    let mut upgrade = vec![
        format!(
            "CREATE TABLE {table} (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT NULL,\n    email VARCHAR(200),\n    score INTEGER NOT NULL DEFAULT 0,\n    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n)"
        ),
        format!("CREATE INDEX ix_{table}_name ON {table} (name)"),
    ];
    let drop_index = match form {
        Form::Standard => format!("DROP INDEX ix_{table}_name"),
        Form::Mysql => format!("DROP INDEX ix_{table}_name ON {table}"),
    };
    let mut downgrade = vec![drop_index, format!("DROP TABLE {table}")];
    let mut message = format!("create {table}");
    if index > 0 {
        let earlier = Migration::table(index / 2);
        let column = format!("note_{index:06}");
        upgrade.push(format!(
            "ALTER TABLE {earlier} ADD COLUMN {column} VARCHAR(50)"
        ));
        downgrade.insert(0, format!("ALTER TABLE {earlier} DROP COLUMN {column}"));
        let _ = write!(message, ", add {earlier}.{column}");
    }
    Migration {
        index,
        revision: revision(index),
        down_revision: index.checked_sub(1).map(revision),
        message,
        upgrade,
        downgrade,
    }
}

/// Statements as a script: each followed by `;` and a newline.
fn script(statements: &[String]) -> String {
    let mut out = String::new();
    for s in statements {
        out.push_str(s);
        out.push_str(";\n");
    }
    out
}

/// This project's file for `m` (format: `alembix_core::file`).
pub fn ours_file(m: &Migration) -> (String, String) {
    let name = format!("{}_{}.sql", m.slug(), m.revision);
    let text = format!(
        "-- revision: {}\n-- down_revision: {}\n-- message: {}\n-- create_date: {CREATE_DATE}\n\n-- migrate:upgrade\n{}\n-- migrate:downgrade\n{}",
        m.revision,
        m.down_revision.as_deref().unwrap_or("none"),
        m.message,
        script(&m.upgrade),
        script(&m.downgrade),
    );
    (name, text)
}

/// An Alembic revision module for `m`, as `alembic revision` lays them out,
/// running the same SQL with one `op.execute` per statement.
pub fn alembic_file(m: &Migration) -> (String, String) {
    let name = format!("{}_{}.py", m.revision, m.slug());
    let body = |statements: &[String]| {
        let mut out = String::new();
        for s in statements {
            let _ = writeln!(out, "    op.execute(\n        \"\"\"{s}\"\"\"\n    )");
        }
        out
    };
    let down = match &m.down_revision {
        Some(d) => format!("\"{d}\""),
        None => "None".to_string(),
    };
    let text = format!(
        "\"\"\"{message}\n\nRevision ID: {rev}\nRevises: {revises}\nCreate Date: {CREATE_DATE}\n\n\"\"\"\nfrom typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n\n# revision identifiers, used by Alembic.\nrevision: str = \"{rev}\"\ndown_revision: Union[str, Sequence[str], None] = {down}\nbranch_labels: Union[str, Sequence[str], None] = None\ndepends_on: Union[str, Sequence[str], None] = None\n\n\ndef upgrade() -> None:\n    \"\"\"Upgrade schema.\"\"\"\n{up_body}\n\ndef downgrade() -> None:\n    \"\"\"Downgrade schema.\"\"\"\n{down_body}",
        message = m.message,
        rev = m.revision,
        revises = m.down_revision.as_deref().unwrap_or(""),
        up_body = body(&m.upgrade),
        down_body = body(&m.downgrade),
    );
    (name, text)
}

/// Writes this project's files for `history` into `dir` (which must exist).
pub fn write_ours(dir: &Path, history: &[Migration]) -> std::io::Result<()> {
    for m in history {
        let (name, text) = ours_file(m);
        fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// Writes the Alembic revision modules for `history` into `dir` (which must exist).
pub fn write_alembic(dir: &Path, history: &[Migration]) -> std::io::Result<()> {
    for m in history {
        let (name, text) = alembic_file(m);
        fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// Writes the diesel_migrations folder for `history` into `dir` (which must
/// exist): `<version>_<name>/up.sql` and `down.sql`, versions zero-padded so
/// diesel's string order is the chain's order.
pub fn write_diesel(dir: &Path, history: &[Migration]) -> std::io::Result<()> {
    for m in history {
        let sub = dir.join(m.slug());
        fs::create_dir_all(&sub)?;
        fs::write(sub.join("up.sql"), script(&m.upgrade))?;
        fs::write(sub.join("down.sql"), script(&m.downgrade))?;
    }
    Ok(())
}

/// The sqlx version of `m`: its position from 1 (sqlx's `undo` to 0 reverts
/// every version above 0).
fn sqlx_version(m: &Migration) -> usize {
    m.index + 1
}

/// Writes the sqlx folder for `history` into `dir` (which must exist):
/// reversible migrations, `<version>_create_t<i>.up.sql` and `.down.sql`.
pub fn write_sqlx(dir: &Path, history: &[Migration]) -> std::io::Result<()> {
    for m in history {
        let stem = format!(
            "{:06}_create_{}",
            sqlx_version(m),
            Migration::table(m.index)
        );
        fs::write(dir.join(format!("{stem}.up.sql")), script(&m.upgrade))?;
        fs::write(dir.join(format!("{stem}.down.sql")), script(&m.downgrade))?;
    }
    Ok(())
}

/// Writes the refinery folder for `history` into `dir` (which must exist):
/// `V<version>__create_t<i>.sql`, upgrades only (refinery has no downgrade).
pub fn write_refinery(dir: &Path, history: &[Migration]) -> std::io::Result<()> {
    for m in history {
        let name = format!(
            "V{}__create_{}.sql",
            sqlx_version(m),
            Migration::table(m.index)
        );
        fs::write(dir.join(name), script(&m.upgrade))?;
    }
    Ok(())
}

/// Alembic's version table, as Alembic and this project create it.
const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS alembic_version (\n    version_num VARCHAR(32) NOT NULL,\n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n";

/// The floor's upgrade script: the version table, then per migration one
/// transaction holding its statements and its version-table update.
pub fn floor_upgrade(history: &[Migration]) -> String {
    let mut out = String::from(VERSION_TABLE);
    for m in history {
        out.push_str("BEGIN;\n");
        out.push_str(&script(&m.upgrade));
        match &m.down_revision {
            None => {
                let _ = writeln!(
                    out,
                    "INSERT INTO alembic_version (version_num) VALUES ('{}');",
                    m.revision
                );
            }
            Some(down) => {
                let _ = writeln!(
                    out,
                    "UPDATE alembic_version SET version_num = '{}' WHERE version_num = '{down}';",
                    m.revision
                );
            }
        }
        out.push_str("COMMIT;\n");
    }
    out
}

/// The floor's downgrade script: newest first, one transaction per migration
/// with its version-table update.
pub fn floor_downgrade(history: &[Migration]) -> String {
    let mut out = String::new();
    for m in history.iter().rev() {
        out.push_str("BEGIN;\n");
        out.push_str(&script(&m.downgrade));
        match &m.down_revision {
            None => {
                let _ = writeln!(
                    out,
                    "DELETE FROM alembic_version WHERE version_num = '{}';",
                    m.revision
                );
            }
            Some(down) => {
                let _ = writeln!(
                    out,
                    "UPDATE alembic_version SET version_num = '{down}' WHERE version_num = '{}';",
                    m.revision
                );
            }
        }
        out.push_str("COMMIT;\n");
    }
    out
}

/// The floor's launch at head: read the version table once.
pub const FLOOR_LAUNCH: &str = "SELECT version_num FROM alembic_version";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use alembix_core::scan::scan_folder;
    use alembix_core::{GraphOptions, MigrationSet};
    use alembix_runtime::{Config, Database, Migrator};

    /// The generated files load with the core (the same scan and validation as
    /// the macro), as one chain ending at the last revision.
    #[test]
    fn generated_history_loads_with_alembix_core() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("migrations");
        fs::create_dir(&folder).unwrap();
        let history = history(100);
        write_ours(&folder, &history).unwrap();
        let sources = scan_folder(dir.path(), "migrations").unwrap();
        assert_eq!(sources.len(), 100);
        let set = MigrationSet::from_sources(&sources, &GraphOptions::default()).unwrap();
        let graph = set.graph();
        assert_eq!(graph.ids(graph.heads()), [revision(99)]);
        for (file, m) in set.files().iter().zip(&history) {
            assert_eq!(file.revision, m.revision);
            let sqlite = alembix_core::SqlDialect::Sqlite;
            assert_eq!(file.upgrade.statements(sqlite).len(), m.upgrade.len());
            let down = file.downgrade.as_ref().unwrap();
            assert_eq!(down.statements(sqlite).len(), m.downgrade.len());
        }
    }

    /// The SQL runs: up to head and back to base on SQLite, through the runtime.
    #[test]
    fn generated_history_applies_and_reverts_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("migrations");
        fs::create_dir(&folder).unwrap();
        write_ours(&folder, &history(12)).unwrap();
        let migrator = Migrator::from_folder(dir.path(), "migrations", Config::default()).unwrap();
        let db_path = dir.path().join("bench.sqlite");
        let mut db = Database::connect(&db_path.display().to_string()).unwrap();
        assert_eq!(migrator.launch(&mut db).unwrap().steps.len(), 12);
        assert!(migrator.is_up_to_date(&mut db).unwrap());
        assert_eq!(migrator.downgrade(&mut db, "base").unwrap().steps.len(), 12);
    }

    #[test]
    fn revisions_are_unique_and_twelve_hex_digits() {
        let ids: std::collections::HashSet<String> = (0..100_000).map(revision).collect();
        assert_eq!(ids.len(), 100_000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }

    /// Every form carries the same statements: the floor's scripts, diesel's
    /// files and the Alembic modules hold each upgrade statement once.
    #[test]
    fn every_form_holds_the_same_sql() {
        let history = history(5);
        let up = floor_upgrade(&history);
        let down = floor_downgrade(&history);
        assert_eq!(up.matches("BEGIN;").count(), 5);
        assert_eq!(down.matches("COMMIT;").count(), 5);
        for m in &history {
            let (_, module) = alembic_file(m);
            for s in &m.upgrade {
                assert!(up.contains(s.as_str()));
                assert!(module.contains(s.as_str()));
            }
            for s in &m.downgrade {
                assert!(down.contains(s.as_str()));
                assert!(module.contains(s.as_str()));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        write_diesel(dir.path(), &history).unwrap();
        let up_sql = fs::read_to_string(dir.path().join(history[3].slug()).join("up.sql")).unwrap();
        assert_eq!(up_sql, script(&history[3].upgrade));
        let sqlx = tempfile::tempdir().unwrap();
        write_sqlx(sqlx.path(), &history).unwrap();
        let down = fs::read_to_string(sqlx.path().join("000004_create_t000003.down.sql")).unwrap();
        assert_eq!(down, script(&history[3].downgrade));
        let refinery = tempfile::tempdir().unwrap();
        write_refinery(refinery.path(), &history).unwrap();
        let up = fs::read_to_string(refinery.path().join("V1__create_t000000.sql")).unwrap();
        assert_eq!(up, script(&history[0].upgrade));
    }

    /// The MySQL form differs only in `DROP INDEX … ON <table>`.
    #[test]
    fn mysql_form_names_the_table_of_the_index() {
        let standard = history(3);
        let mysql = history_in(3, Form::Mysql);
        for (s, m) in standard.iter().zip(&mysql) {
            assert_eq!(s.upgrade, m.upgrade);
            assert_eq!(s.revision, m.revision);
        }
        assert!(mysql[2]
            .downgrade
            .contains(&"DROP INDEX ix_t000002_name ON t000002".to_string()));
    }
}
