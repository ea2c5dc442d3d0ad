"""A shared Hive metastore in PostgreSQL for the `thrift` and `k8s` deployments.

Unset (the default), every Spark keeps its catalog in the data dir's embedded Derby, which one
JVM at a time may open. With ETTL_METASTORE_URL set (a `jdbc:postgresql://` URL, its user in
ETTL_METASTORE_USER and password in ETTL_METASTORE_PASSWORD), Spark's built-in Hive 2.3 client
keeps the catalog in PostgreSQL instead, and any number of Spark applications (the Thrift
server, a dbt run by hand with the session method) read and write it at once.

The password never goes on a command line: it is written, with the rest of the connection,
into a generated hive-site.xml (mode 0600, in a 0700 folder of the data dir) that Spark finds
on its driver's class path. The schema is created up front from Hive 2.3's own PostgreSQL
script (deploy/metastore/): letting the metastore client create it lazily
(datanucleus.schema.autoCreateAll) hangs on PostgreSQL, where one of the client's connections
runs `ALTER TABLE ... ADD CONSTRAINT` against a table another connection of the same JVM holds
in an idle transaction.
"""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from ettl import prerequisites
from ettl_assets import settings

URL_ENV = "ETTL_METASTORE_URL"
USER_ENV = "ETTL_METASTORE_USER"
PASSWORD_ENV = "ETTL_METASTORE_PASSWORD"

# Debian's libpostgresql-jdbc-java (`make postgres` installs it).
JDBC_DRIVER_JAR = prerequisites.POSTGRES_JDBC_JAR
JDBC_DRIVER_CLASS = "org.postgresql.Driver"
SCHEMA_DIR = settings.PROJECT_ROOT / "deploy" / "metastore"
# The schema of Spark's built-in metastore client (spark.sql.hive.metastore.version 2.3.10):
# Hive keeps one schema per minor release, and 2.3.x all use 2.3.0's.
SCHEMA_SCRIPT = "hive-schema-2.3.0.postgres.sql"
SCHEMA_VERSION = "2.3.0"


class MetastoreError(RuntimeError):
    """The PostgreSQL metastore is misconfigured or could not be initialised; says why."""


@dataclass(frozen=True)
class PostgresMetastore:
    url: str
    user: str
    password: str

    @property
    def host(self) -> str:
        return self._parts.hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return self._parts.port or 5432

    @property
    def database(self) -> str:
        return self._parts.path.lstrip("/")

    @property
    def _parts(self):
        return urlsplit(self.url.removeprefix("jdbc:"))


def configured() -> PostgresMetastore | None:
    """The PostgreSQL metastore from the environment, or None for the embedded Derby one."""
    url = os.environ.get(URL_ENV, "")
    if not url:
        return None
    if not url.startswith("jdbc:postgresql://"):
        raise MetastoreError(f"{URL_ENV} must be a jdbc:postgresql:// URL, not {url!r}")
    user = os.environ.get(USER_ENV, "")
    if not user:
        raise MetastoreError(f"{URL_ENV} is set but {USER_ENV} is not")
    return PostgresMetastore(url, user, os.environ.get(PASSWORD_ENV, ""))


def conf_dir() -> Path:
    """Holds the generated hive-site.xml; on the driver's class path when the metastore is set."""
    return settings.data_dir() / "metastore-conf"


def driver_class_path() -> str:
    """spark.driver.extraClassPath of a Spark on the PostgreSQL metastore (profiles.yml builds
    the same value for the `local` target)."""
    return f"{conf_dir()}:{JDBC_DRIVER_JAR}"


def hive_site(metastore: PostgresMetastore) -> str:
    properties = {
        "javax.jdo.option.ConnectionURL": metastore.url,
        "javax.jdo.option.ConnectionDriverName": JDBC_DRIVER_CLASS,
        "javax.jdo.option.ConnectionUserName": metastore.user,
        "javax.jdo.option.ConnectionPassword": metastore.password,
        # The schema exists (init_schema); never let the client alter it (see the module doc).
        "datanucleus.schema.autoCreateAll": "false",
        # Refuse a database whose schema is not the one this client expects (2.3.0 for every
        # Hive 2.3.x), instead of writing into it.
        "hive.metastore.schema.verification": "true",
    }
    entries = "".join(
        f"  <property><name>{escape(key)}</name><value>{escape(value)}</value></property>\n"
        for key, value in properties.items()
    )
    return f'<?xml version="1.0"?>\n<configuration>\n{entries}</configuration>\n'


def write_hive_site(metastore: PostgresMetastore) -> Path:
    """The connection as a hive-site.xml only this user can read."""
    folder = conf_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    path = folder / "hive-site.xml"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_TRUNC
    with os.fdopen(descriptor, "w") as handle:
        handle.write(hive_site(metastore))
    return path


def _psql(metastore: PostgresMetastore, *args: str, cwd: Path | None = None) -> str:
    # The password reaches psql through its environment, never its arguments.
    env = {**os.environ, "PGPASSWORD": metastore.password, "PGCONNECT_TIMEOUT": "10"}
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", metastore.host,
               "-p", str(metastore.port), "-U", metastore.user, "-d", metastore.database,
               *args]  # fmt: skip
    try:
        result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise MetastoreError("psql is not installed: run `make postgres`") from exc
    if result.returncode != 0:
        raise MetastoreError(
            f"psql on {metastore.host}:{metastore.port}/{metastore.database} failed: "
            f"{result.stderr.strip()}"
        )
    return result.stdout.strip()


def schema_version(metastore: PostgresMetastore) -> str | None:
    """The Hive schema version recorded in the database, None when it has no schema yet."""
    exists = _psql(metastore, "-tAc", """select to_regclass('public."VERSION"') is not null""")
    if exists != "t":
        return None
    return _psql(metastore, "-tAc", 'select "SCHEMA_VERSION" from "VERSION"') or None


def init_schema(metastore: PostgresMetastore) -> bool:
    """Create the metastore schema from Hive's script when the database has none; True if it
    did. One transaction: a failed script leaves no half schema behind."""
    version = schema_version(metastore)
    if version == SCHEMA_VERSION:
        return False
    if version is not None:
        raise MetastoreError(
            f"{metastore.database} holds a Hive metastore schema {version}, not {SCHEMA_VERSION}"
        )
    # cwd: the script includes its transaction tables with a path relative to it.
    _psql(metastore, "--single-transaction", "-f", SCHEMA_SCRIPT, cwd=SCHEMA_DIR)
    return True


def prepare() -> PostgresMetastore | None:
    """Everything a Spark on the configured metastore needs before it starts: the JDBC driver,
    the schema, the hive-site.xml. None (nothing to do) on the embedded Derby metastore."""
    metastore = configured()
    if metastore is None:
        return None
    if not JDBC_DRIVER_JAR.exists():
        raise MetastoreError(f"{JDBC_DRIVER_JAR} is missing: run `make postgres`")
    init_schema(metastore)
    write_hive_site(metastore)
    return metastore


if __name__ == "__main__":  # dbt run by hand on the shared metastore: schema and hive-site.xml
    prepare()
