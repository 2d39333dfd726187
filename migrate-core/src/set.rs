//! A migration set: parsed files plus the validated graph over them.
//!
//! This is the one entry point the macro, the runtime (folder mode) and the
//! xtask call, so a rule checked at build time and at launch can never drift.

use crate::file::{self, MigrationFile};
use crate::graph::{Graph, GraphOptions, HeadPolicy, RevIdx, RevisionSpec};
use crate::problem::{Origin, Problem, Problems};

/// A file handed to the core: a name relative to the crate or project root, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the root, with `/` separators (used in every message).
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// Parsed migration files and their validated graph; `files[i]` is revision `i`.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    files: Vec<MigrationFile>,
    graph: Graph,
}

impl MigrationSet {
    /// Parses and validates `sources`, reporting every problem of every file at once.
    ///
    /// Load order is the order of file names (sorted), as Alembic's.
    pub fn from_sources(
        sources: &[SourceFile],
        options: &GraphOptions,
    ) -> Result<MigrationSet, Problems> {
        // File names computed once, not on every comparison.
        let mut keyed: Vec<(&str, &SourceFile)> =
            sources.iter().map(|s| (file_name(&s.name), s)).collect();
        keyed.sort_by(|(a_name, a), (b_name, b)| a_name.cmp(b_name).then(a.name.cmp(&b.name)));
        let order = keyed.into_iter().map(|(_, source)| source);
        let mut problems: Vec<Problem> = Vec::new();
        let mut files = Vec::with_capacity(order.len());
        let mut stand_ins = Vec::new();
        for source in order {
            match file::parse(&source.name, &source.text) {
                Ok(f) => files.push(f),
                Err(mut ps) => {
                    problems.append(&mut ps);
                    stand_ins.extend(stand_in(source));
                }
            }
        }
        let mut specs: Vec<RevisionSpec> = files.iter().map(spec_of).collect();
        let mut options = *options;
        if !problems.is_empty() {
            // A file that failed to parse still declares its revision as far as we can
            // read it, so the files that build on it get no second, misleading "names
            // X, which is not in the history". Heads are not judged on a partial history.
            specs.extend(stand_ins);
            options.heads = HeadPolicy::Any;
        }
        match Graph::build(specs, &options) {
            Ok(graph) if problems.is_empty() => {
                // Graph::build drops nothing when it succeeds, so indices line up.
                Ok(MigrationSet { files, graph })
            }
            Ok(_) => Err(Problems(problems)),
            Err(Problems(mut more)) => {
                problems.append(&mut more);
                Err(Problems(problems))
            }
        }
    }

    /// Validates already-parsed files (e.g. an embedded set turned back into files).
    pub fn from_files(
        mut files: Vec<MigrationFile>,
        options: &GraphOptions,
    ) -> Result<MigrationSet, Problems> {
        files.sort_by(|a, b| {
            file_name(&a.file)
                .cmp(file_name(&b.file))
                .then(a.file.cmp(&b.file))
        });
        let specs = files.iter().map(spec_of).collect();
        let graph = Graph::build(specs, options)?;
        Ok(MigrationSet { files, graph })
    }

    /// The validated graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The parsed files, in load order (index = [`RevIdx`]).
    pub fn files(&self) -> &[MigrationFile] {
        &self.files
    }

    /// The file of revision `idx`.
    pub fn file(&self, idx: RevIdx) -> &MigrationFile {
        &self.files[idx]
    }
}

/// What a file that failed to parse declares, read leniently from its header:
/// its revision id and, when readable, its `down_revision`.
fn stand_in(source: &SourceFile) -> Option<RevisionSpec> {
    let mut revision = None;
    let mut down_revisions = Vec::new();
    for (index, line) in source.text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.starts_with("-- migrate:") {
            break;
        }
        let Some((key, value)) = line.strip_prefix("--").and_then(|l| l.split_once(':')) else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "revision" if file::check_revision_id(value).is_ok() => {
                revision = Some((
                    value.to_string(),
                    u32::try_from(index + 1).unwrap_or(u32::MAX),
                ));
            }
            "down_revision" => {
                let ids: Vec<String> = value.split(',').map(|v| v.trim().to_string()).collect();
                if ids.iter().all(|id| file::check_revision_id(id).is_ok()) {
                    down_revisions = ids;
                }
            }
            _ => {}
        }
    }
    let (revision, line) = revision?;
    Some(RevisionSpec {
        revision,
        down_revisions,
        origin: Origin::file(source.name.clone(), line),
        ..RevisionSpec::default()
    })
}

/// The graph input for one parsed file.
pub fn spec_of(f: &MigrationFile) -> RevisionSpec {
    RevisionSpec {
        revision: f.revision.clone(),
        down_revisions: f.down_revisions.clone(),
        branch_labels: f.branch_labels.clone(),
        depends_on: f.depends_on.clone(),
        origin: Origin::file(f.file.clone(), f.lines.revision),
        lines: f.lines,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
