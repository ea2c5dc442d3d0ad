"""The chart's processes run: the rendered webserver, daemon and code server, each started here as
its pod would start it, serve the code location and execute a run submitted through GraphQL.

From the render of the vendored chart (tests/deploy/helm_chart.py), each of the three
Deployments' container gives its command and args, and its environment: its envFrom ConfigMaps
and Secrets and its env, in Kubernetes' order. The instance is the instance ConfigMap's
dagster.yaml (PostgreSQL run, event-log and schedule storage, the queued run coordinator, run
retries), on a throwaway PostgreSQL server; the workspace is the workspace ConfigMap's.

Where the pods and this machine differ, the difference is explicit:
- there is no Kubernetes API: the chart's K8sRunLauncher (which starts the run pod) and the run's
  k8s executor (which starts a pod per step) talk to a stand-in for it (FakeKubernetesApi): a
  created Job's container runs at once as a process here, as in test_step_jobs_run.py, and the
  Job's status is how that process exits. The launcher reaches it through a kubeconfig instead
  of the in-cluster service account (`load_incluster_config: false`), and the run pod's
  executor inherits that. The launcher is kept, not swapped for Dagster's DefaultRunLauncher:
  dagster-k8s' executor reads its settings from the instance's K8sRunLauncher (with the
  DefaultRunLauncher the run fails: 'DefaultRunLauncher' object has no attribute
  'image_pull_policy');
- names that resolve in the cluster only are this machine's addresses: PostgreSQL's host and
  port in dagster.yaml, the code server's Service in workspace.yaml; every server listens on
  127.0.0.1 (not 0.0.0.0) on a free port (not 80 or 3030);
- volumes are folders: the instance ConfigMap's dagster.yaml in DAGSTER_HOME's folder (the
  webserver's, the daemon's and the run pod's; a DAGSTER_HOME without it, the code server's
  and the step pods', in the pod's own filesystem, is a folder of the test's too), the
  workspace ConfigMap in a folder, the data volume in the data dir, with a day landed;
- the Secrets are deploy/k8s/secrets.example.yaml's, each placeholder a random value (the
  storage password is the throwaway server's role password); the optional Celery secret is
  absent, as in the cluster;
- the webserver's and daemon's image (dagster-celery-k8s) is this machine's .venv, the code
  server's is the project's image ENV with this .venv on PATH;
- only the bronze step runs: the dbt step needs the Spark Thrift server (test_step_jobs_run.py
  runs it).
Not run: the Kubernetes API itself, image pulls, pod scheduling, the init containers (they wait
for PostgreSQL and the code server's Service), probes, Services, RBAC.
"""

import contextlib
import json
import os
import shlex
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

import dagster as dg
import pyarrow.dataset as ds
import pytest
import yaml

import ettl_assets.definitions
from ettl_assets.automation import all_tiers_daily_job
from tests.deploy import dockerfile
from tests.deploy.helm_chart import DEPLOY, NAMESPACE, RELEASE, Render
from tests.deploy.test_kubernetes import validate
from tests.deploy.test_step_jobs_run import (
    ARTIFACTS,
    BIN,
    BRONZE,
    DAY,
    ROOT,
    expected_weather_rows,
    filled_in_secrets,
    local_folders,
    on_this_machine,
    pod_environment,
)
from tests.e2e.postgres_server import free_port, throwaway_postgres

pytestmark = pytest.mark.e2e

LOCATION = "ettl-assets"  # the values' deployment name: the workspace's location name
READY_TIMEOUT_SECONDS = 240
RUN_TIMEOUT_SECONDS = 420
SENSOR_TIMEOUT_SECONDS = 120
STORAGE_SECRET = "dagster-postgresql-secret"  # values.yaml: global.postgresqlSecretName


def _restore_sigterm() -> None:
    """A child of a pytest started in the background inherits an ignored SIGTERM."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def pod_own_home(env: dict[str, str], folders: dict[str, str], folder: Path) -> None:
    """A DAGSTER_HOME no volume covers (the code server's, the step pods') is in the pod's own
    filesystem, where Dagster writes its telemetry ids and log: here, a folder of the test's."""
    home = env.get("DAGSTER_HOME")
    if home and not any(home == path or home.startswith(path + "/") for path in folders):
        folder.mkdir()
        folders[home] = str(folder)


# --- the stand-in for the Kubernetes API ---------------------------------------------------------


class FakeKubernetesApi:
    """The batch API calls the run launcher and the k8s executor make, on 127.0.0.1: create a Job
    (its container runs at once, here), read its status (the process's), delete it (the process
    stops)."""

    def __init__(self, machine: dict[str, Any]) -> None:
        self.machine = machine
        self.jobs: dict[str, tuple[dict[str, Any], subprocess.Popen]] = {}
        self.unexpected: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:4] == ["apis", "batch", "v1", "namespaces"] and parts[5:] == ["jobs"]:
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    assert parts[4] == NAMESPACE
                    api.create(body)
                    return self._reply(201, body)
                api.unexpected.append(f"POST {self.path}")
                self._reply(404, {"kind": "Status", "apiVersion": "v1", "code": 404})

            def do_GET(self) -> None:
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:4] == ["apis", "batch", "v1", "namespaces"] and parts[7:] == ["status"]:
                    return self._reply(200, api.status(parts[6]))
                if parts[:3] == ["api", "v1", "namespaces"] and parts[4:] == ["pods"]:
                    items: list = []  # no pods: the Job's container is a process
                    return self._reply(200, {"kind": "PodList", "apiVersion": "v1", "items": items})
                api.unexpected.append(f"GET {self.path}")
                self._reply(404, {"kind": "Status", "apiVersion": "v1", "code": 404})

            def do_DELETE(self) -> None:
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:4] == ["apis", "batch", "v1", "namespaces"] and parts[6:7]:
                    api.stop(parts[6])
                    return self._reply(200, {"kind": "Status", "apiVersion": "v1"})
                api.unexpected.append(f"DELETE {self.path}")
                self._reply(404, {"kind": "Status", "apiVersion": "v1", "code": 404})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def create(self, manifest: dict[str, Any]) -> None:
        pod = manifest["spec"]["template"]["spec"]
        folders = local_folders(pod, self.machine)
        (container,) = pod["containers"]
        command = [*container.get("command", []), *container["args"]]  # no ENTRYPOINT
        env = pod_environment(container, self.machine)
        step = manifest["metadata"]["labels"].get("dagster/op", "run")  # a step pod, or the run's
        pod_own_home(env, folders, self.machine["root"] / f"pod-{step}")
        env = {name: on_this_machine(value, folders) for name, value in env.items()}
        log = (ARTIFACTS / f"chart-pod-{step}.log").open("w")
        process = subprocess.Popen(
            [on_this_machine(arg, folders) for arg in command],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_restore_sigterm,
        )  # fmt: skip
        self.jobs[manifest["metadata"]["name"]] = (manifest, process)

    def status(self, name: str) -> dict[str, Any]:
        _, process = self.jobs[name]
        code = process.poll()
        status = {"active": 1} if code is None else {"succeeded": 1} if code == 0 else {"failed": 1}
        metadata = {"name": name, "namespace": NAMESPACE}
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "status": status}

    def stop(self, name: str) -> None:
        if name in self.jobs and self.jobs[name][1].poll() is None:
            os.killpg(self.jobs[name][1].pid, signal.SIGKILL)

    def kubeconfig(self) -> str:
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "stand-in", "cluster": {"server": self.url}}],
                "users": [{"name": "stand-in", "user": {"token": "not-a-secret"}}],
                "contexts": [
                    {"name": "stand-in", "context": {"cluster": "stand-in", "user": "stand-in"}}
                ],
                "current-context": "stand-in",
            }
        )

    @contextlib.contextmanager
    def serving(self) -> Iterator["FakeKubernetesApi"]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            for name in self.jobs:
                self.stop(name)
            for _, process in self.jobs.values():
                process.wait(timeout=30)


# --- the pods' processes -------------------------------------------------------------------------


def container_env(
    container: dict[str, Any], chart: Render, secret_data: dict[str, dict[str, str]]
) -> dict[str, str]:
    """The container's envFrom sources in turn, then its env (a later one wins)."""
    config_maps = {c["metadata"]["name"]: c["data"] for c in chart.of_kind("ConfigMap")}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]])
        elif source["secretRef"]["name"] in secret_data:
            env.update(secret_data[source["secretRef"]["name"]])
        else:  # the cluster has no such Secret either: Kubernetes starts the pod only if optional
            assert source["secretRef"].get("optional") is True, source
    for variable in container.get("env", []):
        if "valueFrom" in variable:
            reference = variable["valueFrom"]["secretKeyRef"]
            env[variable["name"]] = secret_data[reference["name"]][reference["key"]]
        else:
            env[variable["name"]] = variable["value"]
    return env


def on_this_host(command: list[str], ports: dict[str, int], folders: dict[str, str]) -> list[str]:
    """The command with 127.0.0.1 for 0.0.0.0, this machine's port after each -p, and each mount
    path a folder; a `/bin/bash -c` script has its words rewritten the same way."""
    if command[:2] == ["/bin/bash", "-c"]:
        return [*command[:2], shlex.join(on_this_host(shlex.split(command[2]), ports, folders))]
    rewritten = []
    for previous, word in zip(["", *command], command, strict=False):
        if word == "0.0.0.0":
            word = "127.0.0.1"
        elif previous == "-p":
            word = str(ports[word])
        rewritten.append(on_this_machine(word, folders))
    return rewritten


def pod_volumes(deployment: dict[str, Any], machine: dict[str, Any]) -> dict[str, str]:
    """Each mount path of the Deployment's container, and the folder that stands for it."""
    pod = deployment["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    (container,) = pod["containers"]
    folders = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "persistentVolumeClaim" in volume:
            folders[mount["mountPath"]] = str(machine["data"])
        elif volume["configMap"]["name"] == f"{RELEASE}-instance":
            assert mount["subPath"] == "dagster.yaml"
            folders[str(PurePosixPath(mount["mountPath"]).parent)] = str(machine["home"])
        elif volume["configMap"]["name"] == f"{RELEASE}-workspace-yaml":
            folders[mount["mountPath"].rstrip("/")] = str(machine["workspace"])
        else:
            raise AssertionError(f"a volume this test does not stand in for: {volume}")
    return folders


def start_pod_process(
    name: str, deployment: dict[str, Any], machine: dict[str, Any], image_env: dict[str, str]
) -> subprocess.Popen:
    chart = machine["chart"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    folders = pod_volumes(deployment, machine)
    env = {**image_env, **container_env(container, chart, machine["secrets"])}
    pod_own_home(env, folders, machine["root"] / name)
    env = {key: on_this_machine(value, folders) for key, value in env.items()}
    command = [*container.get("command", []), *container.get("args", [])]
    command = on_this_host(command, machine["ports"], folders)
    log = (ARTIFACTS / f"chart-{name}.log").open("w")
    return subprocess.Popen(
        command, env=env, cwd=machine["cwd"][name], stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, preexec_fn=_restore_sigterm,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    """The process and what it started (its session's process group), by pid."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children left behind, if any
    process.wait()


# --- GraphQL -------------------------------------------------------------------------------------


def graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


def wait_for(what: str, check, timeout: float, processes: dict[str, subprocess.Popen]):
    """check() until it returns something truthy; fails early when a pod's process exited."""
    deadline = time.monotonic() + timeout
    while True:
        for name, process in processes.items():
            log = (ARTIFACTS / f"chart-{name}.log").read_text()[-3000:]
            assert process.poll() is None, f"{name} exited while waiting for {what}:\n{log}"
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            found = check()
            if found:
                return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(2)


ASSET_KEYS_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name
    locationOrLoadError { __typename ... on RepositoryLocation { repositories { name
      assetNodes { assetKey { path } } } } ... on PythonError { message } } } } } }
"""
DAEMONS_QUERY = """
{ instance { daemonHealth { allDaemonStatuses {
    daemonType required healthy lastHeartbeatTime } } } }
"""
LAUNCH_MUTATION = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId status } }
  ... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } } } }
"""
RUN_QUERY = """
query($runId: ID!) { runOrError(runId: $runId) { ... on Run { status
  stepStats { stepKey status } } } }
"""
MATERIALIZATIONS_QUERY = """
query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
  __typename ... on MaterializationEvent { stepKey assetKey { path } partition } } } } }
"""
START_SENSOR_MUTATION = """
mutation($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }
"""
SENSOR_TICKS_QUERY = """
query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  ... on Sensor { sensorState { status ticks { status skipReason timestamp } } } } }
"""


# --- the test ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster_on_this_machine(tmp_path_factory, chart: Render) -> Iterator[dict[str, Any]]:
    """PostgreSQL, the folders of the pods' volumes, the stand-in Kubernetes API, and the three
    pods' processes started; all stopped afterwards, by pid."""
    root = tmp_path_factory.mktemp("chart-pods")
    ARTIFACTS.mkdir(exist_ok=True)
    machine: dict[str, Any] = {"root": root, "chart": chart, "secrets": filled_in_secrets()}
    machine.update(data=root / "data", home=root / "home", workspace=root / "workspace")
    machine["home"].mkdir()
    machine["workspace"].mkdir()
    machine["port"] = free_port()  # the Thrift server's: not started, no dbt step runs here
    started = time.monotonic()
    land_env = {**os.environ, "ETTL_DATA_DIR": str(machine["data"])}
    landed = subprocess.run(
        [str(BIN / "ettl"), "land", "--start", DAY, "--end", DAY],
        env=land_env, capture_output=True, text=True,
    )  # fmt: skip
    assert landed.returncode == 0, landed.stderr[-3000:]

    with throwaway_postgres([]) as postgres, FakeKubernetesApi(machine).serving() as api:
        password = machine["secrets"][STORAGE_SECRET]["postgresql-password"]
        instance = chart.instance()
        # The chart's role and database, its password on psql's stdin (never a command line).
        db = instance["run_storage"]["config"]["postgres_db"]
        sql = (
            f"create role {db['username']} login password '{password}';\n"
            f"create database {db['db_name']} owner {db['username']};\n"
        )
        subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", postgres.host,
             "-p", str(postgres.port), "-U", postgres.user, "-d", "postgres"],
            input=sql, text=True, check=True, capture_output=True,
            env={**os.environ, "PGPASSWORD": postgres.password},
        )  # fmt: skip
        # dagster.yaml as the chart renders it, but for PostgreSQL's address and the cluster.
        launcher = instance["run_launcher"]["config"]
        assert instance["run_launcher"]["class"] == "K8sRunLauncher"
        assert launcher["load_incluster_config"] is True
        launcher.update(load_incluster_config=False, kubeconfig_file=str(root / "kubeconfig"))
        for storage in ("run_storage", "event_log_storage", "schedule_storage"):
            address = instance[storage]["config"]["postgres_db"]
            address.update(hostname=postgres.host, port=postgres.port)
        (machine["home"] / "dagster.yaml").write_text(yaml.safe_dump(instance))
        # workspace.yaml as rendered, but for the code server's address.
        workspace_map = chart.get("ConfigMap", f"{RELEASE}-workspace-yaml")["data"]
        workspace = yaml.safe_load(workspace_map["workspace.yaml"])
        (grpc,) = [entry["grpc_server"] for entry in workspace["load_from"]]
        machine["ports"] = {str(grpc["port"]): free_port(), "80": free_port()}
        grpc.update(host="127.0.0.1", port=machine["ports"][str(grpc["port"])])
        (machine["workspace"] / "workspace.yaml").write_text(yaml.safe_dump(workspace))
        (root / "kubeconfig").write_text(api.kubeconfig())
        machine["api"] = api

        # The image's ENV for the code server (its image is the project's); the Dagster images'
        # ENV is not known here: PATH and HOME only.
        base = {"PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(root / "home-dir")}
        code_image = {**dockerfile.image_env(DEPLOY / "Dockerfile"), **base}
        machine["cwd"] = {"code-server": ROOT, "webserver": root, "daemon": root}
        processes: dict[str, subprocess.Popen] = {}
        try:
            code_server = chart.deployment("user-deployments")
            processes["code-server"] = start_pod_process(
                "code-server", code_server, machine, code_image
            )
            # The webserver's and daemon's init containers wait for the code server's Service,
            # which routes to the pod once its readiness probe passes: here, the probe itself.
            (container,) = code_server["spec"]["template"]["spec"]["containers"]
            probe = on_this_host(
                container["readinessProbe"]["exec"]["command"], machine["ports"], {}
            )
            wait_for(
                "the code server's readiness probe",
                lambda: subprocess.run(probe, env=base, capture_output=True).returncode == 0,
                READY_TIMEOUT_SECONDS,
                processes,
            )
            for name, component in (
                ("webserver", "dagster-webserver"),
                ("daemon", "dagster-daemon"),
            ):
                processes[name] = start_pod_process(
                    name, chart.deployment(component), machine, base
                )
            machine["processes"] = processes
            machine["web_port"] = machine["ports"]["80"]
            machine["started"] = started
            yield machine
        finally:
            for process in processes.values():
                stop(process)


def location_assets(port: int) -> set[dg.AssetKey] | None:
    (entry,) = graphql(port, ASSET_KEYS_QUERY)["workspaceOrError"]["locationEntries"]
    location = entry["locationOrLoadError"]
    if location is None:
        return None  # still loading
    assert location["__typename"] == "RepositoryLocation", location
    (repository,) = location["repositories"]
    return {dg.AssetKey(node["assetKey"]["path"]) for node in repository["assetNodes"]}


def test_the_rendered_webserver_daemon_and_code_server_run_a_submitted_run(
    cluster_on_this_machine,
):
    machine = cluster_on_this_machine
    port, processes, api = machine["web_port"], machine["processes"], machine["api"]

    # The webserver lists the code location, with every asset of the definitions.
    assets = wait_for("the code location", lambda: location_assets(port), READY_TIMEOUT_SECONDS,
                      processes)  # fmt: skip
    expected = set(ettl_assets.definitions.defs.resolve_asset_graph().get_all_asset_keys())
    assert assets == expected
    print(f"code location served: {time.monotonic() - machine['started']:.0f} s after start")

    # The daemon runs: the webserver (reading the instance's PostgreSQL) sees its heartbeats.
    def daemons_healthy():
        statuses = graphql(port, DAEMONS_QUERY)["instance"]["daemonHealth"]["allDaemonStatuses"]
        required = {s["daemonType"]: s for s in statuses if s["required"]}
        healthy = all(s["healthy"] and s["lastHeartbeatTime"] for s in required.values())
        return required if healthy else None

    daemons = wait_for("the daemon's heartbeats", daemons_healthy, READY_TIMEOUT_SECONDS,
                       processes)  # fmt: skip
    assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"} <= set(daemons)

    # A run submitted through GraphQL: queued, dequeued by the daemon, launched as a run Job by
    # the chart's run launcher; the run pod's executor launches the bronze step as a Job.
    repository = ettl_assets.definitions.defs.get_repository_def().name
    params = {
        "selector": {
            "repositoryLocationName": LOCATION,
            "repositoryName": repository,
            "jobName": all_tiers_daily_job.name,
            "assetSelection": [{"path": BRONZE.path}],
        },
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": DAY}]},
    }
    launched = graphql(port, LAUNCH_MUTATION, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    run_started = time.monotonic()

    def run_finished():
        run = graphql(port, RUN_QUERY, {"runId": run_id})["runOrError"]
        return run if run["status"] in {"SUCCESS", "FAILURE", "CANCELED"} else None

    run = wait_for("the run", run_finished, RUN_TIMEOUT_SECONDS, processes)
    print(f"run {run_id}: {run['status']} in {time.monotonic() - run_started:.0f} s")
    assert run["status"] == "SUCCESS", (ARTIFACTS / "chart-code-server.log").read_text()[-3000:]
    assert run["stepStats"] == [{"stepKey": "bronze__weather", "status": "SUCCESS"}]

    # The run and its step were Jobs sent to the (stand-in) API, valid Kubernetes, in the
    # code server's image, their containers run here and exited 0.
    assert not api.unexpected, api.unexpected
    commands = []
    for manifest, process in api.jobs.values():
        validate(manifest)
        (container,) = manifest["spec"]["template"]["spec"]["containers"]
        assert container["image"] == machine["chart"].user_code_container()["image"]
        assert process.wait(timeout=60) == 0  # the run's process may still be ending
        commands.append(container["args"][:3])
    assert commands == [["dagster", "api", "execute_run"], ["dagster", "api", "execute_step"]]

    # Its materialization is in the event log (PostgreSQL), read back through the webserver.
    events = graphql(port, MATERIALIZATIONS_QUERY, {"runId": run_id})["logsForRun"]["events"]
    materialized = [e for e in events if e["__typename"] == "MaterializationEvent"]
    assert [(e["assetKey"]["path"], e["partition"]) for e in materialized] == [(BRONZE.path, DAY)]
    bronze = ds.dataset(
        machine["data"] / "warehouse" / "bronze.db" / "weather", format="parquet",
        partitioning="hive",
    )  # fmt: skip
    assert bronze.count_rows() == expected_weather_rows(DAY)

    # The landing sensor (off by default), turned on: the daemon ticks it, and its first tick
    # records the files already landed, evaluated by the code server on the data folder.
    selector = {
        "repositoryLocationName": LOCATION,
        "repositoryName": repository,
        "sensorName": "landing_files",
    }
    before = graphql(port, SENSOR_TICKS_QUERY, {"selector": selector})["sensorOrError"]
    assert before["sensorState"]["status"] == "STOPPED" and before["sensorState"]["ticks"] == []
    started = graphql(port, START_SENSOR_MUTATION, {"selector": selector})["startSensor"]
    assert started["__typename"] == "Sensor", started

    def ticks():
        found = graphql(port, SENSOR_TICKS_QUERY, {"selector": selector})["sensorOrError"]
        return [t for t in found["sensorState"]["ticks"] if t["status"] != "STARTED"]  # ended

    (tick, *_) = wait_for("a sensor tick", ticks, SENSOR_TIMEOUT_SECONDS, processes)
    assert tick["status"] == "SKIPPED", tick
    assert "recorded the files already landed" in tick["skipReason"]
    print(f"the test's processes ran {time.monotonic() - machine['started']:.0f} s in all")
