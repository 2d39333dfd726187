//! The `alembix` binary over a fleet of SQLite files listed on standard
//! input (`--targets -`): a line per target, JSON lines with `--json`, the
//! summary, one exit code, and a rerun that redoes nothing. (The server-backed
//! fleet tests, `--schemas` on PostgreSQL and MySQL, are in alembix-runtime.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `alembix ARGS` in `cwd` with `stdin` piped in: (exit code, stdout, stderr).
fn alembix(cwd: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alembix"))
        .args(args)
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the alembix binary runs");
    // A run refused before it reads its input closes the pipe early.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    for (rev, down) in [("aaaa00000001", "none"), ("bbbb00000002", "aaaa00000001")] {
        std::fs::write(
            migrations.join(format!("2026-01-01_m_{rev}.sql")),
            format!(
                "-- revision: {rev}\n-- down_revision: {down}\n-- message: m\n\n-- migrate:upgrade\nCREATE TABLE t_{rev} (id INTEGER);\n\n-- migrate:downgrade\nDROP TABLE t_{rev};\n"
            ),
        )
        .unwrap();
    }
    dir
}

#[test]
fn a_fleet_from_standard_input_prints_a_line_per_target_and_one_exit_code() {
    let dir = project();
    let urls: Vec<String> = (0..3)
        .map(|i| format!("sqlite://{}", dir.path().join(format!("t{i}.db")).display()))
        .collect();
    let list = format!("# three tenants\n{}\n", urls.join("\n"));

    let (code, stdout, stderr) = alembix(
        dir.path(),
        &[
            "upgrade",
            "heads",
            "--targets",
            "-",
            "--json",
            "--jobs",
            "2",
        ],
        &list,
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    let mut indexes: Vec<u64> = lines[..3]
        .iter()
        .map(|l| l["index"].as_u64().unwrap())
        .collect();
    indexes.sort();
    assert_eq!(indexes, [0, 1, 2]);
    for line in &lines[..3] {
        assert_eq!(line["outcome"], "ok", "{line}");
        assert_eq!(line["steps"], 2, "{line}");
        assert_eq!(
            line["rows_after"],
            serde_json::json!(["bbbb00000002"]),
            "{line}"
        );
        assert_eq!(line["schema"], serde_json::Value::Null);
    }
    let summary = &lines[3];
    assert_eq!(summary["fleet"], true);
    assert_eq!(summary["targets"], 3);
    assert_eq!(summary["outcomes"]["ok"], 3);
    assert_eq!(summary["exit_code"], 0);

    // Again, as text: nothing is redone.
    let (code, stdout, _) = alembix(dir.path(), &["upgrade", "heads", "--targets", "-"], &list);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout.matches("at bbbb00000002, nothing to do").count(),
        3,
        "{stdout}"
    );
    assert!(
        stdout.contains("fleet: 3 ok, 0 failed, 0 not-run of 3 target(s)"),
        "{stdout}"
    );

    // One target a step behind: `check` says pending, and exits 3.
    let (code, _, _) = alembix(dir.path(), &["downgrade", "-1", "--db", &urls[1]], "");
    assert_eq!(code, 0);
    let (code, stdout, _) = alembix(dir.path(), &["check", "--targets", "-"], &list);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("fleet: 2 ok, 1 pending, 0 failed"),
        "{stdout}"
    );

    // An unreachable target fails alone with --keep-going; the exit is 1.
    let broken = format!("{list}sqlite:///nonexistent-folder/x.db\n");
    let (code, stdout, _) = alembix(
        dir.path(),
        &["upgrade", "heads", "--targets", "-", "--keep-going"],
        &broken,
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("failed   sqlite:///nonexistent-folder/x.db  error: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("fleet: 3 ok, 1 failed, 0 not-run of 4 target(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("next: fix what failed, then run the same `upgrade` again"),
        "{stdout}"
    );
}

#[test]
fn fleet_options_need_a_fleet_and_a_bad_list_names_its_line() {
    let dir = project();
    let (code, _, stderr) = alembix(
        dir.path(),
        &["upgrade", "heads", "--keep-going", "--db", "sqlite://x.db"],
        "",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("apply to a fleet"), "{stderr}");
    let (code, _, stderr) = alembix(
        dir.path(),
        &["check", "--schema-drift", "--targets", "-"],
        "sqlite://a.db\n",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("'--schema-drift' cannot be used with '--targets <FILE>'"),
        "{stderr}"
    );
    let (code, _, stderr) = alembix(
        dir.path(),
        &["check", "--targets", "-"],
        "sqlite://a.db\nftp://user:s3cret@host/x\n",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("stdin:2"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
