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
   frozen into the imported SQL); with `"dialects"` (`import-alembic --dialect`),
   all of that once per dialect, in turn.

Each run is what `alembic upgrade heads --sql` does (a fresh `ScriptDirectory`,
env.py executed, `run_migrations`), with hooks:

* each revision step's upgrade()/downgrade() is wrapped: the SQL it emits is
  captured (every statement Alembic writes goes through `static_output`), whether
  it entered `autocommit_block()` is noted, and an exception ends that step only
  (the run goes on past it, as `alembic upgrade <failed>:heads --sql` would);
* each migration context reports its dialect, paramstyle, whether SQLAlchemy
  doubles `%`, and the version table (name and schema); given the target
  server's version (`SELECT VERSION()`), the dialect learns it as it does when
  Alembic connects online (MySQL's dialect then renders for MariaDB; with
  `"dialects"`, only the `mysql` rendering takes it);
* rendering for a dialect of `"dialects"`, the migration context env.py
  configures is made for that dialect (`context.configure(url=…)`, a
  connection or a dialect name of another backend replaced by
  `dialect_name`), everything else env.py configures kept; a URL or
  connection of that backend already is kept as it is (its driver and
  options, `mariadb://` for `mysql`);
* a bind parameter without a value, which offline mode renders as `NULL`, is
  rendered as `/* xtask-import-alembic: unfilled NAME */ NULL` so the importer
  sees it;
* indexes, constraints and foreign keys hash by creation order instead of by
  memory address, so `create_table` emits its `CREATE INDEX`es in the same order
  on every run.

With `"mode": "online"` (`import-alembic --online-scratch`) it runs the
history instead, as `alembic upgrade heads` then `alembic downgrade base` do,
against a scratch database it creates first on the server whose URL is in the
environment (`ALEMBIX_IMPORT_SERVER_URL`, never on the command line, which
other users can read):

* every engine the project makes (`create_engine`, `engine_from_config`, the
  async variants) is pointed at the scratch database, keeping the project's
  dialect and driver when they are of the server's kind; before any revision
  runs, the connection env.py hands Alembic is checked to be the scratch
  database, or nothing runs;
* each revision step captures the statements the driver executed
  (`after_cursor_execute`: statements that failed are not kept), with their
  parameters inlined as the driver sends them (`cursor.mogrify` for drivers that
  interpolate on the client, else the dialect's literals), leaving out what
  reflection reads (`sa.inspect`, `has_table`, `autoload_with`, the dialect's
  own queries); the first step that raises stops the run, as it stops Alembic.

`"mode": "drop"` drops the scratch database (`DROP DATABASE IF EXISTS`), and an
offline job with `"probe": true` first asks that server its version, which the
dialect then renders for (as `server_version` does).

Reports are JSON lines on the standard output the process started with; anything
else written to stdout (the project's own prints, Alembic's messages) goes to
stderr. The job is one JSON argument: `{"argv": [...], "skip": [[0, "upgrade",
"rev"], ...], "passes": 2, "dialects": null, "server_version": null, "mode":
"offline", "probe": false, "scratch": null}`; `dialects` lists the dialects to
render for, in turn (null: the one env.py configures), and every record of a
rendering carries its index there as `target`; `skip` names `[target,
direction, revision]` steps not to run (a previous launch died in them);
`scratch` names the scratch database.
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

SERVER_URL_ENV = "ALEMBIX_IMPORT_SERVER_URL"


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
    # SQLAlchemy's link to its error page says nothing about this import.
    text = "\n".join(
        line for line in text.split("\n") if not line.startswith("(Background on this error at:")
    )
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
        # Which rendering of the job's `dialects` runs (its index), and the
        # dialect it is for (None: the one env.py configures).
        self.target = 0
        self.dialect = None
        self.capture = None
        self.autocommit = False
        self.skip = set()
        self.version_dirs = []
        self.server_version = None
        # Online mode: the scratch database's URL, the engines made for it,
        # how deep inside reflection the code is (its reads are not captured),
        # and why a captured statement could not be written as SQL.
        self.online = False
        self.scratch = None
        self.engines = []
        self.reading = 0
        self.capture_error = None


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
            if STATE.online:
                online_context(self)
            return
        d = self.dialect
        server_version_error = None
        if STATE.server_version is not None and (
            STATE.dialect is None or family(d.name) == "mysql"
        ):
            server_version_error = apply_server_version(d, STATE.server_version)
        try:
            doubled = bool(d.identifier_preparer._double_percents)
        except Exception:
            doubled = None
        version_info = getattr(d, "server_version_info", None)
        emit(
            "context",
            target=STATE.target,
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

    configure = MigrationContext.configure.__func__

    def dialect_configure(
        cls,
        connection=None,
        url=None,
        dialect_name=None,
        dialect=None,
        environment_context=None,
        dialect_opts=None,
        opts=None,
    ):
        if STATE.dialect is not None and (opts or {}).get("as_sql"):
            configured = configured_backend(connection, url, dialect_name, dialect)
            if configured is None or family(configured) != STATE.dialect:
                connection, url, dialect, dialect_name = None, None, None, STATE.dialect
        return configure(
            cls,
            connection=connection,
            url=url,
            dialect_name=dialect_name,
            dialect=dialect,
            environment_context=environment_context,
            dialect_opts=dialect_opts,
            opts=opts,
        )

    MigrationContext.configure = classmethod(dialect_configure)

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


def configured_backend(connection, url, dialect_name, dialect):
    """The backend (`postgresql`, `mariadb`…) of what env.py hands
    `context.configure`, in the order Alembic reads it; None if unreadable."""
    try:
        if connection is not None:
            return connection.dialect.name
        if url:
            from sqlalchemy.engine import make_url

            return make_url(url).get_backend_name()
        if dialect_name:
            return dialect_name.split("+", 1)[0]
        if dialect is not None:
            return dialect.name
    except Exception:
        return None
    return None


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
            "target": STATE.target,
            "pass": STATE.pass_no,
            "direction": direction,
            "revision": revision,
        }
        emit("begin", **record)
        STATE.capture = []
        STATE.capture_error = None
        STATE.autocommit = False
        error = None
        raised = None
        try:
            if (STATE.target, direction, revision) in STATE.skip:
                error = "skipped"
            else:
                function(*args, **kwargs)
        except (Exception, SystemExit) as e:
            error = describe(e)
            raised = e
        captured, STATE.capture = STATE.capture, None
        if error is None and STATE.capture_error is not None:
            error = STATE.capture_error
        emit(
            "step",
            sql="".join(text + "\n\n" for text in captured),
            autocommit=STATE.autocommit,
            error=error,
            **record,
        )
        if raised is not None and STATE.online:
            # Online, the database is what the step left: Alembic stops here.
            raise raised

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
    for target, dialect in enumerate(job.get("dialects") or [None]):
        STATE.target = target
        STATE.dialect = dialect
        for pass_no in range(1, job.get("passes", 2) + 1):
            STATE.pass_no = pass_no
            for direction in ("upgrade", "downgrade"):
                STATE.direction = direction
                try:
                    run(config, direction)
                except (Exception, SystemExit) as e:
                    emit(
                        "run_failed",
                        target=target,
                        direction=direction,
                        message=describe(e),
                        file=revision_file(e),
                        **{"pass": pass_no}
                    )


# --- online mode -----------------------------------------------------------

# Drivers to try, in order, for a server URL that names none (the first is
# SQLAlchemy's default for that backend).
DRIVERS = {
    "postgresql": ["psycopg2", "psycopg", "pg8000"],
    "mysql": ["mysqldb", "pymysql", "mysqlconnector", "mariadbconnector"],
    "mariadb": ["mysqldb", "pymysql", "mysqlconnector", "mariadbconnector"],
    "sqlite": ["pysqlite"],
}

# Stays SQLAlchemy's own create_engine once online mode redirects the name.
REAL_CREATE_ENGINE = None


def family(backend):
    return "mysql" if backend in ("mysql", "mariadb") else backend


def importable(url, driver):
    """`url` for `backend+driver`, the first of the drivers to try whose DBAPI
    imports here (only `driver` when it is named)."""
    backend = url.get_backend_name()
    names = [driver] if driver else DRIVERS.get(backend, [None])
    errors = []
    for name in names:
        candidate = url.set(drivername=backend + ("+" + name if name else ""))
        try:
            candidate.get_dialect().import_dbapi()
            return candidate
        except Exception as e:
            errors.append("%s: %s" % (candidate.drivername, describe(e)))
    raise RuntimeError(
        "no database driver for %s imports in this Python (%s); install one into it "
        "(e.g. `pip install %s`)"
        % (
            backend,
            "; ".join(errors),
            {"postgresql": "psycopg2-binary", "sqlite": "pysqlite3"}.get(
                family(backend), "pymysql"
            ),
        )
    )


def explicit_driver(url):
    return url.drivername.split("+", 1)[1] if "+" in url.drivername else None


def server_url():
    from sqlalchemy.engine import make_url

    return make_url(os.environ[SERVER_URL_ENV])


def admin_engine(server):
    """An autocommit engine on the server (PostgreSQL: its `postgres` database
    unless the URL names one), to create and drop the scratch database."""
    from sqlalchemy.pool import NullPool

    url = importable(server, explicit_driver(server))
    if url.get_backend_name() == "postgresql" and not url.database:
        url = url.set(database="postgres")
    return REAL_CREATE_ENGINE(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def quoted(name, backend):
    return ("`%s`" if family(backend) == "mysql" else '"%s"') % name


def probe_version():
    """The server's `SELECT VERSION()`, for the dialect to render as for it."""
    server = server_url()
    if server.get_backend_name() == "sqlite":
        return None
    engine = admin_engine(server)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT VERSION()").scalar()
    finally:
        engine.dispose()


def scratch_ddl(action, name):
    """Creates or drops the scratch database (a SQLite file is the importer's)."""
    server = server_url()
    backend = server.get_backend_name()
    if backend == "sqlite":
        return
    engine = admin_engine(server)
    try:
        with engine.connect() as conn:
            if action == "create":
                conn.exec_driver_sql("CREATE DATABASE %s" % quoted(name, backend))
            else:
                conn.exec_driver_sql("DROP DATABASE IF EXISTS %s" % quoted(name, backend))
    finally:
        engine.dispose()


def scratch_target(url):
    """Where an engine the project asks for `url` goes: the scratch database,
    with the project's dialect and driver when they are of the server's kind
    (the server URL's driver wins when it names one)."""
    from sqlalchemy.engine import make_url

    scratch = STATE.scratch
    try:
        asked = make_url(url)
    except Exception:
        asked = None
    if scratch.get_backend_name() == "sqlite":
        keep = asked is not None and asked.get_backend_name() == "sqlite"
        driver = explicit_driver(asked) if keep else None
        return importable(scratch, driver)
    if asked is None or family(asked.get_backend_name()) != family(
        scratch.get_backend_name()
    ):
        return importable(scratch, explicit_driver(scratch))
    query = {
        k: v
        for k, v in asked.query.items()
        if k.lower() not in ("host", "hostaddr", "port", "user", "password", "passfile",
                             "dbname", "database", "db", "service", "unix_socket")
    }
    query.update(scratch.query)
    target = scratch.set(
        drivername=asked.get_backend_name(), query=query
    )
    return importable(target, explicit_driver(scratch) or explicit_driver(asked))


def redirect_engines():
    """Every engine made from now on connects to the scratch database."""
    import sqlalchemy
    import sqlalchemy.engine
    import sqlalchemy.engine.create as create_module

    real = create_module.create_engine

    def create_engine(url, *args, **kwargs):
        engine = real(scratch_target(url), *args, **kwargs)
        STATE.engines.append(engine)
        return engine

    create_module.create_engine = create_engine
    sqlalchemy.create_engine = create_engine
    sqlalchemy.engine.create_engine = create_engine
    try:
        import sqlalchemy.ext.asyncio.engine as async_engine

        async_engine._create_engine = create_engine
    except Exception:
        pass


def reading(function):
    """`function` with what it executes left out of the capture: it reads."""

    @functools.wraps(function)
    def read(*args, **kwargs):
        STATE.reading += 1
        try:
            return function(*args, **kwargs)
        finally:
            STATE.reading -= 1

    read._xtask_reading = True
    return read


READING_NAME = re.compile(r"^_?(get|has|check|detect|load)_|^initialize$|^do_ping$")


def mark_reading(cls, pattern=READING_NAME):
    """Wraps the reading methods of `cls` and its bases (plain functions only)."""
    import inspect as pyinspect

    for klass in cls.__mro__:
        if klass is object:
            continue
        for name, value in list(vars(klass).items()):
            if (
                pattern.search(name)
                and pyinspect.isfunction(value)
                and not getattr(value, "_xtask_reading", False)
            ):
                setattr(klass, name, reading(value))


def install_online_hooks():
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine.reflection import Inspector

    mark_reading(Inspector, re.compile(r"^(?!__)"))
    for name in ("get_current_heads", "get_current_revision", "_has_version_table"):
        if hasattr(MigrationContext, name):
            setattr(MigrationContext, name, reading(getattr(MigrationContext, name)))

    @event.listens_for(Engine, "after_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):
        if STATE.capture is None or STATE.reading:
            return
        try:
            STATE.capture.extend(
                executed(conn, cursor, statement, parameters, context, executemany)
            )
        except Exception as e:
            if STATE.capture_error is None:
                STATE.capture_error = (
                    "the import cannot write what a statement ran as SQL "
                    "(`%s`): %s" % (statement.strip().split("\n")[0][:60], describe(e))
                )


def executed(conn, cursor, statement, parameters, context, executemany):
    """The statements as the driver sent them, parameters inlined."""
    from sqlalchemy.engine.interfaces import ExecuteStyle

    many = (
        executemany
        and context is not None
        and getattr(context, "execute_style", None) is ExecuteStyle.EXECUTEMANY
    )
    sets = list(parameters) if many else [parameters]
    no_parameters = context is not None and getattr(context, "no_parameters", False)
    dialect = conn.dialect
    mogrify = getattr(cursor, "mogrify", None)
    out = []
    for params in sets:
        if not params and no_parameters:
            params = None
        if mogrify is not None and dialect.driver in ("psycopg2", "pymysql", "mysqldb"):
            # These drivers interpolate on the client: this is what they sent.
            text = mogrify(statement, params)
            if isinstance(text, bytes):
                text = text.decode(client_encoding(cursor))
        else:
            text = inline(statement, params, dialect)
        out.append(terminated(text))
    return out


def client_encoding(cursor):
    """The Python codec of a psycopg2 connection's client encoding."""
    try:
        import psycopg2.extensions

        return psycopg2.extensions.encodings.get(cursor.connection.encoding, "utf-8")
    except Exception:
        return "utf-8"


def terminated(text):
    """As Alembic prints a statement offline: tabs as spaces, stripped, `;`."""
    text = text.replace("\t", "    ").strip()
    if text.endswith(";"):
        return text
    last = text.rsplit("\n", 1)[-1]
    return text + ("\n;" if "--" in last else ";")


def literal(value, dialect):
    """`value` (a DBAPI parameter) as a SQL literal of `dialect`."""
    import datetime
    import decimal
    import math
    import uuid

    name = family(dialect.name)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        if name == "postgresql":
            return "true" if value else "false"
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("%r has no SQL literal here" % value)
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value).hex()
        if name == "postgresql":
            return "'\\x%s'::bytea" % data
        return "X'%s'" % data
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        value = value.isoformat(" ") if isinstance(value, datetime.datetime) else value.isoformat()
    if isinstance(value, uuid.UUID):
        value = str(value)
    if isinstance(value, str):
        if "\0" in value:
            raise ValueError("a string with a NUL character has no SQL literal")
        text = value.replace("'", "''")
        if name == "mysql":
            text = text.replace("\\", "\\\\")
        return "'%s'" % text
    raise TypeError("a %s parameter has no SQL literal the import knows" % type(value).__name__)


def inline(statement, params, dialect):
    """`statement` with `params` written in as literals, per the paramstyle."""
    style = dialect.paramstyle
    if params is None:
        return statement
    if style in ("format", "pyformat"):
        if isinstance(params, dict):
            return statement % {k: literal(v, dialect) for k, v in params.items()}
        return statement % tuple(literal(v, dialect) for v in params)
    return substitute(statement, params, dialect, style)


def substitute(statement, params, dialect, style):
    """Replaces `?`, `:name`, `:1` or `$1` markers outside quotes and comments."""
    name = family(dialect.name)
    out = []
    position = 0
    i = 0
    n = len(statement)
    word = re.compile(r"\w")
    while i < n:
        c = statement[i]
        nxt = statement[i + 1] if i + 1 < n else ""
        if c in "'\"`" or (c == "[" and name == "sqlite"):
            close = "]" if c == "[" else c
            j = i + 1
            while j < n:
                if statement[j] == "\\" and name == "mysql" and c != "`":
                    j += 2
                    continue
                if statement[j] == close:
                    if close != "]" and j + 1 < n and statement[j + 1] == close:
                        j += 2
                        continue
                    break
                j += 1
            out.append(statement[i : j + 1])
            i = j + 1
        elif c == "-" and nxt == "-":
            j = statement.find("\n", i)
            j = n if j < 0 else j
            out.append(statement[i:j])
            i = j
        elif c == "/" and nxt == "*":
            j = statement.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(statement[i:j])
            i = j
        elif c == "?" and style == "qmark":
            out.append(literal(params[position], dialect))
            position += 1
            i += 1
        elif c == "$" and name == "postgresql" and (i == 0 or not word.match(statement[i - 1])):
            m = re.match(r"\$(\d+)", statement[i:])
            if m and style == "numeric_dollar":
                out.append(literal(params[int(m.group(1)) - 1], dialect))
                i += len(m.group(0))
                continue
            m = re.match(r"\$(\w*)\$", statement[i:])
            if m:
                tag = m.group(0)
                j = statement.find(tag, i + len(tag))
                j = n if j < 0 else j + len(tag)
                out.append(statement[i:j])
                i = j
            else:
                out.append(c)
                i += 1
        elif (
            c == ":"
            and style in ("named", "numeric")
            and (i == 0 or not (word.match(statement[i - 1]) or statement[i - 1] in ":\\"))
            and nxt != ":"
        ):
            m = re.match(r":(\w+)", statement[i:])
            if m is None:
                out.append(c)
                i += 1
                continue
            key = m.group(1)
            if style == "numeric" and key.isdigit():
                value = params[int(key) - 1]
            elif isinstance(params, dict) and key in params:
                value = params[key]
            else:
                out.append(c)
                i += 1
                continue
            out.append(literal(value, dialect))
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def current_database(conn):
    """The database the connection is in (a SQLite file's path)."""
    name = family(conn.dialect.name)
    if name == "postgresql":
        return conn.exec_driver_sql("SELECT current_database()").scalar()
    if name == "mysql":
        return conn.exec_driver_sql("SELECT DATABASE()").scalar()
    if name == "sqlite":
        for row in conn.exec_driver_sql("PRAGMA database_list").fetchall():
            if row[1] == "main":
                return os.path.realpath(row[2]) if row[2] else ""
    return None


def online_context(context):
    """Checks that Alembic is about to run against the scratch database, marks the
    dialect's reading methods, makes the version table's schema (PostgreSQL: it
    exists before a first revision runs, as in the project's databases), and
    reports the context."""
    from alembic.util import CommandError

    conn = context.connection
    if conn is None:
        raise CommandError(
            "env.py gave Alembic no connection in online mode (`context.configure(url=...)` "
            "without `connection=`): the import renders online through the connection "
            "env.py opens, as `alembic upgrade` runs"
        )
    d = context.dialect
    mark_reading(type(d))
    scratch = STATE.scratch
    expected = (
        os.path.realpath(scratch.database)
        if scratch.get_backend_name() == "sqlite"
        else scratch.database
    )
    STATE.reading += 1
    try:
        actual = current_database(conn)
        schema = context.version_table_schema
        if schema and family(d.name) == "postgresql" and actual == expected:
            conn.exec_driver_sql('CREATE SCHEMA IF NOT EXISTS "%s"' % schema.replace('"', '""'))
    finally:
        STATE.reading -= 1
    if actual != expected:
        raise CommandError(
            "env.py connected Alembic to %r, not to the import's scratch database %r; "
            "nothing ran there. The import points every engine made with "
            "sqlalchemy's create_engine or engine_from_config at the scratch database: "
            "make env.py's connection through one of them" % (actual, expected)
        )
    version_info = getattr(d, "server_version_info", None)
    emit(
        "context",
        dialect=d.name,
        impl=type(context.impl).__name__,
        paramstyle=getattr(d, "paramstyle", None),
        double_percents=False,
        version_table=context.version_table,
        version_table_schema=context.version_table_schema,
        is_mariadb=getattr(d, "is_mariadb", None),
        server_version_info=[v for v in version_info if isinstance(v, int)]
        if version_info
        else None,
        server_version_error=None,
        online=True,
    )


def drive_online(config, job):
    """Creates the scratch database, runs `upgrade heads` then `downgrade base`
    against it, each revision's statements captured."""
    from alembic import command
    from alembic.script import ScriptDirectory

    try:
        script = ScriptDirectory.from_config(config)
        STATE.version_dirs = [
            os.path.realpath(str(d)) for d in script._version_locations
        ]
    except (Exception, SystemExit) as e:
        emit("load_failed", message=describe(e), file=revision_file(e))
        return
    name = job["scratch"]
    server = server_url()
    try:
        scratch_ddl("create", name)
    except (Exception, SystemExit) as e:
        emit("scratch", action="create", error=describe(e))
        return
    emit("scratch", action="create", error=None)
    if server.get_backend_name() == "sqlite":
        STATE.scratch = server
    else:
        STATE.scratch = server.set(database=name)
    STATE.online = True
    STATE.pass_no = 1
    redirect_engines()
    install_online_hooks()
    try:
        for direction, target in (("upgrade", "heads"), ("downgrade", "base")):
            STATE.direction = direction
            try:
                if direction == "upgrade":
                    command.upgrade(config, target)
                else:
                    command.downgrade(config, target)
            except (Exception, SystemExit) as e:
                emit(
                    "run_failed",
                    direction=direction,
                    message=describe(e),
                    file=revision_file(e),
                    **{"pass": 1}
                )
                break
    finally:
        for engine in STATE.engines:
            try:
                engine.dispose()
            except Exception:
                pass


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
    global REAL_CREATE_ENGINE
    from sqlalchemy.engine.create import create_engine

    REAL_CREATE_ENGINE = create_engine
    mode = job.get("mode", "offline")
    if mode == "drop":
        try:
            scratch_ddl("drop", job["scratch"])
            emit("scratch", action="drop", error=None)
        except (Exception, SystemExit) as e:
            emit("scratch", action="drop", error=describe(e))
        emit("done")
        return
    STATE.skip = {tuple(step) for step in job.get("skip", [])}
    STATE.server_version = job.get("server_version")
    if job.get("probe"):
        try:
            version = probe_version()
            emit("server_version", version=version, error=None)
            if version:
                STATE.server_version = version
        except (Exception, SystemExit) as e:
            emit("server_version", version=None, error=describe(e))
    install_hooks()

    class Driver(CommandLine):
        def run_cmd(self, config, options):
            if mode == "online":
                drive_online(config, job)
            else:
                drive(config, job)

    sys.argv[0] = "alembic"
    try:
        Driver(prog="alembic").main(argv=job["argv"] + ["upgrade", "heads", "--sql"])
    except (Exception, SystemExit) as e:
        emit("load_failed", message=describe(e), file=revision_file(e))
    emit("done")


main()
