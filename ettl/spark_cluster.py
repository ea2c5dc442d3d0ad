"""A Spark standalone cluster on loopback, from pyspark's own jars: one master and two workers,
each its own JVM, for `ettl spark-server start --cluster`.

The Thrift server then runs as the cluster's driver and its SQL executes in executors on the
workers, as on a real cluster: whatever only worked because everything ran in one JVM shows up
here. Sized for a 2-core machine: two 1-core, 1 GB workers. Every JVM binds 127.0.0.1
(SPARK_LOCAL_IP; otherwise Spark binds the machine's other interface).
"""

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyspark

from ettl_assets import settings
from ettl_assets.server_processes import log_tail, pid_from_file, stop_process_groups

MASTER_PORT_ENV = "ETTL_SPARK_MASTER_PORT"
MASTER_UI_PORT_ENV = "ETTL_SPARK_MASTER_UI_PORT"
DEFAULT_MASTER_PORT = 7077  # Spark's own defaults
DEFAULT_MASTER_UI_PORT = 8080
HOST = "127.0.0.1"
WORKERS = 2
WORKER_CORES = 1
WORKER_MEMORY = "1g"
READY_TIMEOUT_SECONDS = 180

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


class ClusterError(RuntimeError):
    """The cluster could not be started; the message says why and which log to read."""


@dataclass(frozen=True)
class ClusterProcess:
    """One JVM of the cluster: its name, pid file and log in the data dir."""

    name: str  # master, worker-1, worker-2
    root: Path

    @property
    def pid_file(self) -> Path:
        return self.root / f"{self.name}.pid"

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    @property
    def main_class(self) -> str:
        return MASTER_CLASS if self.name == "master" else WORKER_CLASS

    def pid(self) -> int | None:
        """Its pid if it is alive."""
        return pid_from_file(self.pid_file, self.main_class)


def cluster_root() -> Path:
    return settings.data_dir() / "spark-cluster"


def processes() -> list[ClusterProcess]:
    """Master first, then the workers: the order they start in (they stop in reverse)."""
    names = ["master", *(f"worker-{n}" for n in range(1, WORKERS + 1))]
    return [ClusterProcess(name, cluster_root()) for name in names]


def master_port() -> int:
    return int(os.environ.get(MASTER_PORT_ENV, DEFAULT_MASTER_PORT))


def master_ui_port() -> int:
    return int(os.environ.get(MASTER_UI_PORT_ENV, DEFAULT_MASTER_UI_PORT))


def master_url() -> str:
    return f"spark://{HOST}:{master_port()}"


def spark_class_command(process: ClusterProcess) -> list[str]:
    spark_class = str(Path(pyspark.__file__).parent / "bin" / "spark-class")
    if process.name == "master":
        return [spark_class, MASTER_CLASS, "--host", HOST, "--port", str(master_port()),
                "--webui-port", str(master_ui_port())]  # fmt: skip
    # Port 0: the workers' own RPC and UI ports are picked free by the OS; only the master's
    # are needed by anyone else. Executors' files (their stdout/stderr) go under work/.
    return [spark_class, WORKER_CLASS, "--host", HOST, "--port", "0", "--webui-port", "0",
            "--cores", str(WORKER_CORES), "--memory", WORKER_MEMORY,
            "--work-dir", str(cluster_root() / "work" / process.name), master_url()]  # fmt: skip


def environment() -> dict[str, str]:
    return {**os.environ, "SPARK_LOCAL_IP": HOST}


def master_status() -> dict | None:
    """The master's JSON status (workers, applications), None while it does not answer."""
    url = f"http://{HOST}:{master_ui_port()}/json/"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def alive_workers(status: dict | None) -> int:
    if status is None:
        return 0
    return sum(1 for worker in status.get("workers", []) if worker.get("state") == "ALIVE")


def _launch(process: ClusterProcess) -> int:
    process.root.mkdir(parents=True, exist_ok=True)
    with process.log.open("ab") as log:
        child = subprocess.Popen(
            spark_class_command(process), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=process.root, env=environment(),
            start_new_session=True,  # its own process group: stop() kills it with its executors
        )  # fmt: skip
    process.pid_file.write_text(str(child.pid))
    return child.pid


def start(progress: Callable[[str], None] = print) -> str:
    """Start the master and the workers (or find them running) and wait until every worker has
    registered. Returns the master URL."""
    for process in processes():
        pid = process.pid()
        if pid is None:
            pid = _launch(process)
            progress(f"started Spark {process.name} (pid {pid}, log {process.log})")
        else:
            progress(f"Spark {process.name} already running (pid {pid}, log {process.log})")
    began = time.monotonic()
    while alive_workers(master_status()) < WORKERS:
        dead = [p for p in processes() if p.pid() is None]
        if dead:
            stop(progress)
            raise ClusterError(
                f"Spark {dead[0].name} exited while starting; see {dead[0].log}:\n"
                + log_tail(dead[0].log)
            )
        if time.monotonic() - began > READY_TIMEOUT_SECONDS:
            stop(progress)
            raise ClusterError(
                f"the workers did not register with the master within {READY_TIMEOUT_SECONDS} s;"
                f" see the logs in {cluster_root()}"
            )
        time.sleep(1)
    waited = time.monotonic() - began
    progress(f"Spark cluster ready at {master_url()} ({WORKERS} workers, master UI "
             f"http://{HOST}:{master_ui_port()}) after {waited:.0f} s")  # fmt: skip
    return master_url()


def running() -> bool:
    return any(process.pid() is not None for process in processes())


def stop(progress: Callable[[str], None] = print) -> bool:
    """Stop the workers (with their executors) and the master side by side: SIGTERM, SIGKILL
    if they linger (some JVMs here ignore SIGTERM). False when nothing was running."""
    running = []
    for process in reversed(processes()):
        pid = process.pid()
        process.pid_file.unlink(missing_ok=True)
        if pid is not None:
            running.append((process.name, pid))
    stop_process_groups(pid for _, pid in running)
    for name, pid in running:
        progress(f"Spark {name} stopped (pid {pid})")
    return bool(running)
