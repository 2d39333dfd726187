"""The driver of `import-alembic`, run inside the project's Python.

It does in one process what the importer needs from Alembic:

1. build Alembic's configuration from the same arguments as `alembic -c INI -n NAME
   -x ARG … upgrade heads --sql` (Alembic's own `CommandLine`);
2. load the revision scripts as Alembic loads them (`ScriptDirectory`, which
   executes every module: headers written as constants of the project's own
   modules are evaluated), and report each one in load order;
3. render the whole history in offline mode, once upgrading from base to the
   heads and once downgrading from the heads to base, and again both ways (a
   value that differs between the two passes was computed when rendering: it is
   frozen into the imported SQL).

Each run is what `alembic upgrade heads --sql` does (a fresh `ScriptDirectory`,
env.py executed, `run_migrations`), with hooks:

* each revision step's upgrade()/downgrade() is wrapped: the SQL it emits is
  captured (every statement Alembic writes goes through `static_output`), whether
  it entered `autocommit_block()` is noted, and an exception ends that step only
  (the run goes on past it, as `alembic upgrade <failed>:heads --sql` would);
* each migration context reports its dialect, paramstyle, whether SQLAlchemy
  doubles `%`, and the version table (name and schema); given the target
  server's version (`SELECT VERSION()`), the dialect learns it as it does when
  Alembic connects online (MySQL's dialect then renders for MariaDB);
* a bind parameter without a value, which offline mode renders as `NULL`, is
  rendered as `/* xtask-import-alembic: unfilled NAME */ NULL` so the importer
  sees it;
* indexes, constraints and foreign keys hash by creation order instead of by
  memory address, so `create_table` emits its `CREATE INDEX`es in the same order
  on every run.

Reports are JSON lines on the standard output the process started with; anything
else written to stdout (the project's own prints, Alembic's messages) goes to
stderr. The job is one JSON argument: `{"argv": [...], "skip": {"upgrade":
[...], "downgrade": [...]}, "passes": 2, "server_version": null}`; `skip` names
revisions not to run (a previous launch died in them).
"""
import functools
import io
import json
import os
import re
import sys
import traceback

RECORDS = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)

UNFILLED = "/* xtask-import-alembic: unfilled %s */ NULL"


def emit(kind, **fields):
    fields["type"] = kind
    RECORDS.write(json.dumps(fields) + "\n")
    RECORDS.flush()


def describe(error):
    """The message a user reads: a CommandError's text (what `FAILED:` prints),
    else the exception's type and text (a traceback's last line)."""
    try:
        from alembic.util import CommandError
    except Exception:
        CommandError = ()
    if isinstance(error, CommandError):
        text = str(error)
    else:
        text = "%s: %s" % (type(error).__name__, error)
    return text.strip() or type(error).__name__


def revision_file(error):
    """The revision script the exception was raised in, if any."""
    found = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        name = frame.f_code.co_filename
        if name.endswith(".py") and STATE.version_dirs and any(
            os.path.realpath(name).startswith(d) for d in STATE.version_dirs
        ):
            found = os.path.realpath(name)
    return found


class State:
    def __init__(self):
        self.direction = None
        self.pass_no = 0
        self.capture = None
        self.autocommit = False
        self.skip = {"upgrade": set(), "downgrade": set()}
        self.version_dirs = []
        self.server_version = None


STATE = State()


class Sink(io.TextIOBase):
    """Where Alembic writes the SQL it prints: the steps are captured instead."""

    def write(self, text):
        return len(text)


def install_hooks():
    from alembic.ddl.impl import DefaultImpl
    from alembic.runtime.migration import MigrationContext, RevisionStep

    init = MigrationContext.__init__

    def context_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if not self.as_sql:
            return
        d = self.dialect
        server_version_error = None
        if STATE.server_version is not None:
            server_version_error = apply_server_version(d, STATE.server_version)
        try:
            doubled = bool(d.identifier_preparer._double_percents)
        except Exception:
            doubled = None
        version_info = getattr(d, "server_version_info", None)
        emit(
            "context",
            dialect=d.name,
            impl=type(self.impl).__name__,
            paramstyle=getattr(d, "paramstyle", None),
            double_percents=doubled,
            version_table=self.version_table,
            version_table_schema=self.version_table_schema,
            is_mariadb=getattr(d, "is_mariadb", None),
            server_version_info=list(version_info) if version_info else None,
            server_version_error=server_version_error,
        )

    MigrationContext.__init__ = context_init

    autocommit_block = MigrationContext.autocommit_block

    def noting_autocommit_block(self, *args, **kwargs):
        STATE.autocommit = True
        return autocommit_block(self, *args, **kwargs)

    MigrationContext.autocommit_block = noting_autocommit_block

    static_output = DefaultImpl.static_output

    def capturing_static_output(self, text):
        if STATE.capture is not None:
            STATE.capture.append(text)
        return static_output(self, text)

    DefaultImpl.static_output = capturing_static_output

    step_init = RevisionStep.__init__

    def wrapping_step_init(self, *args, **kwargs):
        step_init(self, *args, **kwargs)
        self.migration_fn = step_runner(self, self.migration_fn)

    RevisionStep.__init__ = wrapping_step_init

    try:
        from sqlalchemy.sql.compiler import SQLCompiler
    except Exception:
        return
    render = SQLCompiler.render_literal_bindparam

    def render_literal_bindparam(self, bindparam, *args, **kwargs):
        if (
            not args
            and "render_literal_value" not in kwargs
            and bindparam.value is None
            and bindparam.callable is None
            and getattr(bindparam, "required", False)
            and bindparam.key not in (getattr(self, "_collected_params", None) or {})
        ):
            name = re.sub(r"[^\w.$-]", "_", str(bindparam.key))
            return UNFILLED % name
        return render(self, bindparam, *args, **kwargs)

    SQLCompiler.render_literal_bindparam = render_literal_bindparam

    try:
        import itertools
        from sqlalchemy.sql.schema import Constraint, ForeignKey, Index
    except Exception:
        return
    order = itertools.count()

    def creation_order_hash(self):
        n = self.__dict__.get("_xtask_import_order")
        if n is None:
            n = self.__dict__["_xtask_import_order"] = next(order)
        return n

    for cls in (Constraint, ForeignKey, Index):
        cls.__hash__ = creation_order_hash


def apply_server_version(dialect, version):
    """What the dialect's `initialize()` does online with the server's `SELECT
    VERSION()`, as far as it needs no connection: MySQL's dialect learns MariaDB
    and the version (`_parse_server_version`), then sets what depends on them
    (`_initialize_mariadb` / `_initialize_mysql`: native UUID, sequences…).
    Returns why it could not, or None."""
    parse = getattr(dialect, "_parse_server_version", None)
    if parse is None:
        return "the %s dialect does not render per server version" % dialect.name
    try:
        parse(version)
        dispatch = getattr(dialect, "_dispatch_for_vendor", None)
        if dispatch is not None:
            if not hasattr(dialect, "_casing"):
                dialect._casing = 0  # lower_case_table_names, read online
            dispatch(dialect._initialize_mysql, dialect._initialize_mariadb, None)
    except Exception as e:
        return describe(e)
    return None


def step_runner(step, function):
    revision = step.revision.revision
    direction = "upgrade" if step.is_upgrade else "downgrade"

    @functools.wraps(function)
    def run_step(*args, **kwargs):
        record = {
            "pass": STATE.pass_no,
            "direction": direction,
            "revision": revision,
        }
        emit("begin", **record)
        STATE.capture = []
        STATE.autocommit = False
        error = None
        try:
            if revision in STATE.skip[direction]:
                error = "skipped"
            else:
                function(*args, **kwargs)
        except (Exception, SystemExit) as e:
            error = describe(e)
        captured, STATE.capture = STATE.capture, None
        emit(
            "step",
            sql="".join(text + "\n\n" for text in captured),
            autocommit=STATE.autocommit,
            error=error,
            **record,
        )

    return run_step


def as_ids(value):
    """Alembic's reading of a header value (`util.to_tuple`): a list of ids, or
    why it is not one."""
    if value is None:
        return [], None
    if isinstance(value, str):
        return [value], None
    if isinstance(value, (tuple, list)):
        bad = [v for v in value if not isinstance(v, str)]
        if bad:
            return [], "holds %r, which is not a string" % (bad[0],)
        return list(value), None
    return [], "is %r (%s), not a string, a tuple or list of strings, or None" % (
        value,
        type(value).__name__,
    )


def report_scripts(scripts):
    for script in scripts:
        module = script.module
        record = {"revision": script.revision, "path": os.path.realpath(script.path)}
        problems = []
        if not isinstance(script.revision, str):
            problems.append("`revision` is %r, not a string" % (script.revision,))
            record["revision"] = str(script.revision)
        for key, attr in (
            ("down_revision", "down_revision"),
            ("branch_labels", "branch_labels"),
            ("depends_on", "depends_on"),
        ):
            ids, why = as_ids(getattr(module, attr, None))
            record[key] = ids
            if why:
                problems.append("`%s` %s" % (attr, why))
        record["problems"] = problems
        doc = module.__doc__
        record["doc"] = doc if isinstance(doc, str) else None
        emit("revision", **record)


def run(config, direction):
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config)
    if direction == "upgrade":

        def fn(rev, context):
            return script._upgrade_revs("heads", rev)

        starting, destination = None, "heads"
    else:
        try:
            heads = script.get_heads(consider_depends_on=True)
        except TypeError:
            heads = script.get_heads()

        def fn(rev, context):
            return script._downgrade_revs("base", rev)

        starting, destination = list(heads), "base"
    config.output_buffer = Sink()
    with EnvironmentContext(
        config,
        script,
        fn=fn,
        as_sql=True,
        starting_rev=starting,
        destination_rev=destination,
    ):
        script.run_env()


def drive(config, job):
    from alembic.script import ScriptDirectory

    try:
        script = ScriptDirectory.from_config(config)
        STATE.version_dirs = [
            os.path.realpath(str(d)) for d in script._version_locations
        ]
        scripts = list(script._load_revisions())
    except (Exception, SystemExit) as e:
        emit("load_failed", message=describe(e), file=revision_file(e))
        return
    report_scripts(scripts)
    emit("loaded")
    for pass_no in range(1, job.get("passes", 2) + 1):
        STATE.pass_no = pass_no
        for direction in ("upgrade", "downgrade"):
            STATE.direction = direction
            try:
                run(config, direction)
            except (Exception, SystemExit) as e:
                emit(
                    "run_failed",
                    direction=direction,
                    message=describe(e),
                    file=revision_file(e),
                    **{"pass": pass_no}
                )


def main():
    job = json.loads(sys.argv[1])
    try:
        import alembic
        import sqlalchemy
        from alembic.config import CommandLine
    except Exception as e:
        emit("no_alembic", message=describe(e), python=sys.executable)
        return
    emit(
        "versions",
        alembic=getattr(alembic, "__version__", "?"),
        sqlalchemy=getattr(sqlalchemy, "__version__", "?"),
        python=sys.version.split()[0],
    )
    for direction, revisions in job.get("skip", {}).items():
        STATE.skip[direction] = set(revisions)
    STATE.server_version = job.get("server_version")
    install_hooks()

    class Driver(CommandLine):
        def run_cmd(self, config, options):
            drive(config, job)

    sys.argv[0] = "alembic"
    try:
        Driver(prog="alembic").main(argv=job["argv"] + ["upgrade", "heads", "--sql"])
    except (Exception, SystemExit) as e:
        emit("load_failed", message=describe(e), file=revision_file(e))
    emit("done")


main()
