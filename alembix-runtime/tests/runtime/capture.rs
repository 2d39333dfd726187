//! A `tracing` subscriber that keeps every event and span field as text, for
//! the tests that prove no password or SQL reaches a log line.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// Every event (with its level) and span field recorded, as text.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<String>>);

struct Visitor<'a>(&'a mut String);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut text = self.0.lock().unwrap();
        span.record(&mut Visitor(&mut text));
        text.push('\n');
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut text = self.0.lock().unwrap();
        values.record(&mut Visitor(&mut text));
        text.push('\n');
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "{} ", event.metadata().level());
        event.record(&mut Visitor(&mut text));
        text.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

impl Capture {
    /// Everything recorded so far.
    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    /// Runs `f` with this capture as the thread's subscriber. `tracing`
    /// caches a callsite's interest for the whole process, computed by the
    /// first thread to reach it: while only one dispatcher is registered, a
    /// test thread with no subscriber would cache "never" for the runtime's
    /// events, and a capture in another test would then miss them. A second,
    /// always-interested dispatcher held meanwhile, and a rebuilt cache, keep
    /// every callsite live.
    pub fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        let anchor = tracing::Dispatch::new(Capture::default());
        let result = tracing::subscriber::with_default(self.clone(), || {
            tracing::callsite::rebuild_interest_cache();
            f()
        });
        drop(anchor);
        result
    }
}
