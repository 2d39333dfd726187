//! What the database itself says, read without the runtime: the witness rows,
//! the version and history rows, the schema (`information_schema`,
//! `sqlite_master`), a whole-database snapshot to compare "before" and
//! "after", and whether anybody still holds the run lock (`pg_locks`,
//! `IS_USED_LOCK`, and for SQLite's lock file the kernel's `/proc/locks`).

use crate::support::{Kind, Oracle, TestDb};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `revision -> how many witness rows` (the table has no unique key).
pub fn witness(o: &mut Oracle) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    if !o.tables().contains(&"witness".to_string()) {
        return counts;
    }
    for r in o.strings("SELECT revision AS s FROM witness") {
        *counts.entry(r).or_insert(0) += 1;
    }
    counts
}

/// Asserts that exactly `revisions` left a witness row, once each.
pub fn assert_witness_once(o: &mut Oracle, revisions: &[&str], context: &str) {
    let found = witness(o);
    let expected: BTreeMap<String, i64> = revisions.iter().map(|r| (r.to_string(), 1)).collect();
    assert_eq!(
        found, expected,
        "{context}: every migration's side effect exactly once"
    );
}

/// One history row, as the oracle reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub revision: String,
    pub operation: String,
    pub state: String,
    pub done: i64,
    pub total: i64,
    pub detail: String,
}

fn concat(kind: Kind, parts: &[&str]) -> String {
    match kind {
        Kind::Mysql => format!("CONCAT_WS('|', {})", parts.join(", ")),
        _ => parts.join(" || '|' || "),
    }
}

/// Every history row, oldest first.
pub fn history(o: &mut Oracle) -> Vec<Row> {
    if !o.tables().contains(&"alembic_version_history".to_string()) {
        return Vec::new();
    }
    let text = concat(
        o.kind(),
        &[
            "revision",
            "operation",
            "state",
            "statements_done",
            "statements_total",
            "COALESCE(detail, '')",
        ],
    );
    o.strings(&format!(
        "SELECT {text} AS s FROM alembic_version_history ORDER BY id"
    ))
    .into_iter()
    .map(|line| {
        let mut p = line.splitn(6, '|');
        let mut next = || p.next().unwrap_or_default().to_string();
        Row {
            revision: next(),
            operation: next(),
            state: next(),
            done: next().parse().unwrap_or(-1),
            total: next().parse().unwrap_or(-1),
            detail: next(),
        }
    })
    .collect()
}

/// The version rows, sorted (empty when the table does not exist).
pub fn rows(o: &mut Oracle) -> Vec<String> {
    if !o.tables().contains(&"alembic_version".to_string()) {
        return Vec::new();
    }
    o.rows("alembic_version")
}

/// Asserts the history of a clean run: each of `revisions` exactly one
/// `upgrade applied` row, nothing else.
pub fn assert_history_clean(o: &mut Oracle, revisions: &[&str], context: &str) {
    let h = history(o);
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    for row in &h {
        assert_eq!(
            (row.operation.as_str(), row.state.as_str()),
            ("upgrade", "applied"),
            "{context}: unexpected history row {row:?}"
        );
        assert_eq!(row.done, row.total, "{context}: {row:?}");
        *applied.entry(row.revision.clone()).or_insert(0) += 1;
    }
    let expected: BTreeMap<String, usize> = revisions.iter().map(|r| (r.to_string(), 1)).collect();
    assert_eq!(
        applied, expected,
        "{context}: the history is complete, one row per migration"
    );
}

/// Schema, data and bookkeeping of the whole database, as sorted lines:
/// equal snapshots mean nothing observable changed.
pub fn snapshot(o: &mut Oracle) -> Vec<String> {
    let kind = o.kind();
    let schema = match kind {
        Kind::Postgres => "SELECT 'column ' || CAST(table_name AS TEXT) || '.' || CAST(column_name AS TEXT) || ' ' || CAST(data_type AS TEXT) || ' ' || CAST(is_nullable AS TEXT) AS s FROM information_schema.columns WHERE table_schema = current_schema() UNION ALL SELECT 'index ' || CAST(indexname AS TEXT) || ' ' || indexdef AS s FROM pg_indexes WHERE schemaname = current_schema() UNION ALL SELECT 'valid ' || CAST(c.relname AS TEXT) || ' ' || CAST(i.indisvalid AS TEXT) AS s FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()".to_string(),
        Kind::Mysql => "SELECT CAST(CONCAT('column ', table_name, '.', column_name, ' ', column_type, ' ', is_nullable) AS CHAR) AS s FROM information_schema.columns WHERE table_schema = DATABASE() UNION ALL SELECT CAST(CONCAT('index ', table_name, '.', index_name, ' ', seq_in_index, ' ', column_name) AS CHAR) AS s FROM information_schema.statistics WHERE table_schema = DATABASE()".to_string(),
        Kind::Sqlite => "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS s FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'".to_string(),
    };
    let mut lines = o.strings(&schema);
    for table in o.user_tables() {
        let n = o.count(&table);
        lines.push(format!("count {table} {n}"));
    }
    for (revision, n) in witness(o) {
        lines.push(format!("witness {revision} {n}"));
    }
    let has_price = lines.iter().any(|l| l.contains("items.price"))
        || (kind == Kind::Sqlite && lines.iter().any(|l| l.contains("price INTEGER")));
    if has_price {
        let sum = o.number(&format!(
            "SELECT CAST(COALESCE(SUM(price), 0) AS {}) AS n FROM items",
            o.bigint()
        ));
        lines.push(format!("sum items.price {sum}"));
    }
    for r in rows(o) {
        lines.push(format!("version {r}"));
    }
    if o.tables().contains(&"alembic_version_history".to_string()) {
        let text = concat(
            kind,
            &[
                "revision",
                "operation",
                "state",
                "checksum",
                "statements_done",
                "statements_total",
                "COALESCE(detail, '')",
                "COALESCE(applied_digest, '')",
            ],
        );
        let history = o.strings(&format!(
            "SELECT {text} AS s FROM alembic_version_history ORDER BY id"
        ));
        for (i, h) in history.into_iter().enumerate() {
            lines.push(format!("history {i:03} {h}"));
        }
    }
    lines.sort();
    lines
}

/// The schema and data part of a snapshot (without the history rows).
#[cfg_attr(not(feature = "failpoints"), allow(dead_code))]
pub fn without_history(snapshot: &[String]) -> Vec<String> {
    snapshot
        .iter()
        .filter(|l| !l.starts_with("history "))
        .cloned()
        .collect()
}

/// The SQLite lock file of a test database.
pub fn sqlite_lock_file(t: &TestDb) -> PathBuf {
    let db = t.sqlite_path().expect("a SQLite test database");
    let db = std::fs::canonicalize(&db).unwrap_or(db);
    let mut name = db.into_os_string();
    name.push("-migrate-lock");
    PathBuf::from(name)
}

/// The kernel's `/proc/locks`, read in reads of 64 KiB.
///
/// Not `read_to_string`: it starts with a 32-byte probe read, and the kernel
/// resumes its walk of the lock list by position on every read, so an entry
/// is skipped when another process (a parallel test, SQLite's own `fcntl`
/// locks) drops a lock listed before it between two reads. One large read
/// walks the list once, under the kernel's lock, for a page of output; the
/// tests' few dozen locks fit in it.
fn proc_locks() -> String {
    use std::io::Read;
    let mut file = std::fs::File::open("/proc/locks").expect("/proc/locks (Linux)");
    let mut text = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("/proc/locks: {e}"),
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The pids holding a `flock` on `path`, from the kernel's `/proc/locks`.
pub fn flock_holders(path: &std::path::Path) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Vec::new();
    };
    let inode = meta.ino().to_string();
    proc_locks()
        .lines()
        .filter(|l| !l.contains("->")) // waiters, not holders
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // `1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF`
            let at = f.iter().position(|w| *w == "FLOCK")?;
            let pid = f.get(at + 3)?.parse::<u32>().ok()?;
            let dev_ino = f.get(at + 4)?;
            (dev_ino.rsplit(':').next() == Some(inode.as_str())).then_some(pid)
        })
        .collect()
}

fn mysql_lock_name(t: &TestDb) -> String {
    format!("migrate:{}.alembic_version", t.name)
}

/// Who holds the run lock right now, as the server / kernel says: the
/// PostgreSQL backend pid, the MySQL connection id, or the pid holding the
/// SQLite lock file. `None` when it is free.
pub fn lock_holder(t: &TestDb) -> Option<String> {
    let mut o = t.oracle();
    match t.kind {
        Kind::Postgres => {
            let pids = o.strings("SELECT CAST(pid AS TEXT) AS s FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
            pids.into_iter().next()
        }
        Kind::Mysql => {
            let id = o.number(&format!(
                "SELECT CAST(COALESCE(IS_USED_LOCK('{}'), 0) AS SIGNED) AS n",
                mysql_lock_name(t)
            ));
            (id != 0).then(|| id.to_string())
        }
        Kind::Sqlite => flock_holders(&sqlite_lock_file(t))
            .first()
            .map(ToString::to_string),
    }
}

/// Waits up to `timeout` for someone to hold the run lock; its holder, or
/// `None` if nobody took it in time.
#[cfg_attr(not(feature = "failpoints"), allow(dead_code))]
pub fn wait_lock_held(t: &TestDb, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(holder) = lock_holder(t) {
            return Some(holder);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `Ok` when nobody holds the run lock (nor, on SQLite, the write lock).
pub fn lock_free(t: &TestDb) -> Result<(), String> {
    if let Some(holder) = lock_holder(t) {
        return Err(format!("the run lock is held by {holder}"));
    }
    let mut o = t.oracle();
    match t.kind {
        Kind::Postgres => {
            let n = o.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
            if n != 0 {
                return Err(format!("{n} advisory locks (granted or awaited) left"));
            }
        }
        Kind::Mysql => {
            let free = o.number(&format!(
                "SELECT CAST(IS_FREE_LOCK('{}') AS SIGNED) AS n",
                mysql_lock_name(t)
            ));
            if free != 1 {
                return Err(format!("IS_FREE_LOCK says {free}"));
            }
        }
        Kind::Sqlite => {
            o.exec("PRAGMA busy_timeout = 0");
            o.try_exec("BEGIN IMMEDIATE")
                .map_err(|e| format!("the SQLite write lock is held: {e}"))?;
            o.exec("ROLLBACK");
        }
    }
    Ok(())
}

/// Waits up to `timeout` for the lock to be free (a killed process's session
/// ends asynchronously on the server).
#[cfg_attr(not(feature = "failpoints"), allow(dead_code))]
pub fn wait_lock_free(t: &TestDb, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        match lock_free(t) {
            Ok(()) => return,
            Err(e) if Instant::now() >= deadline => {
                panic!("the run lock is still held {timeout:?} later: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// PostgreSQL: the valid indexes among `names`.
pub fn valid_indexes(o: &mut Oracle, names: &[&str]) -> Vec<String> {
    let list = names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut found = o.strings(&format!(
        "SELECT CAST(c.relname AS TEXT) AS s FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND i.indisvalid AND i.indisready AND c.relname IN ({list})"
    ));
    found.sort();
    found
}

/// The lock table of `RunLock::Table` beside the default version table.
pub const LOCK_TABLE: &str = "alembic_version_lock";

/// The owners in the lock table (`None`: the table does not exist).
pub fn lock_table_owners(o: &mut Oracle) -> Option<Vec<String>> {
    if !o.tables().iter().any(|t| t == LOCK_TABLE) {
        return None;
    }
    Some(o.strings(&format!("SELECT owner AS s FROM {LOCK_TABLE}")))
}
