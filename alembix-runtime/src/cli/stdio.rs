//! Where a command writes: results to stdout, errors and warnings to stderr,
//! through locked handles and never with `print!`/`println!`, which panic when a
//! write fails ("failed printing to stdout: Broken pipe"). A command's text goes
//! through [`Out::line`]; its `--json` document through [`Out::json`].
//!
//! Results are gathered in a buffer and written in large pieces (one system call
//! per 8 KiB rather than per line); the buffer is written out before anything
//! goes to stderr, before a run's progress lines, and at the end, so the order
//! on a terminal is the order of the calls.
//!
//! A write to stdout that fails with [`ErrorKind::BrokenPipe`] means the reader
//! went away (`… migrate history | head -1`): that is the normal end of the
//! output, not an error. Nothing more is written and nothing is said, and the
//! command ends with the exit code it would have had if its output had been read
//! to the end (see the module docs of [`crate::cli`]). Any other write error
//! (a full disk behind `> file`) is said on stderr at the end, and the command
//! exits with [`Exit::Failure`]. Writes to stderr that fail are dropped: there
//! is nowhere left to say so.

use super::{json_writer, Exit};
use serde::Serialize;
use std::cell::RefCell;
use std::fmt::Display;
use std::io::{self, ErrorKind, Write};

/// Stdout's buffer is written out when it holds this much.
const CHUNK: usize = 8 * 1024;

/// The output of one command run.
pub(super) struct Out {
    inner: RefCell<Inner>,
}

struct Inner {
    stdout: Box<dyn Write>,
    stderr: Box<dyn Write>,
    /// Results not yet written to `stdout`.
    buffer: Vec<u8>,
    state: State,
}

/// What became of stdout.
enum State {
    /// Writes go through.
    Open,
    /// The reader went away: later output is dropped, quietly.
    Closed,
    /// A write failed otherwise: later output is dropped, the error is said at the end.
    Failed(io::Error),
}

/// The process's stdout, locked for each write (so that no other thread's
/// output is cut into a line, and no lock is held while a migration runs).
struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::stdout().lock().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        io::stdout().lock().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().lock().flush()
    }
}

/// The process's stderr, locked for each write.
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::stderr().lock().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        io::stderr().lock().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().lock().flush()
    }
}

impl Out {
    /// The process's stdout and stderr.
    pub(super) fn stdio() -> Out {
        Out::to(Box::new(Stdout), Box::new(Stderr))
    }

    /// Any two writers (tests).
    pub(super) fn to(stdout: Box<dyn Write>, stderr: Box<dyn Write>) -> Out {
        Out {
            inner: RefCell::new(Inner {
                stdout,
                stderr,
                buffer: Vec::with_capacity(CHUNK),
                state: State::Open,
            }),
        }
    }

    /// Writes `text` to stdout.
    pub(super) fn print(&self, text: impl Display) {
        let mut inner = self.inner.borrow_mut();
        if !matches!(inner.state, State::Open) {
            return;
        }
        // Writing to a `Vec` fails only if `text`'s `Display` does.
        let _ = write!(inner.buffer, "{text}");
        if inner.buffer.len() >= CHUNK {
            inner.drain();
        }
    }

    /// Writes `text` and a newline to stdout.
    pub(super) fn line(&self, text: impl Display) {
        self.print(format_args!("{text}\n"));
    }

    /// Writes `document` as pretty-printed JSON and a newline to stdout.
    pub(super) fn json(&self, document: &impl Serialize) {
        let mut text = Vec::new();
        match json_writer::write(&mut text, document) {
            Ok(()) => self.line(String::from_utf8_lossy(&text)),
            // Our documents hold nothing serde_json refuses; should one ever,
            // the command fails, as for any output that could not be written.
            Err(e) => {
                let mut inner = self.inner.borrow_mut();
                inner.drain();
                if matches!(inner.state, State::Open) {
                    inner.state = State::Failed(e.into());
                }
            }
        }
    }

    /// Writes `text` and a newline to stderr, after what stdout has pending.
    pub(super) fn error(&self, text: impl Display) {
        let mut inner = self.inner.borrow_mut();
        inner.drain();
        let _ = writeln!(inner.stderr, "{text}");
        let _ = inner.stderr.flush();
    }

    /// Writes out what stdout has pending (before someone else writes to it).
    pub(super) fn flush(&self) {
        self.inner.borrow_mut().drain();
    }

    /// Writes out the rest and returns the exit code to end with: `exit`, or
    /// [`Exit::Failure`] (said on stderr) if stdout failed other than by its
    /// reader going away.
    pub(super) fn finish(self, exit: Exit) -> Exit {
        let mut inner = self.inner.into_inner();
        inner.drain();
        match std::mem::replace(&mut inner.state, State::Closed) {
            State::Open | State::Closed => exit,
            State::Failed(e) => {
                let _ = writeln!(
                    inner.stderr,
                    "error: the output could not be written to stdout ({e}); it is incomplete"
                );
                let _ = inner.stderr.flush();
                Exit::Failure
            }
        }
    }
}

impl Inner {
    /// Writes the buffer to stdout and flushes it; records how that went.
    fn drain(&mut self) {
        if matches!(self.state, State::Open) {
            let written = if self.buffer.is_empty() {
                self.stdout.flush()
            } else {
                self.stdout
                    .write_all(&self.buffer)
                    .and_then(|()| self.stdout.flush())
            };
            match written {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::BrokenPipe => self.state = State::Closed,
                Err(e) => self.state = State::Failed(e),
            }
        }
        self.buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// A writer that keeps what it is given, and fails once `capacity` bytes
    /// are in with `kind`.
    #[derive(Clone)]
    struct Pipe {
        taken: Rc<RefCell<Vec<u8>>>,
        capacity: usize,
        kind: ErrorKind,
    }

    impl Pipe {
        fn new(capacity: usize, kind: ErrorKind) -> Pipe {
            Pipe {
                taken: Rc::default(),
                capacity,
                kind,
            }
        }

        fn text(&self) -> String {
            String::from_utf8_lossy(&self.taken.borrow()).into_owned()
        }
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut taken = self.taken.borrow_mut();
            let room = self.capacity.saturating_sub(taken.len());
            if room == 0 {
                return Err(io::Error::from(self.kind));
            }
            let n = room.min(buf.len());
            taken.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn lines(out: &Out, n: usize) {
        for i in 0..n {
            out.line(format_args!("{i:05} a line of history"));
        }
    }

    #[test]
    fn everything_arrives_in_order_across_stdout_and_stderr() {
        let (stdout, stderr) = (
            Pipe::new(usize::MAX, ErrorKind::Other),
            Pipe::new(usize::MAX, ErrorKind::Other),
        );
        let out = Out::to(Box::new(stdout.clone()), Box::new(stderr.clone()));
        out.line("one");
        out.print("two");
        out.error("error: three");
        // The stdout lines were written before the error went out.
        assert_eq!(stdout.text(), "one\ntwo");
        lines(&out, 1000);
        assert_eq!(out.finish(Exit::Pending), Exit::Pending);
        assert_eq!(stderr.text(), "error: three\n");
        assert_eq!(stdout.text().lines().count(), 1001);
        assert!(stdout.text().ends_with("00999 a line of history\n"));
    }

    #[test]
    fn a_reader_that_goes_away_ends_the_output_quietly() {
        let (stdout, stderr) = (
            Pipe::new(20_000, ErrorKind::BrokenPipe),
            Pipe::new(usize::MAX, ErrorKind::Other),
        );
        let out = Out::to(Box::new(stdout.clone()), Box::new(stderr.clone()));
        lines(&out, 10_000);
        out.error("error: said after the pipe closed");
        out.line("dropped");
        // The command's own exit code, whatever it is.
        assert_eq!(out.finish(Exit::Success), Exit::Success);
        assert_eq!(stdout.text().len(), 20_000);
        assert!(!stdout.text().contains("dropped"));
        assert_eq!(stderr.text(), "error: said after the pipe closed\n");

        let out = Out::to(
            Box::new(Pipe::new(0, ErrorKind::BrokenPipe)),
            Box::new(stderr.clone()),
        );
        out.line("nobody reads this");
        assert_eq!(out.finish(Exit::Pending), Exit::Pending);
    }

    #[test]
    fn another_write_error_is_said_and_fails_the_command() {
        let stderr = Pipe::new(usize::MAX, ErrorKind::Other);
        let out = Out::to(
            Box::new(Pipe::new(100, ErrorKind::StorageFull)),
            Box::new(stderr.clone()),
        );
        lines(&out, 1000);
        assert_eq!(out.finish(Exit::Success), Exit::Failure);
        assert!(
            stderr
                .text()
                .starts_with("error: the output could not be written to stdout"),
            "{}",
            stderr.text()
        );
    }

    #[test]
    fn a_closed_stderr_is_no_panic() {
        let out = Out::to(
            Box::new(Pipe::new(0, ErrorKind::BrokenPipe)),
            Box::new(Pipe::new(0, ErrorKind::BrokenPipe)),
        );
        out.line("x");
        out.error("error: y");
        assert_eq!(out.finish(Exit::Drift), Exit::Drift);
    }
}
