//! The history as a picture: text like `git log --graph` (one column per open
//! line of descent, `*` for a revision, `|\` where a merge opens its second
//! parent's line, `|/` where two lines meet at a branch point), and the same
//! graph as Graphviz `dot` or Mermaid for documents and reviews.
//!
//! Every function takes the revisions to show in the order to show them
//! (newest first, as `history` lists them): a revision comes before its
//! parents. Parents outside the list (a `-r` range) end their line there.
//! Edges are `down_revision`s; `depends_on` is drawn only by `dot` and
//! Mermaid (dashed), as a text graph has no room for it.

use crate::graph::{Graph, RevIdx};

/// The text graph: one line per revision (`*` in its column, then `label(i)`),
/// and the connecting lines between them. Each line ends with `\n`.
///
/// Costs O(revisions × open lines); a long history has few open lines.
pub fn text(graph: &Graph, order: &[RevIdx], label: impl Fn(RevIdx) -> String) -> String {
    let mut shown = vec![false; graph.len()];
    for &i in order {
        shown[i] = true;
    }
    let mut out = String::new();
    // The revision each open column waits for (the parent its line leads to).
    let mut columns: Vec<RevIdx> = Vec::new();
    for &rev in order {
        let at = match columns.iter().position(|&w| w == rev) {
            Some(at) => at,
            None => {
                columns.push(rev);
                columns.len() - 1
            }
        };
        // Other lines that end here fold into this revision's column: moved
        // next to it (crossing what is between), then joined.
        while let Some(other) = columns.iter().skip(at + 1).position(|&w| w == rev) {
            let mut j = at + 1 + other;
            while j > at + 1 {
                out.push_str(&cross(columns.len(), j - 1));
                columns.swap(j - 1, j);
                j -= 1;
            }
            out.push_str(&fold(columns.len(), j));
            columns.remove(j);
        }
        out.push_str(&row(columns.len(), at));
        out.push(' ');
        out.push_str(&label(rev));
        out.push('\n');
        let parents: Vec<RevIdx> = graph
            .rev(rev)
            .down
            .iter()
            .copied()
            .filter(|&p| shown[p])
            .collect();
        match parents.split_first() {
            None => {
                // A base (or the range's edge): its line ends.
                if at + 1 < columns.len() {
                    out.push_str(&end(columns.len(), at));
                }
                columns.remove(at);
            }
            Some((&first, rest)) => {
                columns[at] = first;
                for (k, &parent) in rest.iter().enumerate() {
                    let new = at + 1 + k;
                    out.push_str(&open(columns.len(), new));
                    columns.insert(new, parent);
                }
            }
        }
    }
    out
}

/// A line of `width` columns: `|` in every column, the given marks between.
fn line(width: usize, skip: impl Fn(usize) -> bool, marks: &[(usize, char)]) -> String {
    let mut chars = vec![' '; 2 * width + 1];
    for column in (0..width).filter(|&c| !skip(c)) {
        chars[2 * column] = '|';
    }
    for &(position, mark) in marks {
        if let Some(slot) = chars.get_mut(position) {
            *slot = mark;
        }
    }
    let text: String = chars.into_iter().collect();
    format!("{}\n", text.trim_end())
}

/// The revision's own line: `*` in its column, `|` in the others, padded.
fn row(width: usize, at: usize) -> String {
    let mut text = line(width, |_| false, &[(2 * at, '*')]);
    text.pop();
    format!("{text:<w$}", w = 2 * width - 1)
}

/// Columns `a` and `a + 1` swap places.
fn cross(width: usize, a: usize) -> String {
    line(width, |c| c == a || c == a + 1, &[(2 * a + 1, 'X')])
}

/// Column `j` joins column `j - 1`; the columns after it move left.
fn fold(width: usize, j: usize) -> String {
    let moving: Vec<(usize, char)> = (j..width).map(|c| (2 * c - 1, '/')).collect();
    line(width, |c| c >= j, &moving)
}

/// Column `at` ends; the columns after it move left.
fn end(width: usize, at: usize) -> String {
    let moving: Vec<(usize, char)> = (at + 1..width).map(|c| (2 * c - 1, '/')).collect();
    line(width, |c| c >= at, &moving)
}

/// A new column opens at `new`, out of the one before it; the columns from
/// `new` on move right.
fn open(width: usize, new: usize) -> String {
    let mut marks = vec![(2 * new - 1, '\\')];
    marks.extend((new..width).map(|c| (2 * c + 1, '\\')));
    line(width, |c| c >= new, &marks)
}

/// Graphviz `dot`: a node per revision (heads bold, `marked` filled), an edge
/// from each revision to its parents, dashed to what it `depends_on`; the
/// base at the bottom.
pub fn dot(
    graph: &Graph,
    order: &[RevIdx],
    label: impl Fn(RevIdx) -> String,
    marked: impl Fn(RevIdx) -> bool,
) -> String {
    let mut shown = vec![false; graph.len()];
    for &i in order {
        shown[i] = true;
    }
    let quote = |text: &str| {
        let escaped: String = text
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                '\n' => vec!['\\', 'n'],
                c if c.is_control() => vec![' '],
                c => vec![c],
            })
            .collect();
        format!("\"{escaped}\"")
    };
    let mut out = String::from(
        "digraph history {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for &i in order {
        let rev = graph.rev(i);
        let mut style = Vec::new();
        if rev.is_head() {
            style.push("bold");
        }
        if marked(i) {
            style.push("filled");
        }
        let style = if style.is_empty() {
            String::new()
        } else {
            format!(", style=\"{}\"", style.join(","))
        };
        out.push_str(&format!(
            "  {} [label={}{style}];\n",
            quote(&rev.id),
            quote(&label(i))
        ));
    }
    for &i in order {
        let rev = graph.rev(i);
        for &p in rev.down.iter().filter(|&&p| shown[p]) {
            out.push_str(&format!(
                "  {} -> {};\n",
                quote(&rev.id),
                quote(&graph.rev(p).id)
            ));
        }
        for &d in rev.deps.iter().filter(|&&d| shown[d]) {
            out.push_str(&format!(
                "  {} -> {} [style=dashed, label=\"depends_on\"];\n",
                quote(&rev.id),
                quote(&graph.rev(d).id)
            ));
        }
    }
    out.push_str("}\n");
    out
}

/// Mermaid `flowchart`: the same nodes and edges as [`dot`], for Markdown
/// (GitHub and GitLab render it in a ```` ```mermaid ```` block).
pub fn mermaid(
    graph: &Graph,
    order: &[RevIdx],
    label: impl Fn(RevIdx) -> String,
    marked: impl Fn(RevIdx) -> bool,
) -> String {
    let mut shown = vec![false; graph.len()];
    for &i in order {
        shown[i] = true;
    }
    // Ids are `A-Za-z0-9_`, so `r_<id>` is a valid node name.
    let node = |i: RevIdx| format!("r_{}", graph.rev(i).id);
    let text = |t: &str| {
        t.chars()
            .map(|c| match c {
                '"' => "#quot;".to_string(),
                '<' => "#lt;".to_string(),
                '>' => "#gt;".to_string(),
                '\n' => "<br/>".to_string(),
                c if c.is_control() => " ".to_string(),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    let mut out = String::from("flowchart BT\n");
    let mut heads = Vec::new();
    let mut marks = Vec::new();
    for &i in order {
        out.push_str(&format!("  {}[\"{}\"]\n", node(i), text(&label(i))));
        if graph.rev(i).is_head() {
            heads.push(node(i));
        }
        if marked(i) {
            marks.push(node(i));
        }
    }
    for &i in order {
        let rev = graph.rev(i);
        for &p in rev.down.iter().filter(|&&p| shown[p]) {
            out.push_str(&format!("  {} --> {}\n", node(i), node(p)));
        }
        for &d in rev.deps.iter().filter(|&&d| shown[d]) {
            out.push_str(&format!("  {} -.->|depends_on| {}\n", node(i), node(d)));
        }
    }
    if !heads.is_empty() {
        out.push_str(&format!(
            "  classDef head stroke-width:3px\n  class {} head\n",
            heads.join(",")
        ));
    }
    if !marks.is_empty() {
        out.push_str(&format!(
            "  classDef current fill:#cfe8ff\n  class {} current\n",
            marks.join(",")
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::graph::{GraphOptions, HeadPolicy, RevisionSpec};

    /// A graph from `(id, parents)` pairs, and its revisions newest first
    /// (the reverse of the order given, which lists parents first).
    fn graph(revs: &[(&str, &[&str])]) -> (Graph, Vec<RevIdx>) {
        let specs = revs
            .iter()
            .map(|(id, down)| RevisionSpec {
                revision: id.to_string(),
                down_revisions: down.iter().map(|d| d.to_string()).collect(),
                ..RevisionSpec::default()
            })
            .collect();
        let graph = Graph::build(
            specs,
            &GraphOptions {
                heads: HeadPolicy::Any,
            },
        )
        .expect("valid");
        let order = revs
            .iter()
            .rev()
            .map(|(id, _)| graph.index_of(id).expect("id"))
            .collect();
        (graph, order)
    }

    fn draw(revs: &[(&str, &[&str])]) -> String {
        let (graph, order) = graph(revs);
        text(&graph, &order, |i| graph.rev(i).id.clone())
    }

    #[test]
    fn a_chain_is_one_column() {
        assert_eq!(
            draw(&[("a", &[]), ("b", &["a"]), ("c", &["b"])]),
            "* c\n* b\n* a\n"
        );
    }

    #[test]
    fn a_branch_and_its_merge() {
        let drawn = draw(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("m", &["b", "c"])]);
        assert_eq!(drawn, "* m\n|\\\n| * c\n* | b\n|/\n* a\n");
    }

    #[test]
    fn two_unmerged_heads() {
        let drawn = draw(&[("a", &[]), ("b", &["a"]), ("c", &["a"])]);
        assert_eq!(drawn, "* c\n| * b\n|/\n* a\n");
    }

    #[test]
    fn two_roots_end_their_own_lines() {
        let drawn = draw(&[("a", &[]), ("x", &[]), ("b", &["a"]), ("y", &["x"])]);
        assert_eq!(drawn, "* y\n| * b\n* | x\n /\n* a\n");
    }

    #[test]
    fn lines_cross_to_meet() {
        // b's line must pass d's to reach a.
        let drawn = draw(&[
            ("x", &[]),
            ("a", &[]),
            ("b", &["a"]),
            ("d", &["x"]),
            ("c", &["a"]),
        ]);
        assert_eq!(drawn, "* c\n| * d\n| | * b\n|  X\n|/ /\n* | a\n /\n* x\n");
    }

    #[test]
    fn every_revision_is_drawn_once_on_any_history() {
        // A wide merge of three lines over a shared root.
        let (graph, order) = graph(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["a"]),
            ("d", &["a"]),
            ("m", &["b", "c", "d"]),
            ("n", &["m"]),
        ]);
        let drawn = text(&graph, &order, |i| format!("<{}>", graph.rev(i).id));
        for id in ["a", "b", "c", "d", "m", "n"] {
            assert_eq!(drawn.matches(&format!("<{id}>")).count(), 1, "{drawn}");
        }
        assert_eq!(drawn.matches('*').count(), 6, "{drawn}");
    }

    #[test]
    fn dot_and_mermaid_name_every_edge() {
        let (graph, order) = graph(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("m", &["b", "c"])]);
        let label = |i: RevIdx| format!("{} \"q\"", graph.rev(i).id);
        let d = dot(&graph, &order, label, |i| graph.rev(i).id == "b");
        assert!(d.starts_with("digraph history {\n"), "{d}");
        for edge in [
            "\"m\" -> \"b\";",
            "\"m\" -> \"c\";",
            "\"b\" -> \"a\";",
            "\"c\" -> \"a\";",
        ] {
            assert!(d.contains(edge), "{edge} missing from {d}");
        }
        assert!(
            d.contains("\"m\" [label=\"m \\\"q\\\"\", style=\"bold\"];"),
            "{d}"
        );
        assert!(
            d.contains("\"b\" [label=\"b \\\"q\\\"\", style=\"filled\"];"),
            "{d}"
        );
        let m = mermaid(&graph, &order, label, |i| graph.rev(i).id == "b");
        for edge in ["r_m --> r_b", "r_m --> r_c", "r_b --> r_a", "r_c --> r_a"] {
            assert!(m.contains(edge), "{edge} missing from {m}");
        }
        assert!(m.contains("r_m[\"m #quot;q#quot;\"]"), "{m}");
        assert!(m.contains("class r_m head"), "{m}");
        assert!(m.contains("class r_b current"), "{m}");
    }
}
