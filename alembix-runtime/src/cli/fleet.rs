//! `upgrade`, `downgrade`, `stamp`, `current` and `check` over a fleet
//! (`--targets FILE`, `--schemas PATTERN`, `--schemas-query SQL`): a line per
//! target as it ends (or a JSON line with `--json`), a progress line on a
//! terminal's stderr, a summary, and one exit code for the whole run. The
//! work is [`Migrator::fleet`](crate::Migrator::fleet)'s.

use super::commands::check::{check_exit, check_status};
use super::commands::current::head_standing;
use super::context::Context;
use super::failure::{classify, Failure};
use super::render::{millis, rows_text};
use super::{DatabaseArg, Exit, FleetArgs};
use crate::config::AheadPolicy;
use crate::fleet::{
    list_schemas, read_targets, FleetCommand, FleetOptions, FleetReport, SchemaSelector, Target,
    TargetOutcome, TargetResult,
};
use crate::next_step::Naming;
use crate::redact::redact_url;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::sync::mpsc;
use std::sync::Mutex;

/// What a fleet run prints per target, beyond the outcome.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FleetView {
    /// `current --check-heads`: a target not at head counts as pending (exit 3).
    pub check_heads: bool,
}

/// Whether the command runs over a fleet; `--jobs`, `--canary` or
/// `--keep-going` without one, or a fleet with `--sql`, is a usage error.
pub(super) fn requested(fleet: &FleetArgs, sql: bool) -> Result<bool, Failure> {
    if !fleet.is_fleet() {
        if fleet.jobs.is_some() || fleet.canary.is_some() || fleet.keep_going {
            return Err(Failure::usage(
                "--jobs, --canary and --keep-going apply to a fleet: name it with --targets FILE, --schemas PATTERN or --schemas-query SQL".to_string(),
            ));
        }
        return Ok(false);
    }
    if sql {
        return Err(Failure::usage(
            "--sql prints one script and connects nowhere: it does not run over a fleet (--targets, --schemas)".to_string(),
        ));
    }
    Ok(true)
}

/// Runs `command` over the fleet `fleet` names; the exit code summarises.
pub(super) fn run(
    ctx: &Context<'_>,
    fleet: &FleetArgs,
    db: &DatabaseArg,
    command: FleetCommand<'_>,
    view: FleetView,
) -> Result<Exit, Failure> {
    let targets = targets(ctx, fleet, db)?;
    if targets.is_empty() {
        return Err(Failure::usage(
            "the fleet is empty: no target was listed (check the file, the pattern or the query)"
                .to_string(),
        ));
    }
    let options = FleetOptions {
        jobs: fleet.jobs.map_or(FleetOptions::default().jobs, usize::from),
        canary: fleet.canary.unwrap_or(0),
        keep_going: fleet.keep_going,
    };
    let one_url = targets.iter().all(|t| t.url == targets[0].url);
    // `current` says whether each target is at head, as the single command does.
    let graph = match command {
        FleetCommand::Current => Some(ctx.set()?.graph()),
        _ => None,
    };
    // What the worker threads need to write a target's line (the output
    // itself stays on this thread).
    let lines = Lines {
        naming: ctx.naming,
        when_ahead: ctx.migrator.config().when_ahead,
        graph,
        view,
        one_url,
    };
    let (sender, receiver) = mpsc::channel::<(usize, String, Exit)>();
    let sender = Mutex::new(Some(sender));
    let json = ctx.json;
    let on_result = |r: &TargetResult| {
        let exit = lines.exit(r);
        let line = if json {
            lines.json(r, exit)
        } else {
            lines.text(r, exit)
        };
        if let Ok(Some(sender)) = sender.lock().as_deref() {
            let _ = sender.send((r.index, line, exit));
        }
    };
    let progress = !ctx.json && std::io::stderr().is_terminal();
    let total = targets.len();
    let mut exits: Vec<Option<Exit>> = vec![None; total];
    let report = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let report = ctx.migrator.fleet(&targets, &command, &options, &on_result);
            // The receiver's loop ends when the sender is gone.
            if let Ok(mut sender) = sender.lock() {
                sender.take();
            }
            report
        });
        let (mut done, mut failed) = (0usize, 0usize);
        for (index, line, exit) in receiver.iter() {
            exits[index] = Some(exit);
            done += 1;
            if exit != Exit::Success {
                failed += 1;
            }
            if progress {
                clear_progress();
            }
            ctx.out.line(line);
            ctx.out.flush();
            if progress {
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "[{done}/{total}] {} ok, {failed} not ok",
                    done - failed
                );
                let _ = err.flush();
            }
        }
        if progress {
            clear_progress();
        }
        worker.join()
    });
    let report = report.map_err(|_| {
        Failure::from(crate::Error::Unsupported(
            "a fleet worker stopped unexpectedly; rerun the command: finished targets are not redone"
                .to_string(),
        ))
    })?;
    // Each target's exit as its line said it (none for a target not run).
    let words = report
        .results
        .iter()
        .zip(&exits)
        .map(|(r, exit)| lines.word(r, exit.unwrap_or(Exit::Success)));
    let tally = tally(words);
    let exit = summary_exit(exits.iter().flatten().copied());
    if ctx.json {
        for r in report
            .results
            .iter()
            .filter(|r| matches!(r.outcome, TargetOutcome::NotRun))
        {
            ctx.out.line(lines.json(r, Exit::Success));
        }
        ctx.out.line(json_text(&Summary::new(
            ctx, &report, &options, exit, &tally,
        )));
    } else {
        ctx.out.line(summary_text(ctx, &tally, &report, &options));
    }
    Ok(exit)
}

/// The targets the arguments name.
fn targets(ctx: &Context<'_>, fleet: &FleetArgs, db: &DatabaseArg) -> Result<Vec<Target>, Failure> {
    if let Some(file) = &fleet.targets_file {
        let (text, source) = if file == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                Failure::usage(format!("cannot read the targets from standard input: {e}"))
            })?;
            (text, "stdin".to_string())
        } else {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::usage(format!("cannot read the targets file {file}: {e}")))?;
            (text, file.clone())
        };
        let mut targets =
            read_targets(&text, &source).map_err(|e| Failure::usage(e.to_string()))?;
        if let Some(schema) = &db.schema {
            for t in targets.iter_mut().filter(|t| t.schema.is_none()) {
                t.schema = Some(schema.clone());
            }
        }
        return Ok(targets);
    }
    let selector = match (&fleet.schemas, &fleet.schemas_query) {
        (Some(pattern), _) => SchemaSelector::Like(pattern),
        (None, Some(query)) => SchemaSelector::Query(query),
        (None, None) => return Ok(Vec::new()),
    };
    let url = ctx.url(db)?;
    let mut conn = ctx.connect(db)?;
    let names = list_schemas(&mut conn, &selector)?;
    Ok(names.into_iter().map(|s| Target::schema(&url, s)).collect())
}

/// How a target is named in its line: its schema when the fleet is one
/// server's schemas, else its URL (password masked) and schema.
fn target_name(t: &Target, one_url: bool) -> String {
    match &t.schema {
        Some(s) if one_url => s.clone(),
        Some(s) => format!("{} {s}", redact_url(&t.url)),
        None => redact_url(&t.url),
    }
}

/// The run's exit code: a failed target's `1` outranks every finding; then,
/// as for `check`, unfinished > drift > unknown revisions > schema drift > pending.
fn summary_exit(exits: impl Iterator<Item = Exit>) -> Exit {
    let rank = |e: &Exit| match e {
        Exit::Success => 0,
        Exit::Pending => 1,
        Exit::SchemaDrift => 2,
        Exit::UnknownRevisions => 3,
        Exit::Drift => 4,
        Exit::Unfinished => 5,
        Exit::Failure | Exit::Usage => 6,
    };
    match exits.max_by_key(rank) {
        Some(Exit::Usage) => Exit::Failure,
        Some(e) => e,
        None => Exit::Success,
    }
}

/// What writing a target's line needs; shared with the worker threads.
struct Lines<'a> {
    naming: &'a Naming,
    when_ahead: AheadPolicy,
    graph: Option<&'a alembix_core::Graph>,
    view: FleetView,
    one_url: bool,
}

impl Lines<'_> {
    /// One target's exit code: its error's, or `check`'s finding's.
    fn exit(&self, r: &TargetResult) -> Exit {
        match &r.outcome {
            TargetOutcome::Failed(e) => classify(e).1,
            TargetOutcome::Checked(report) => check_exit(report, self.when_ahead),
            TargetOutcome::Current(current) if self.view.check_heads => self.standing(current),
            _ => Exit::Success,
        }
    }

    /// Where a target's rows stand against the heads (as `current`'s).
    fn standing(&self, current: &crate::Current) -> Exit {
        self.graph
            .map_or(Exit::Success, |g| head_standing(g, &current.rows))
    }

    /// The target's outcome in one word: `ok`, `failed`, `not-run`; for
    /// `check` its status (`pending`, `drift`, …); for `current
    /// --check-heads` not at head, `pending` or `unknown`.
    fn word(&self, r: &TargetResult, exit: Exit) -> &'static str {
        match (&r.outcome, exit) {
            (TargetOutcome::Checked(report), _) => check_status(report),
            (TargetOutcome::Current(_), Exit::Pending) => "pending",
            (TargetOutcome::Current(_), Exit::UnknownRevisions) => "unknown",
            (outcome, _) => outcome.word(),
        }
    }

    /// The message of a failed target, naming next steps as the program does.
    /// Its hints name that target alone (`--db URL --schema NAME`).
    fn message(&self, r: &TargetResult, e: &crate::Error) -> String {
        let naming = self
            .naming
            .for_target(&r.target.url, r.target.schema.as_deref());
        naming.core_text(&e.message(&naming))
    }

    /// `ok  tenant_a  r1 → r3, 2 migration(s), 40 ms`, or `failed  tenant_b  error: …`.
    fn text(&self, r: &TargetResult, exit: Exit) -> String {
        let name = target_name(&r.target, self.one_url);
        let took = millis(r.duration);
        match &r.outcome {
            TargetOutcome::Ran(report) => {
                let moved = if report.rows_before == report.rows_after && report.steps.is_empty() {
                    format!("at {}, nothing to do", rows_text(&report.rows_after))
                } else {
                    format!(
                        "{} → {}, {} step(s)",
                        rows_text(&report.rows_before),
                        rows_text(&report.rows_after),
                        report.steps.len()
                    )
                };
                format!("ok       {name}  {moved}, {took}")
            }
            TargetOutcome::Current(current) => format!(
                "{:<8} {name}  {}, {took}",
                self.word(r, exit),
                rows_text(&current.rows)
            ),
            TargetOutcome::Checked(report) => format!(
                "{:<8} {name}  {}, {took}",
                self.word(r, exit),
                rows_text(&report.rows)
            ),
            TargetOutcome::Failed(e) => {
                let message = self.message(r, e);
                format!(
                    "failed   {name}  error: {}",
                    message.replace('\n', "\n           ")
                )
            }
            TargetOutcome::NotRun => format!("not-run  {name}"),
        }
    }

    /// One target's JSON line.
    fn json(&self, r: &TargetResult, exit: Exit) -> String {
        let mut doc = TargetJson {
            index: r.index,
            database: redact_url(&r.target.url),
            schema: r.target.schema.as_deref(),
            outcome: self.word(r, exit),
            exit_code: exit.code(),
            rows_before: None,
            rows_after: None,
            steps: None,
            at_head: None,
            duration_ms: (r.duration.as_secs_f64() * 1_000_000.0).round() / 1000.0,
            error: None,
        };
        match &r.outcome {
            TargetOutcome::Ran(report) => {
                doc.rows_before = Some(&report.rows_before);
                doc.rows_after = Some(&report.rows_after);
                doc.steps = Some(report.steps.len());
            }
            TargetOutcome::Current(current) => {
                doc.rows_after = Some(&current.rows);
                doc.at_head = Some(self.standing(current) == Exit::Success);
            }
            TargetOutcome::Checked(report) => {
                doc.rows_after = Some(&report.rows);
            }
            TargetOutcome::Failed(e) => {
                doc.error = Some(ErrorJson {
                    kind: classify(e).0,
                    message: self.message(r, e),
                });
            }
            TargetOutcome::NotRun => {}
        }
        json_text(&doc)
    }
}

/// How many targets ended with each outcome word, `ok` first, then
/// findings by name, `failed` and `not-run` last (always listed).
fn tally(words: impl Iterator<Item = &'static str>) -> Vec<(&'static str, usize)> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for word in words {
        *counts.entry(word).or_default() += 1;
    }
    let mut tally = vec![("ok", counts.remove("ok").unwrap_or(0))];
    let failed = counts.remove("failed").unwrap_or(0);
    let not_run = counts.remove("not-run").unwrap_or(0);
    tally.extend(counts);
    tally.extend([("failed", failed), ("not-run", not_run)]);
    tally
}

/// The last line: counts, duration, and what to do about failures.
fn summary_text(
    ctx: &Context<'_>,
    tally: &[(&str, usize)],
    report: &FleetReport,
    options: &FleetOptions,
) -> String {
    let counts: Vec<String> = tally.iter().map(|(w, n)| format!("{n} {w}")).collect();
    let mut text = format!(
        "fleet: {} of {} target(s) in {}, {} at a time",
        counts.join(", "),
        report.results.len(),
        millis(report.duration),
        options.jobs.max(1)
    );
    if report.failed() > 0 {
        text.push_str(&format!(
            "\n  next: fix what failed, then run the same `{}` again: targets that finished are not redone",
            ctx.name
        ));
        if report.not_run() > 0 && !options.keep_going {
            text.push_str(" (--keep-going tries every target despite failures)");
        }
    }
    text
}

/// One target's JSON line.
#[derive(Serialize)]
struct TargetJson<'a> {
    /// Its position in the targets list.
    index: usize,
    /// The URL, password masked.
    database: String,
    schema: Option<&'a str>,
    /// `ok`, `failed`, `not-run`; for `check` its status (`pending`, `drift`, …).
    outcome: &'static str,
    exit_code: u8,
    rows_before: Option<&'a [String]>,
    rows_after: Option<&'a [String]>,
    /// Migrations (or stamp moves) the run made.
    steps: Option<usize>,
    /// `current`: whether every revision of the history is applied.
    at_head: Option<bool>,
    duration_ms: f64,
    error: Option<ErrorJson>,
}

/// The `error` object of a failed target.
#[derive(Serialize)]
struct ErrorJson {
    kind: &'static str,
    message: String,
}

/// The last JSON line.
#[derive(Serialize)]
struct Summary {
    command: &'static str,
    /// Always `true`: the lines before are the targets'.
    fleet: bool,
    targets: usize,
    /// How many targets ended with each outcome word (`ok`, `pending`, `failed`, `not-run`, …).
    outcomes: BTreeMap<&'static str, usize>,
    jobs: usize,
    duration_ms: f64,
    exit_code: u8,
}

impl Summary {
    fn new(
        ctx: &Context<'_>,
        report: &FleetReport,
        options: &FleetOptions,
        exit: Exit,
        tally: &[(&'static str, usize)],
    ) -> Summary {
        Summary {
            command: ctx.name,
            fleet: true,
            targets: report.results.len(),
            outcomes: tally.iter().copied().collect(),
            jobs: options.jobs.max(1),
            duration_ms: (report.duration.as_secs_f64() * 1_000_000.0).round() / 1000.0,
            exit_code: exit.code(),
        }
    }
}

/// One JSON line (compact: a line per document).
fn json_text(document: &impl Serialize) -> String {
    serde_json::to_string(document).unwrap_or_default()
}

fn clear_progress() {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[K");
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_outranks_every_finding_and_findings_rank_as_check() {
        let exit = |v: &[Exit]| summary_exit(v.iter().copied());
        assert_eq!(exit(&[]), Exit::Success);
        assert_eq!(exit(&[Exit::Success, Exit::Pending]), Exit::Pending);
        assert_eq!(
            exit(&[Exit::Drift, Exit::Pending, Exit::UnknownRevisions]),
            Exit::Drift
        );
        assert_eq!(
            exit(&[Exit::Unfinished, Exit::Failure, Exit::Drift]),
            Exit::Failure
        );
        assert_eq!(exit(&[Exit::Usage]), Exit::Failure);
    }

    #[test]
    fn a_failed_target_s_hint_names_that_target_alone() {
        let naming = Naming::binary("myapp migrate", None);
        let lines = Lines {
            naming: &naming,
            when_ahead: AheadPolicy::default(),
            graph: None,
            view: FleetView::default(),
            one_url: true,
        };
        let unfinished = crate::Unfinished {
            revision: "c3c3c3c3c3c3".to_string(),
            file: Some("2026-01-03_create_posts_c3c3c3c3c3c3.sql".to_string()),
            operation: "upgrade".to_string(),
            state: "failed".to_string(),
            statements_done: 1,
            statements_total: 2,
            error: Some("Table 'posts' already exists".to_string()),
        };
        let result = TargetResult {
            index: 7,
            target: Target::schema("postgres://ops:s3cret@db/app", "tenant_7"),
            outcome: TargetOutcome::Failed(crate::Error::Unfinished(vec![unfinished])),
            duration: std::time::Duration::from_millis(12),
        };
        let text = lines.text(&result, Exit::Unfinished);
        assert!(text.starts_with("failed   tenant_7  error: "), "{text}");
        assert!(
            text.contains("--db 'postgres://ops:***@db/app' --schema tenant_7"),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
        assert_eq!(lines.exit(&result), Exit::Unfinished);
        let json: serde_json::Value =
            serde_json::from_str(&lines.json(&result, Exit::Unfinished)).unwrap_or_default();
        assert_eq!(json["schema"], "tenant_7");
        assert_eq!(json["outcome"], "failed");
        assert_eq!(json["exit_code"], 6);
        assert_eq!(json["error"]["kind"], "unfinished");
        assert_eq!(json["database"], "postgres://ops:***@db/app");
    }

    #[test]
    fn a_target_is_named_by_its_schema_on_one_server() {
        let t = Target::schema("postgres://app:secret@db/app", "tenant_a");
        assert_eq!(target_name(&t, true), "tenant_a");
        let named = target_name(&t, false);
        assert!(
            named.ends_with(" tenant_a") && !named.contains("secret"),
            "{named}"
        );
    }
}
