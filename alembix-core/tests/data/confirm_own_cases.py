"""Re-runs every case of own_cases.json through real Alembic and compares.

Usage: python3 -m venv v && v/bin/pip install alembic==1.20.1 SQLAlchemy==2.1.9
       v/bin/python confirm_own_cases.py
Prints each case that differs and exits 1 if any does. Where we deviate from
Alembic on purpose, the case keeps Alembic's answer (alembic_cases.rs says ours).
"""
import json, os, sys, tempfile
from alembic.runtime.migration import HeadMaintainer
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

HERE = os.path.dirname(os.path.abspath(__file__))


def write_scripts(graph, root):
    versions = os.path.join(root, "versions")
    os.makedirs(versions)
    for i, r in enumerate(graph):
        with open(os.path.join(versions, f"{i:03d}_{r['revision']}.py"), "w") as f:
            f.write(
                f"revision = {r['revision']!r}\n"
                f"down_revision = {r['down_revision']!r}\n"
                f"branch_labels = {r['branch_labels'] or None!r}\n"
                f"depends_on = {r['depends_on'] or None!r}\n"
                "def upgrade(): pass\ndef downgrade(): pass\n"
            )


class Rows(HeadMaintainer):
    """HeadMaintainer's bookkeeping without a database (its assertions kept)."""

    def __init__(self, rows):
        self.heads = set(rows)

    def _insert_version(self, v):
        assert v not in self.heads
        self.heads.add(v)

    def _delete_version(self, v):
        self.heads.remove(v)

    def _update_version(self, old, new):
        assert new not in self.heads
        self.heads.remove(old)
        self.heads.add(new)


def run(case):
    op = case["op"]
    with tempfile.TemporaryDirectory() as root:
        write_scripts(case["graph"], root)
        script = ScriptDirectory(root)
        try:
            if op["op"] == "resolve":
                return {"revisions": [r.revision for r in script.get_revisions(op["id"])]}
            rows = tuple(op["from"])
            if op["op"] == "stamp":
                plan = script._stamp_revs
            elif op["op"] == "upgrade":
                plan = script._upgrade_revs
            else:
                plan = script._downgrade_revs
            table, changes, steps = Rows(rows), [], []
            for step in plan(op["to"], rows):
                before = set(table.heads)
                table.update_to_step(step)
                if op["op"] != "stamp":
                    steps.append(step.revision.revision)
                changes.append({"remove": sorted(before - table.heads), "add": sorted(table.heads - before)})
            result = {"heads_after": sorted(table.heads), "version_changes": changes}
            if op["op"] != "stamp":
                result["steps"] = steps
            return result
        except (CommandError, RevisionError) as e:
            return {"error": {"kind": type(e).__name__, "message": str(e)}}
        except (KeyError, AssertionError) as e:
            # Alembic crashing part-way (the cases' notes say where); we deviate.
            return {"error": {"kind": type(e).__name__, "message": str(e)}}


def same(expected, got):
    if "error" in expected:
        e = expected["error"]
        kinds = [e["kind"]] + e.get("alt_kinds", [])
        return "error" in got and got["error"]["kind"] in kinds and got["error"]["message"] == e["message"]
    return all(got.get(k) == v for k, v in expected.items())


def main():
    with open(os.path.join(HERE, "own_cases.json")) as f:
        cases = json.load(f)["cases"]
    bad = 0
    for case in cases:
        got = run(case)
        if not same(case["expected"], got):
            bad += 1
            print(f"{case['id']}: alembic gives {json.dumps(got)}, the case says {json.dumps(case['expected'])}")
    print(f"{len(cases) - bad}/{len(cases)} cases agree with alembic")
    sys.exit(1 if bad else 0)


main()
