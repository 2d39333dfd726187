//! A line per migration while a run is under way.
//!
//! The [`Migrator`](crate::Migrator) reports each finished migration as a
//! `tracing` event (`migration applied`, with its revision, direction and
//! duration). [`Progress::watch`] listens for those events on the current
//! thread for the length of one call, forwarding every event and span to the
//! subscriber that was in place, so the host application's logging is
//! untouched. When stdout is a terminal it also shows the step that is running
//! (`[3/9] Running upgrade … ...`), completed in place when it finishes.
//!
//! Steps the events did not announce are printed from the final
//! [`Report`](crate::Report) by [`Progress::finish`], so every step gets its
//! line even if a subscriber filters the events away.

use super::render::step_line;
use crate::error::Direction;
use crate::report::Report;
use crate::Migrator;
use alembix_core::MigrationSet;
use std::collections::HashMap;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};

/// Prints a line per migration to stdout as the run applies them.
#[derive(Debug, Clone)]
pub struct Progress {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    /// Per revision: its `down_revision`s (`<base>` for a root) and message.
    described: Descriptions,
    /// What the plan expects to run, in order (for the terminal indicator).
    planned: Vec<(String, Direction)>,
    /// Revisions already given their line, with their direction.
    printed: Vec<(String, Direction)>,
    /// Whether a `[k/n] … ...` line is shown and not yet completed.
    pending_line: bool,
    tty: bool,
    enabled: bool,
    /// Where lines go: stdout, or a buffer in unit tests.
    buffer: Option<String>,
}

impl Progress {
    /// A printer for migrations of `set`; `enabled: false` prints nothing
    /// (for `--json`, where stdout carries one JSON document).
    pub fn new(set: &MigrationSet, enabled: bool) -> Progress {
        Progress::with(Descriptions::Ready(describe(set)), enabled)
    }

    /// A printer for the migrations of `migrator` that reads their
    /// descriptions only when it prints its first line, so that a launch
    /// finding the database at the heads builds no graph for it.
    pub fn for_migrator(migrator: &Migrator, enabled: bool) -> Progress {
        let described = match migrator.built_set() {
            Some(set) => Descriptions::Ready(describe(set)),
            None => Descriptions::Later(Box::new(migrator.clone())),
        };
        Progress::with(described, enabled)
    }

    fn with(described: Descriptions, enabled: bool) -> Progress {
        Progress {
            state: Arc::new(Mutex::new(State {
                described,
                planned: Vec::new(),
                printed: Vec::new(),
                pending_line: false,
                tty: std::io::stdout().is_terminal(),
                enabled,
                buffer: None,
            })),
        }
    }

    /// Sets the steps the run is expected to take, for the `[k/n]` indicator
    /// shown on a terminal. The run itself decides; this is only for display.
    pub fn expect(&self, planned: Vec<(String, Direction)>) {
        let mut state = self.lock();
        state.planned = planned;
        state.show_next();
    }

    /// Runs `f`, printing a line for each migration it applies or reverts.
    pub fn watch<T>(&self, f: impl FnOnce() -> T) -> T {
        let watcher = Watcher {
            inner: tracing::dispatcher::get_default(Dispatch::clone),
            progress: self.clone(),
        };
        tracing::subscriber::with_default(watcher, f)
    }

    /// Prints the steps of `report` that have no line yet (durations from the
    /// report) and clears the terminal indicator.
    pub fn finish(&self, report: Option<&Report>) {
        let mut state = self.lock();
        if let Some(report) = report {
            for step in report.steps.iter().filter(|s| !s.stamp) {
                if let Some(revision) = &step.revision {
                    state.done(revision, step.direction, step.duration, false);
                }
            }
        }
        state.clear_pending();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Per revision: its `down_revision`s (`<base>` for a root) and message.
#[derive(Debug)]
enum Descriptions {
    Ready(HashMap<String, (String, String)>),
    /// Not read yet: a migrator whose set is not built (cheap to clone).
    Later(Box<Migrator>),
}

impl Descriptions {
    fn get(&mut self, revision: &str) -> Option<(&str, &str)> {
        if let Descriptions::Later(migrator) = self {
            *self = Descriptions::Ready(migrator.set().map(describe).unwrap_or_default());
        }
        match self {
            Descriptions::Ready(map) => map.get(revision).map(|(d, m)| (d.as_str(), m.as_str())),
            Descriptions::Later(_) => None,
        }
    }
}

fn describe(set: &MigrationSet) -> HashMap<String, (String, String)> {
    let graph = set.graph();
    graph
        .revisions()
        .iter()
        .zip(set.files())
        .map(|(rev, file)| {
            let down = if rev.down.is_empty() {
                "<base>".to_string()
            } else {
                graph.ids(&rev.down).join(", ")
            };
            (rev.id.clone(), (down, file.message.clone()))
        })
        .collect()
}

impl Descriptions {
    /// The line of `revision`'s step.
    fn line(&mut self, revision: &str, direction: Direction) -> String {
        let (down, message) = self.get(revision).unwrap_or(("?", ""));
        step_line(direction, down, revision, message)
    }
}

impl State {
    /// A migration finished: complete or print its line, then show the next one.
    fn done(&mut self, revision: &str, direction: Direction, duration: Duration, live: bool) {
        if !self.enabled
            || self
                .printed
                .iter()
                .any(|(r, d)| r == revision && *d == direction)
        {
            return;
        }
        let k = self.printed.len();
        let expected = self
            .planned
            .get(k)
            .is_some_and(|(r, d)| r == revision && *d == direction);
        let text = self.described.line(revision, direction);
        let took = super::render::millis(duration);
        if self.tty && self.pending_line && expected {
            self.emit(&format!(" {took}\n"));
        } else {
            if self.tty && self.pending_line {
                self.emit("\r\x1b[2K");
            }
            self.emit(&format!("{text} ... {took}\n"));
        }
        self.pending_line = false;
        self.printed.push((revision.to_string(), direction));
        if live {
            self.show_next();
        }
    }

    /// On a terminal: shows the step expected next, to be completed in place.
    fn show_next(&mut self) {
        if !(self.enabled && self.tty) || self.pending_line {
            return;
        }
        let k = self.printed.len();
        let Some((revision, direction)) = self.planned.get(k) else {
            return;
        };
        let text = format!(
            "[{}/{}] {} ...",
            k + 1,
            self.planned.len(),
            self.described.line(revision, *direction)
        );
        self.emit(&text);
        self.pending_line = true;
    }

    fn clear_pending(&mut self) {
        if self.pending_line {
            self.emit("\r\x1b[2K");
            self.pending_line = false;
        }
    }

    /// Writes and flushes (a progress line must show before the step ends).
    /// A line that cannot be written (stdout's reader went away) is dropped:
    /// the run goes on, and the command decides its exit code (see `out`).
    fn emit(&mut self, text: &str) {
        match &mut self.buffer {
            Some(buffer) => buffer.push_str(text),
            None => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        }
    }
}

/// Forwards everything to the previous subscriber and catches the runtime's
/// `migration applied` events.
struct Watcher {
    inner: Dispatch,
    progress: Progress,
}

fn is_step_event(metadata: &Metadata<'_>) -> bool {
    metadata.is_event()
        && metadata.target().starts_with("alembix_runtime")
        && metadata.fields().field("revision").is_some()
        && metadata.fields().field("duration").is_some()
}

#[derive(Default)]
struct StepFields {
    message: String,
    revision: Option<String>,
    direction: Option<Direction>,
    duration: Option<Duration>,
}

impl Visit for StepFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "direction" {
            self.direction = match value {
                "upgrade" => Some(Direction::Upgrade),
                "downgrade" => Some(Direction::Downgrade),
                _ => None,
            };
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "revision" => self.revision = Some(format!("{value:?}").trim_matches('"').to_string()),
            "duration" => self.duration = parse_duration(&format!("{value:?}")),
            _ => {}
        }
    }
}

/// Parses `Duration`'s `Debug` text (`12.5ms`, `3s`, `800µs`, `7ns`).
fn parse_duration(text: &str) -> Option<Duration> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => value,
        "ms" => value / 1e3,
        "µs" | "us" => value / 1e6,
        "ns" => value / 1e9,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

impl Subscriber for Watcher {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if is_step_event(metadata) {
            Interest::always()
        } else {
            self.inner.register_callsite(metadata)
        }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        None
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        is_step_event(metadata) || self.inner.enabled(metadata)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values)
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows)
    }

    fn event(&self, event: &Event<'_>) {
        if is_step_event(event.metadata()) {
            let mut fields = StepFields::default();
            event.record(&mut fields);
            if fields.message.starts_with("migration applied") {
                if let (Some(revision), Some(direction)) = (fields.revision, fields.direction) {
                    let duration = fields.duration.unwrap_or_default();
                    self.progress
                        .lock()
                        .done(&revision, direction, duration, true);
                }
            }
        }
        if self.inner.enabled(event.metadata()) {
            self.inner.event(event);
        }
    }

    fn enter(&self, span: &Id) {
        self.inner.enter(span)
    }

    fn exit(&self, span: &Id) {
        self.inner.exit(span)
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;
    use alembix_core::{GraphOptions, SourceFile};

    #[test]
    fn runtime_events_become_lines_as_they_happen() {
        let sources = [SourceFile {
            name: "m/a1.sql".into(),
            text: "-- revision: a1\n-- down_revision: none\n-- message: add a1\n\n-- migrate:upgrade\nSELECT 1;\n\n-- migrate:downgrade\nSELECT 1;\n".into(),
        }];
        let set = MigrationSet::from_sources(&sources, &GraphOptions::default()).expect("valid");
        let progress = Progress::new(&set, true);
        {
            let mut state = progress.lock();
            state.tty = false;
            state.buffer = Some(String::new());
        }
        let seen_during = progress.watch(|| {
            // What the migrator emits after each migration.
            tracing::info!(revision = %"a1", direction = "upgrade", duration = ?Duration::from_millis(12), "migration applied");
            progress.lock().buffer.clone().unwrap_or_default()
        });
        assert_eq!(
            seen_during,
            "Running upgrade <base> -> a1, add a1 ... 12 ms\n"
        );
        // The report does not print it a second time.
        progress.finish(None);
        assert_eq!(
            progress.lock().buffer.as_deref(),
            Some(seen_during.as_str())
        );
    }

    #[test]
    fn durations_parse_from_debug_text() {
        for d in [
            Duration::from_nanos(7),
            Duration::from_micros(812),
            Duration::from_micros(12_345),
            Duration::from_millis(3_200),
        ] {
            let parsed = parse_duration(&format!("{d:?}")).unwrap_or_default();
            let diff = parsed.abs_diff(d);
            assert!(diff <= Duration::from_micros(1), "{d:?} -> {parsed:?}");
        }
        assert_eq!(parse_duration("soon"), None);
    }
}
