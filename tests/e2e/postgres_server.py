"""A throwaway PostgreSQL server for tests: Debian's binaries (of the newest major version
installed), a fresh cluster in a temp dir, loopback only, a free port, password
authentication, stopped by pid.

PostgreSQL refuses to run as root: when the tests run as root (CI here), the cluster belongs to
the `postgres` user Debian's package creates, and the server runs as that user.
"""

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ettl.prerequisites import postgres_bindir

SUPERUSER = "ettl"
READY_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class PostgresServer:
    port: int
    password: str
    host: str = "127.0.0.1"
    user: str = SUPERUSER

    def jdbc_url(self, database: str) -> str:
        return f"jdbc:postgresql://{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        env = {**os.environ, "PGPASSWORD": self.password}
        result = subprocess.run(
            ["psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port),
             "-U", self.user, "-d", database, "-c", sql],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _owner() -> dict:
    """Popen arguments that run a command as the cluster's owner (not root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


@contextlib.contextmanager
def throwaway_postgres(databases: list[str]) -> Iterator[PostgresServer]:
    """A started server holding `databases`; stopped and deleted on exit."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server is installed: run `make postgres`")
    root = Path(tempfile.mkdtemp(prefix="ettl-postgres-"))
    password = secrets.token_urlsafe(16)
    owner = _owner()
    try:
        (root / "pwfile").write_text(password)
        if owner:
            uid = pwd.getpwnam("postgres").pw_uid
            for path in (root, root / "pwfile"):
                os.chown(path, uid, -1)
        (root / "pwfile").chmod(0o600)
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER,
             "--pwfile", str(root / "pwfile"), "--auth=scram-sha-256", "--no-sync"],
            check=True, capture_output=True, **owner,
        )  # fmt: skip
        server = PostgresServer(port=free_port(), password=password)
        log = (root / "server.log").open("w")
        process = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(root / "data"), "-h", server.host,
             "-p", str(server.port), "-k", str(root), "-c", "fsync=off"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **owner,
        )  # fmt: skip
        try:
            _wait_until_ready(server, process, root / "server.log")
            for database in databases:
                server.psql(f"create database {database}")
            yield server
        finally:
            process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_ready(server: PostgresServer, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited while starting:\n{log.read_text()[-2000:]}")
        try:
            server.psql("select 1")
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
