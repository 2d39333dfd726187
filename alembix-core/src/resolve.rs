//! Alembic's revision identifiers: what `head`, `heads`, `base`, an id prefix,
//! `label@…` and the relative forms `+N`, `-N`, `rev+N`, `label@head-1`,
//! `label@+N` mean (`shared/alembic/SEMANTICS.md` §3–4).
//!
//! ```text
//! ident    := [label "@"] sym
//! sym      := "head" | "heads" | "base" | revid | prefix | "-"N
//! relative := [label "@"] [sym] ("+"|"-") N    -- upgrade, downgrade and history targets only
//! ```
//!
//! [`resolve`] is Alembic's `get_revision` (one revision or base), [`resolve_many`]
//! its `get_revisions` (`heads`, `label@heads`, `-N` from every head). The
//! `Resolver` underneath mirrors `RevisionMap` method for method so that the
//! planner in [`crate::plan`] can follow Alembic's algorithms line by line.
//!
//! Where we differ from Alembic (each on purpose, see the case table in
//! `tests/alembic_cases.rs`): a relative target must match as a whole (Alembic's
//! `re.match` ignores trailing text, so `c+1xyz` meant `c+1`); an id prefix that
//! matches a revision id and a branch label of the *same* revision is not
//! ambiguous; an empty identifier is an error, not an assertion failure; an
//! unknown label in `label@base` is an error for [`resolve_many`] too (Alembic's
//! `get_revisions` answers it with nothing, its `get_revision` with an error).

use crate::graph::{Graph, RevIdx};
use crate::plan::{PlanError, PlanErrorKind};

/// Characters Alembic refuses in a revision id: they mean something in targets.
pub const ILLEGAL_ID_CHARS: [char; 4] = ['+', '-', ':', '@'];

/// Identifiers as Alembic's API takes them: nothing (base), one, or a tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevArg<'a> {
    /// No identifier: base, "no revision".
    Base,
    /// One identifier, e.g. `heads` or `ae10+2`.
    One(&'a str),
    /// Several identifiers, e.g. the rows of the version table.
    Many(&'a [&'a str]),
}

impl<'a> RevArg<'a> {
    /// The identifiers as a list (`Base` is empty).
    pub fn idents(&self) -> Vec<&'a str> {
        match *self {
            RevArg::Base => Vec::new(),
            RevArg::One(s) => vec![s],
            RevArg::Many(v) => v.to_vec(),
        }
    }

    /// The argument as it would be written in a message (`base` when empty).
    pub fn describe(&self) -> String {
        match *self {
            RevArg::Base => "base".to_string(),
            RevArg::One(s) => s.to_string(),
            RevArg::Many([]) => "base".to_string(),
            RevArg::Many(v) => v.join(", "),
        }
    }
}

/// A relative identifier `[label@][symbol](+|-)N`, as Alembic's
/// `(?:(.+?)@)?(\w+)?((?:\+|-)\d+)` parses it (but matched as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relative<'a> {
    /// The branch label before `@`, if any.
    pub label: Option<&'a str>,
    /// The revision or symbol the walk starts from (`head`, an id, …); `None`
    /// means "from the database's current revision".
    pub symbol: Option<&'a str>,
    /// Steps to walk: positive up (towards heads), negative down.
    pub delta: i64,
    /// `+N` or `-N` as written.
    pub written: &'a str,
}

impl Relative<'_> {
    /// The step count without sign, as Alembic prints it (`abs(int(N))`).
    pub fn count(&self) -> u64 {
        self.delta.unsigned_abs()
    }

    /// The step count with sign as Python's `int()` prints it (`-2`, `0`, `3`).
    pub fn int_text(&self) -> String {
        self.delta.to_string()
    }
}

/// Parses a relative identifier; `None` when `ident` is not one.
///
/// Linear in the length of `ident`: each candidate label end is tried once, and
/// the tail after it is only read up to the next `@` (a symbol, a sign and
/// digits contain none).
pub fn parse_relative(ident: &str) -> Option<Relative<'_>> {
    // `(.+?)@` is lazy: try the shortest label first. `.` does not match a
    // newline, so no label reaches past the first one.
    let newline = ident.find('\n').unwrap_or(ident.len());
    for (at, _) in ident.match_indices('@') {
        if at == 0 {
            continue;
        }
        if at > newline {
            break;
        }
        if let Some(rel) = relative_tail(&ident[at + 1..]) {
            return Some(Relative {
                label: Some(&ident[..at]),
                ..rel
            });
        }
    }
    relative_tail(ident)
}

fn relative_tail(s: &str) -> Option<Relative<'_>> {
    let word_end = s
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(s.len(), |(i, _)| i);
    let (symbol, rest) = s.split_at(word_end);
    let negative = match rest.as_bytes().first() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return None,
    };
    let digits = &rest[1..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits
        .bytes()
        .try_fold(0i64, |acc, b| {
            acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })
        .unwrap_or(i64::MAX);
    Some(Relative {
        label: None,
        symbol: (!symbol.is_empty()).then_some(symbol),
        delta: if negative { -magnitude } else { magnitude },
        written: rest,
    })
}

/// `-N` with digits only (Alembic's `int(x) < 0` in `get_revisions`).
fn negative_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = digits
        .bytes()
        .try_fold(0i64, |acc, b| {
            acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })
        .unwrap_or(i64::MAX);
    (n > 0).then_some(-n)
}

/// Checks a new revision id the way Alembic's `Revision.verify_rev_id` does,
/// then against our file format's rules (see [`crate::file`]).
pub fn check_revision_id(id: &str) -> Result<(), PlanError> {
    let mut bad: Vec<char> = ILLEGAL_ID_CHARS
        .iter()
        .copied()
        .filter(|c| id.contains(*c))
        .collect();
    bad.sort_unstable();
    if !bad.is_empty() {
        let list: Vec<String> = bad.iter().map(char::to_string).collect();
        return Err(PlanError::new(
            PlanErrorKind::RevisionError,
            format!(
                "Character(s) '{}' not allowed in revision identifier '{id}'",
                list.join(", ")
            ),
        )
        .with_help("`+`, `-`, `:` and `@` mean something in targets (`ae10+2`, `start:end`, `label@head`); use letters, digits and `_`"));
    }
    crate::file::check_revision_id(id).map_err(|why| {
        PlanError::new(
            PlanErrorKind::RevisionError,
            format!("revision identifier '{id}' {why}"),
        )
    })
}

/// Resolves `ident` to at most one revision (Alembic's `get_revision`); `None` is base.
///
/// `head` with several heads, or `heads` with several effective heads, is a
/// [`PlanErrorKind::MultipleHeads`] error. Relative forms (`head-1`) are not
/// understood here, only in targets.
pub fn resolve(graph: &Graph, ident: &str) -> Result<Option<RevIdx>, PlanError> {
    Resolver::new(graph).get_revision(Some(ident))
}

/// Resolves `ident` to revisions (Alembic's `get_revisions`, what `show` lists):
/// `heads` gives every effective head, `label@heads` the heads of a branch, `-N`
/// walks down N steps from every head; `base` and `label@base` give none.
pub fn resolve_many(graph: &Graph, ident: &str) -> Result<Vec<RevIdx>, PlanError> {
    let resolver = Resolver::new(graph);
    if let Some((label, "base")) = ident.split_once('@') {
        if !label.is_empty() {
            resolver.resolve_branch(label)?;
        }
    }
    let mut out = Vec::new();
    for got in resolver.get_revisions(RevArg::One(ident))? {
        match got {
            Got::Rev(r) => out.push(r),
            Got::Base => {}
            Got::TooFar => {
                return Err(PlanError::new(
                    PlanErrorKind::RevisionError,
                    format!("Walked too far: '{ident}' goes below the base of the history"),
                ))
            }
        }
    }
    Ok(out)
}

/// Whether `a` and `b` are on one line of ancestry (one is an ancestor-or-self of
/// the other); with `deps`, through `depends_on` too. Alembic's `_shares_lineage`.
pub fn shares_lineage(graph: &Graph, a: RevIdx, b: RevIdx, deps: bool) -> bool {
    graph.ancestor_mask(&[b], deps)[a] || graph.descendant_mask(&[b], deps)[a]
}

/// Where a walk stands: below every base, at the pseudo revision `base`
/// (reached by walking down from a root), or at a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pos {
    Nothing,
    Base,
    Rev(RevIdx),
}

impl Pos {
    pub(crate) fn of(rev: Option<RevIdx>) -> Pos {
        rev.map_or(Pos::Nothing, Pos::Rev)
    }

    pub(crate) fn rev(self) -> Option<RevIdx> {
        match self {
            Pos::Rev(r) => Some(r),
            _ => None,
        }
    }
}

/// One result of `get_revisions`: a revision, base, or a walk that fell off the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Got {
    Rev(RevIdx),
    Base,
    TooFar,
}

impl Got {
    pub(crate) fn of_walk(walked: Option<Pos>) -> Got {
        match walked {
            None => Got::TooFar,
            Some(Pos::Rev(r)) => Got::Rev(r),
            Some(_) => Got::Base,
        }
    }
}

/// What `_resolve_revision_number` gives: revisions (for `head`, `heads`, `base`)
/// or an identifier still to look up.
enum Resolved<'a> {
    Revs(Vec<RevIdx>),
    Ident(&'a str),
}

/// Alembic's `RevisionMap` look-ups over a validated [`Graph`].
pub(crate) struct Resolver<'g> {
    pub(crate) g: &'g Graph,
}

impl<'g> Resolver<'g> {
    pub(crate) fn new(g: &'g Graph) -> Self {
        Resolver { g }
    }

    fn id(&self, r: RevIdx) -> &'g str {
        &self.g.rev(r).id
    }

    fn ids(&self, revs: &[RevIdx]) -> String {
        revs.iter()
            .map(|&r| self.id(r))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `get_current_head(label)`: the single versioned head (of a branch).
    pub(crate) fn current_head(&self, label: Option<&str>) -> Result<Option<RevIdx>, PlanError> {
        let mut heads = self.g.heads().to_vec();
        if let Some(l) = label {
            heads = self.filter_for_lineage(&heads, l, false)?;
        }
        if heads.len() > 1 {
            let arg = match label {
                Some(l) => format!("{l}@head"),
                None => "head".to_string(),
            };
            return Err(self.multiple_heads(&heads, &arg));
        }
        Ok(heads.first().copied())
    }

    /// Alembic's `MultipleHeads` exception text, with what to do next.
    pub(crate) fn multiple_heads(&self, heads: &[RevIdx], arg: &str) -> PlanError {
        PlanError::new(
            PlanErrorKind::MultipleHeads,
            format!(
                "Multiple heads are present for given argument '{arg}'; {}",
                self.ids(heads)
            ),
        )
        .with_help(self.heads_help(heads))
    }

    /// "name one of these heads" advice, suggesting `label@head` where heads carry labels.
    pub(crate) fn heads_help(&self, heads: &[RevIdx]) -> String {
        let described: Vec<String> = heads
            .iter()
            .map(|&h| {
                let rev = self.g.rev(h);
                match rev.labels.first() {
                    Some(l) => format!("{} (`{l}@head`)", rev.id),
                    None => rev.id.clone(),
                }
            })
            .collect();
        format!(
            "the heads are {}; name one of them (a revision id or `<branch_label>@head`), use `heads` for all of them, or merge them with `cargo xtask merge`",
            described.join(", ")
        )
    }

    /// `_resolve_revision_number`: splits `label@`, expands `head`, `heads`, `base`.
    fn resolve_number<'a>(
        &self,
        id: Option<&'a str>,
    ) -> Result<(Resolved<'a>, Option<&'a str>), PlanError> {
        let (label, id) = match id {
            Some(s) => match s.split_once('@') {
                Some((l, rest)) => ((!l.is_empty()).then_some(l), Some(rest)),
                None => (None, Some(s)),
            },
            None => (None, None),
        };
        let resolved = match id {
            None | Some("base") => Resolved::Revs(Vec::new()),
            Some("heads") => match label {
                Some(l) => Resolved::Revs(self.filter_for_lineage(self.g.heads(), l, false)?),
                None => Resolved::Revs(self.g.real_heads().to_vec()),
            },
            Some("head") => Resolved::Revs(self.current_head(label)?.into_iter().collect()),
            Some(s) => Resolved::Ident(s),
        };
        Ok((resolved, label))
    }

    /// `get_revision`: at most one revision; `None` is base.
    pub(crate) fn get_revision(&self, id: Option<&str>) -> Result<Option<RevIdx>, PlanError> {
        let (resolved, label) = self.resolve_number(id)?;
        match resolved {
            Resolved::Revs(revs) if revs.len() > 1 => {
                Err(self.multiple_heads(&revs, id.unwrap_or("base")))
            }
            Resolved::Revs(revs) => {
                if revs.is_empty() {
                    if let Some(l) = label {
                        self.resolve_branch(l)?;
                    }
                }
                Ok(revs.first().copied())
            }
            Resolved::Ident(s) => self.revision_for_ident(s, label).map(Some),
        }
    }

    /// `get_revisions`: several revisions; `-N` walks down from every (labelled) head.
    pub(crate) fn get_revisions(&self, arg: RevArg<'_>) -> Result<Vec<Got>, PlanError> {
        match arg {
            RevArg::Base => Ok(Vec::new()),
            RevArg::Many(idents) => {
                let mut out = Vec::new();
                for ident in idents {
                    out.extend(self.get_revisions(RevArg::One(ident))?);
                }
                Ok(out)
            }
            RevArg::One(ident) => {
                let (resolved, label) = self.resolve_number(Some(ident))?;
                match resolved {
                    Resolved::Revs(revs) => Ok(revs.into_iter().map(Got::Rev).collect()),
                    Resolved::Ident(s) => {
                        if let Some(steps) = negative_int(s) {
                            let mut heads = self.g.real_heads().to_vec();
                            if let Some(l) = label {
                                heads.retain(|&h| self.g.rev(h).labels.iter().any(|x| x == l));
                            }
                            let mut out = Vec::with_capacity(heads.len());
                            for h in heads {
                                out.push(Got::of_walk(self.walk(
                                    Pos::Rev(h),
                                    steps,
                                    None,
                                    true,
                                )?));
                            }
                            return Ok(out);
                        }
                        Ok(vec![Got::Rev(self.revision_for_ident(s, label)?)])
                    }
                }
            }
        }
    }

    /// `_resolve_branch`: the revision a label (or an id used as a label) names.
    pub(crate) fn resolve_branch(&self, label: &str) -> Result<RevIdx, PlanError> {
        if let Some(r) = self.g.index_of(label).or_else(|| self.g.label_owner(label)) {
            return Ok(r);
        }
        self.revision_for_ident(label, None).map_err(|e| {
            PlanError::new(
                PlanErrorKind::ResolutionError,
                format!("No such branch: '{label}'"),
            )
            .with_help(format!(
                "{}; a branch is named by a branch label (or a revision id) before `@`",
                e.message
            ))
        })
    }

    /// Exact id or label first, then a unique prefix (of ids and labels longer
    /// than three characters); with `branch`, the revision must share its lineage.
    pub(crate) fn revision_for_ident(
        &self,
        ident: &str,
        branch: Option<&str>,
    ) -> Result<RevIdx, PlanError> {
        let branch_rev = match branch {
            Some(l) => Some(self.resolve_branch(l)?),
            None => None,
        };
        let exact = self.g.index_of(ident).or_else(|| self.g.label_owner(ident));
        let rev = match exact {
            Some(r) => r,
            None => self.by_prefix(ident, branch_rev)?,
        };
        if let (Some(b), Some(l)) = (branch_rev, branch) {
            if !shares_lineage(self.g, rev, b, false) {
                return Err(PlanError::new(
                    PlanErrorKind::ResolutionError,
                    format!("Revision {} is not a member of branch '{l}'", self.id(rev)),
                )
                .with_help(format!(
                    "{} is neither an ancestor nor a descendant of {}; drop `{l}@` or name a revision of that branch",
                    self.id(rev),
                    self.id(b)
                )));
            }
        }
        Ok(rev)
    }

    fn by_prefix(&self, prefix: &str, branch_rev: Option<RevIdx>) -> Result<RevIdx, PlanError> {
        let no_such = || {
            let hint = if prefix.chars().count() < 4 {
                "; please ensure at least four characters are present for partial revision identifier matches"
            } else {
                ""
            };
            PlanError::new(
                PlanErrorKind::ResolutionError,
                format!("No such revision or branch '{prefix}'{hint}"),
            )
            .with_help("`cargo xtask history` lists the revisions; a prefix must have four characters or more and match one revision")
        };
        if prefix.is_empty() {
            return Err(no_such());
        }
        // Candidates in Alembic's map order: ids in load order, then labels.
        let mut candidates: Vec<(&str, RevIdx)> = Vec::new();
        for (i, rev) in self.g.revisions().iter().enumerate() {
            if rev.id.len() > 3 && rev.id.starts_with(prefix) {
                candidates.push((rev.id.as_str(), i));
            }
        }
        for (i, rev) in self.g.revisions().iter().enumerate() {
            for l in &rev.declared_labels {
                if l.len() > 3 && l.starts_with(prefix) {
                    candidates.push((l.as_str(), i));
                }
            }
        }
        if let Some(b) = branch_rev {
            let mask = self.lineage_mask(&[b], false);
            candidates.retain(|&(_, r)| mask[r]);
        }
        // An id and a label of the same revision are one candidate.
        let mut seen: Vec<RevIdx> = Vec::new();
        candidates.retain(|&(_, r)| {
            if seen.contains(&r) {
                false
            } else {
                seen.push(r);
                true
            }
        });
        match candidates.as_slice() {
            [] => Err(no_such()),
            [(_, r)] => Ok(*r),
            many => {
                let shown: Vec<String> =
                    many.iter().take(3).map(|(k, _)| format!("'{k}'")).collect();
                Err(PlanError::new(
                    PlanErrorKind::ResolutionError,
                    format!("Multiple revisions start with '{prefix}': {}...", shown.join(", ")),
                )
                .with_help("give more characters of the revision id, or scope it to a branch with `<branch_label>@<prefix>`"))
            }
        }
    }

    /// Revisions on the same line of ancestry as any of `anchors` (empty: none).
    pub(crate) fn lineage_mask(&self, anchors: &[RevIdx], deps: bool) -> Vec<bool> {
        let mut mask = self.g.ancestor_mask(anchors, deps);
        for (m, d) in mask.iter_mut().zip(self.g.descendant_mask(anchors, deps)) {
            *m |= d;
        }
        mask
    }

    /// The revisions `check_against` names for a lineage test (`_shares_lineage`'s
    /// `test_against_revs`); empty means "everything shares it" (e.g. `base`).
    fn lineage_anchors(&self, check_against: &str) -> Result<Vec<RevIdx>, PlanError> {
        let (resolved, label) = self.resolve_number(Some(check_against))?;
        let mut anchors = Vec::new();
        if let Some(l) = label {
            anchors.push(self.revision_for_ident(l, None)?);
        }
        match resolved {
            Resolved::Revs(revs) => anchors.extend(revs),
            Resolved::Ident(s) => anchors.push(self.revision_for_ident(s, None)?),
        }
        Ok(anchors)
    }

    /// `filter_for_lineage`: the `targets` that share lineage with `check_against`.
    pub(crate) fn filter_for_lineage(
        &self,
        targets: &[RevIdx],
        check_against: &str,
        deps: bool,
    ) -> Result<Vec<RevIdx>, PlanError> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let anchors = self.lineage_anchors(check_against)?;
        if anchors.is_empty() {
            return Ok(targets.to_vec());
        }
        let mask = self.lineage_mask(&anchors, deps);
        Ok(targets.iter().copied().filter(|&t| mask[t]).collect())
    }

    /// `_walk`: `steps` up (towards heads, following only children in `label`'s
    /// lineage) or down (towards bases). `None` when the walk runs off the graph
    /// and `no_overwalk` is set; otherwise it stops where it is.
    pub(crate) fn walk(
        &self,
        start: Pos,
        steps: i64,
        label: Option<&str>,
        no_overwalk: bool,
    ) -> Result<Option<Pos>, PlanError> {
        let mut lineage: Option<Vec<bool>> = None;
        let mut at = start;
        for _ in 0..steps.unsigned_abs() {
            let next: Vec<Pos> = if steps > 0 {
                let up: Vec<RevIdx> = match at {
                    Pos::Nothing | Pos::Base => self.g.bases().to_vec(),
                    Pos::Rev(r) => self.g.rev(r).children.clone(),
                };
                let up = match label {
                    Some(l) if !up.is_empty() => {
                        if lineage.is_none() {
                            let anchors = self.lineage_anchors(l)?;
                            lineage = Some(if anchors.is_empty() {
                                vec![true; self.g.len()]
                            } else {
                                self.lineage_mask(&anchors, false)
                            });
                        }
                        match &lineage {
                            Some(mask) => up.into_iter().filter(|&c| mask[c]).collect(),
                            None => up,
                        }
                    }
                    _ => up,
                };
                up.into_iter().map(Pos::Rev).collect()
            } else {
                match at {
                    Pos::Base => Vec::new(),
                    Pos::Nothing => self.g.heads().iter().map(|&h| Pos::Rev(h)).collect(),
                    Pos::Rev(r) if self.g.rev(r).down.is_empty() => vec![Pos::Base],
                    Pos::Rev(r) => self.g.rev(r).down.iter().map(|&d| Pos::Rev(d)).collect(),
                }
            };
            match next.as_slice() {
                [] => return Ok(if no_overwalk { None } else { Some(at) }),
                [one] => at = *one,
                many => {
                    let names: Vec<&str> = many
                        .iter()
                        .filter_map(|p| p.rev())
                        .map(|r| self.id(r))
                        .collect();
                    let from = match at {
                        Pos::Rev(r) => self.id(r).to_string(),
                        _ => "base".to_string(),
                    };
                    let (way, example) = if steps > 0 {
                        ("children", "`<branch_label>@+1`")
                    } else {
                        ("parents", "one of them")
                    };
                    return Err(PlanError::new(PlanErrorKind::RevisionError, "Ambiguous walk")
                        .with_help(format!(
                            "{from} has several {way} ({}); a relative step cannot choose: name the revision you want, or {example}",
                            names.join(", ")
                        )));
                }
            }
        }
        Ok(Some(at))
    }

    /// `_get_all_current`: the rows plus the branch tips they imply through `depends_on`.
    pub(crate) fn all_current(&self, revs: &[RevIdx]) -> Vec<RevIdx> {
        let set = self.g.ancestor_mask(revs, true);
        (0..self.g.len())
            .filter(|&i| set[i] && !self.g.rev(i).children.iter().any(|&c| set[c]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn relative_forms() {
        let r = parse_relative("+2").unwrap();
        assert_eq!(
            (r.label, r.symbol, r.delta, r.written),
            (None, None, 2, "+2")
        );
        let r = parse_relative("c2branch@head-1").unwrap();
        assert_eq!(
            (r.label, r.symbol, r.delta),
            (Some("c2branch"), Some("head"), -1)
        );
        let r = parse_relative("a@b@+1").unwrap();
        assert_eq!((r.label, r.symbol, r.delta), (Some("a@b"), None, 1));
        let r = parse_relative("ebranch@+2").unwrap();
        assert_eq!((r.label, r.symbol, r.delta), (Some("ebranch"), None, 2));
        assert!(parse_relative("c+1xyz").is_none());
        assert!(parse_relative("head").is_none());
        assert!(parse_relative("ab-").is_none());
        let r = parse_relative("x+99999999999999999999999").unwrap();
        assert_eq!(r.delta, i64::MAX);
    }

    /// Targets of about a megabyte, of every shape that used to cost a pass per
    /// `@`. Only the answers are checked: a return to quadratic time shows as
    /// this test running for many minutes, never as a flaky timing assertion.
    #[test]
    fn megabyte_targets_resolve_in_one_pass() {
        use crate::graph::{GraphOptions, RevisionSpec};
        let spec = |id: &str, down: &[&str], label: &[&str]| RevisionSpec {
            revision: id.to_string(),
            down_revisions: down.iter().map(|s| s.to_string()).collect(),
            branch_labels: label.iter().map(|s| s.to_string()).collect(),
            ..RevisionSpec::default()
        };
        let g = Graph::build(
            vec![
                spec("aaaa1", &[], &["lbl"]),
                spec("bbbb2", &["aaaa1"], &[]),
                spec("cccc3", &["bbbb2"], &[]),
            ],
            &GraphOptions::default(),
        )
        .unwrap();
        const N: usize = 1 << 20;
        let ats = "@".repeat(N);
        assert_eq!(parse_relative(&ats), None);
        let e = resolve(&g, &ats).unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::ResolutionError);

        // The lazy label ends at the last `@`: everything before it is the label.
        let plus_one = format!("{ats}+1");
        let r = parse_relative(&plus_one).unwrap();
        assert_eq!(
            (r.label.map(str::len), r.symbol, r.delta),
            (Some(N - 1), None, 1)
        );
        let r = parse_relative(&format!("lbl@{}", "head@".repeat(N / 5))).map(|r| r.delta);
        assert_eq!(r, None);
        let heads = format!("lbl{}-1", "@head".repeat(N / 5));
        let r = parse_relative(&heads).unwrap();
        assert_eq!((r.symbol, r.delta), (Some("head"), -1));
        assert_eq!(r.label.map(str::len), Some(heads.len() - "@head-1".len()));

        for run in ["+", "-", ":", "\n@", "@+", "a+1@"] {
            let text = run.repeat(N / run.len());
            assert_eq!(parse_relative(&text), None, "{run}");
            assert!(resolve(&g, &text).is_err(), "{run}");
            assert!(resolve_many(&g, &text).is_err(), "{run}");
        }

        // Digits: a prefix of no revision; as `-N`, a walk off the graph.
        let digits = "1".repeat(N);
        assert_eq!(parse_relative(&digits), None);
        assert_eq!(
            resolve(&g, &digits).unwrap_err().kind,
            PlanErrorKind::ResolutionError
        );
        let minus = format!("-{digits}");
        assert_eq!(parse_relative(&minus).map(|r| r.delta), Some(-i64::MAX));
        assert!(resolve_many(&g, &minus)
            .unwrap_err()
            .message
            .starts_with("Walked too far"));
        let below = format!("cccc3{minus}");
        let r = parse_relative(&below).unwrap();
        assert_eq!((r.symbol, r.delta), (Some("cccc3"), -i64::MAX));

        // Through the planner: the same answers.
        let e = crate::plan::plan_upgrade(&g, &[], &ats).unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::ResolutionError);
        let e = crate::plan::plan_upgrade(&g, &[], &":".repeat(N)).unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::CommandError);
        let e = crate::plan::plan_downgrade(&g, &["cccc3"], &heads).unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::ResolutionError);
        let e = crate::plan::history(&g, Some(&":".repeat(N)), &[]).unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::CommandError);
        let plan = crate::plan::plan_upgrade(&g, &[], "lbl@+2").unwrap();
        assert_eq!(plan.steps.len(), 2);
    }

    #[test]
    fn illegal_characters_are_listed_sorted() {
        let e = check_revision_id("no@atsigns-ordashes").unwrap_err();
        assert_eq!(
            e.message,
            "Character(s) '-, @' not allowed in revision identifier 'no@atsigns-ordashes'"
        );
        assert!(check_revision_id("ae1027a6acf").is_ok());
    }
}
