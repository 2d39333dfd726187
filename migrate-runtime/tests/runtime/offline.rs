//! Offline SQL: the script is what the online run would do — running it by hand
//! leaves the database exactly where an online upgrade would, and the next
//! online launch has nothing to do.

use crate::support::{migrator, Kind, TestDb};
use migrate_runtime::{Config, Dialect, Error, OfflineCommand};

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";

fn dialect(kind: Kind) -> Dialect {
    match kind {
        Kind::Sqlite => Dialect::Sqlite,
        Kind::Postgres => Dialect::Postgres,
        Kind::Mysql => Dialect::Mysql,
    }
}

#[test]
fn script_shape_follows_alembic() {
    let m = migrator("linear", Config::default());
    let pg = m
        .offline_sql(Dialect::Postgres, OfflineCommand::Upgrade("heads"))
        .unwrap();
    assert!(pg.starts_with("CREATE TABLE \"alembic_version\" (\n    version_num VARCHAR(32) NOT NULL,\n    CONSTRAINT \"alembic_version_pkc\" PRIMARY KEY (version_num)\n);\n\n"), "{pg}");
    assert!(
        pg.contains(&format!(
            "BEGIN;\n\n-- Running upgrade  -> {A}\n\nCREATE TABLE users"
        )),
        "{pg}"
    );
    assert!(
        pg.contains(&format!("-- Running upgrade {A} -> {B}\n\n")),
        "{pg}"
    );
    assert!(
        pg.contains(&format!(
            "UPDATE \"alembic_version\" SET version_num = '{B}' WHERE version_num = '{A}';\n\n"
        )),
        "{pg}"
    );
    assert!(pg.trim_end().ends_with("COMMIT;"), "{pg}");
    let my = m
        .offline_sql(
            Dialect::Mysql,
            OfflineCommand::Upgrade(&format!("{A}:heads")),
        )
        .unwrap();
    assert!(
        !my.contains("BEGIN") && !my.contains("CREATE TABLE `alembic_version`"),
        "{my}"
    );
    assert!(
        my.contains("CREATE TABLE IF NOT EXISTS `alembic_version_history`"),
        "{my}"
    );
    let down = m
        .offline_sql(
            Dialect::Sqlite,
            OfflineCommand::Downgrade(&format!("{C}:{A}")),
        )
        .unwrap();
    assert!(
        down.contains(&format!("-- Running downgrade {C} -> {B}")),
        "{down}"
    );
    assert!(down.contains("DROP TABLE posts;"), "{down}");
    let err = m
        .offline_sql(Dialect::Sqlite, OfflineCommand::Downgrade(A))
        .unwrap_err();
    assert!(matches!(err, Error::Plan(_)), "{err}");
}

fn running_the_script_equals_the_online_run(t: &TestDb) {
    let m = migrator("linear", Config::default());
    let script = m
        .offline_sql(dialect(t.kind), OfflineCommand::Upgrade("heads"))
        .unwrap();
    let mut o = t.oracle();
    o.exec(&script);
    assert_eq!(o.rows("alembic_version"), vec![C]);
    assert_eq!(
        o.user_tables(),
        vec!["posts".to_string(), "users".to_string()]
    );
    let mut db = t.connect();
    assert!(m.is_up_to_date(&mut db).unwrap());
    assert!(m.launch(&mut db).unwrap().is_empty());
    let entries = m.applied_history(&mut db).unwrap();
    assert_eq!(entries.len(), 3);

    // And back down by script.
    let down = m
        .offline_sql(
            dialect(t.kind),
            OfflineCommand::Downgrade(&format!("{C}:base")),
        )
        .unwrap();
    o.exec(&down);
    assert!(o.rows("alembic_version").is_empty());
    assert!(o.user_tables().is_empty());
}

crate::on_all_backends!(running_the_script_equals_the_online_run);
