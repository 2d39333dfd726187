"""The Alembic side of the differential suite (`differential.rs`): one process
for every generated history, driven by JSON lines on stdin, one JSON answer
per line on stdout.

Requests:

  {"cmd": "load", "dir": D}
      D holds `versions/*.py`; the driver writes `D/env.py` (it records each
      step through `on_version_apply`); the database is `D/alembic.db`.
      Answer: {"heads": [...], "real_heads": [...], "history": [...]} (load
      order / `walk_revisions()` order), or {"error": {...}}.
  {"cmd": "op", "op": "upgrade"|"downgrade"|"stamp", "targets": [...], "purge": bool}
      Runs `alembic.command.<op>` on the loaded project. Answer:
      {"error": null | {...}, "rows_before": [...], "steps": [{"upgrade",
      "stamp", "revisions", "rows"}], "rows": [...], "current": [...]}, where
      a step's `rows` are the version rows right after it (the callback's
      `heads`) and `current` is what `alembic current` prints (first word of
      each line).
  {"cmd": "set_rows", "rows": [...]}
      Replaces the version rows. Answer: {"rows": [...]}.

An error is {"class", "message", "own"}: `own` is false when Alembic crashed
(KeyError, AssertionError) rather than refused, and `where` then names its
innermost frame. Migrations do nothing; Alembic's warnings (e.g. `downgrade -1`
from several rows) are silenced: the Rust side knows which answers deviate on
purpose.
"""

import io
import json
import os
import sqlite3
import sys
import traceback
import warnings

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

warnings.simplefilter("ignore")
# Each project's files are imported once per command: cache their bytecode
# (in the scratch folder) even where PYTHONDONTWRITEBYTECODE is set.
sys.dont_write_bytecode = False

ENV_PY = '''from alembic import context
from sqlalchemy import create_engine, event, pool

config = context.config
steps = config.attributes.setdefault("steps", [])


def record(ctx, step, heads, run_args):
    steps.append(
        {
            "upgrade": bool(step.is_upgrade),
            "stamp": bool(step.is_stamp),
            "revisions": list(step.up_revision_ids),
            "rows": sorted(heads),
        }
    )


engine = config.attributes.get("engine")
if engine is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)

    @event.listens_for(engine, "connect")
    def no_fsync(dbapi_connection, record):
        # A scratch database: durability is not under test, speed is.
        dbapi_connection.execute("PRAGMA synchronous = OFF")

    config.attributes["engine"] = engine
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, on_version_apply=record)
    with context.begin_transaction():
        context.run_migrations()
'''


def error_of(e):
    # `own`: one of Alembic's errors (a refusal); anything else (KeyError,
    # AssertionError) is Alembic crashing.
    own = isinstance(e, (CommandError, RevisionError))
    error = {"class": type(e).__name__, "message": str(e), "own": own}
    if not own:
        # Where Alembic crashed: its innermost frame.
        frame = traceback.extract_tb(e.__traceback__)[-1]
        error["where"] = "%s:%d %s" % (os.path.basename(frame.filename), frame.lineno, frame.name)
    return error


class Project:
    def __init__(self, directory):
        self.dir = directory
        self.db = os.path.join(directory, "alembic.db")
        with open(os.path.join(directory, "env.py"), "w") as f:
            f.write(ENV_PY)
        self.out = io.StringIO()
        self.cfg = Config(stdout=self.out)
        self.cfg.set_main_option("script_location", directory)
        self.cfg.set_main_option("sqlalchemy.url", "sqlite:///" + self.db)

    def rows(self):
        c = sqlite3.connect(self.db)
        try:
            return [r[0] for r in c.execute("SELECT version_num FROM alembic_version")]
        except sqlite3.OperationalError:
            return []
        finally:
            c.close()

    def load(self):
        script = ScriptDirectory.from_config(self.cfg)
        heads = list(script.get_heads())
        return {
            "heads": heads,
            "real_heads": list(script.revision_map._real_heads),
            "history": [r.revision for r in script.walk_revisions()],
        }

    def op(self, req):
        steps = []
        self.cfg.attributes["steps"] = steps
        before = self.rows()
        error = None
        targets = req["targets"]
        try:
            if req["op"] == "upgrade":
                command.upgrade(self.cfg, targets[0])
            elif req["op"] == "downgrade":
                command.downgrade(self.cfg, targets[0])
            else:
                command.stamp(self.cfg, targets, purge=req.get("purge", False))
        except Exception as e:  # noqa: BLE001 - every failure is an answer
            error = error_of(e)
        self.out.seek(0)
        self.out.truncate()
        current = None
        try:
            command.current(self.cfg)
            current = [line.split()[0] for line in self.out.getvalue().splitlines() if line.strip()]
        except Exception as e:  # noqa: BLE001
            current = {"error": error_of(e)}
        return {
            "error": error,
            "rows_before": before,
            "steps": steps,
            "rows": self.rows(),
            "current": current,
        }

    def set_rows(self, rows):
        c = sqlite3.connect(self.db)
        try:
            c.execute(
                "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
            c.execute("DELETE FROM alembic_version")
            c.executemany("INSERT INTO alembic_version (version_num) VALUES (?)", [(r,) for r in rows])
            c.commit()
        finally:
            c.close()
        return {"rows": self.rows()}


def main():
    project = None
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "load":
                project = Project(req["dir"])
                try:
                    answer = project.load()
                except Exception as e:  # noqa: BLE001 - a history Alembic refuses
                    answer = {"error": error_of(e)}
            elif req["cmd"] == "op":
                answer = project.op(req)
            elif req["cmd"] == "set_rows":
                answer = project.set_rows(req["rows"])
            else:
                answer = {"error": {"class": "Driver", "message": "unknown request"}}
        except Exception as e:  # noqa: BLE001 - the driver itself failed
            answer = {"error": {"class": "Driver", "message": repr(e)}}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
