"""The Kubernetes deployment, checked without a cluster.

For each tier, the step Job is the one dagster-k8s itself builds: the project's k8s executor runs
the daily job's step for one asset, with an instance whose run launcher is the K8sRunLauncher of
the chart's render (tests/deploy/helm_chart.py) and the code location context the rendered code
server gives its runs, and the Job is taken at the API call that would send it to the cluster
(the call fails, so the run stops there). Every Job and every manifest the project ships is
validated with kubernetes-validate against a pinned Kubernetes release, strictly (no unknown
field).
"""

import json
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import kubernetes
import kubernetes_validate
import pytest
import yaml
from dagster._config import process_config
from dagster._core.storage.tags import BACKFILL_ID_TAG
from dagster_cloud_cli.config.models import load_dagster_cloud_yaml
from dagster_k8s.client import DagsterKubernetesClient
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job
from dagster_shared import record  # Definitions is a record

from ettl import cli, spark_server
from ettl_assets import execution, settings
from ettl_assets.automation import all_tiers_daily_job
from ettl_assets.definitions import defs
from tests.deploy.helm_chart import DEPLOY, NAMESPACE, Render

# The oldest cluster release the manifests must be valid for, and the newest whose schema the
# pinned kubernetes-validate bundles (1.37.0 for 1.37.0): a field removed or renamed in between
# fails one of the two.
KUBERNETES_VERSIONS = ("1.33.0", kubernetes_validate.latest_version())
ROOT = settings.PROJECT_ROOT
DAY = "2013-01-05"
# One daily asset per tier. Silver and gold models share one dbt step (and so one pod).
TIER_ASSETS = {
    "bronze": dg.AssetKey(["bronze", "flights"]),
    "silver": dg.AssetKey(["silver", "stg_flights__flights"]),
    "gold": dg.AssetKey(["gold", "fct_daily_carrier_performance"]),
}
TIER_STEPS = {"bronze": "bronze__flights", "silver": "daily_dbt_models", "gold": "daily_dbt_models"}
# A kubeconfig that only needs to parse: no call ever reaches its server.
KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: test, user: {token: test}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
"""
TIER_RESOURCES = {
    "bronze": execution.BRONZE_POD_RESOURCES,
    "silver": execution.DBT_POD_RESOURCES,
    "gold": execution.DBT_POD_RESOURCES,
}


def validate(manifest: dict[str, Any]) -> None:
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(manifest, version, strict=True)


def chart_run_launcher(chart: Render, kubeconfig: Path) -> dict[str, Any]:
    """The rendered instance's run launcher; only the cluster it talks to is the test's."""
    launcher = chart.instance()["run_launcher"]
    assert launcher["class"] == "K8sRunLauncher"
    assert launcher["config"]["load_incluster_config"] is True  # in a pod: its service account
    config = {**launcher["config"], "load_incluster_config": False}
    return {**launcher, "config": {**config, "kubeconfig_file": str(kubeconfig)}}


def chart_code_location_context(chart: Render) -> dict[str, Any]:
    """The container context the rendered code server records in every run's origin (the
    chart's includeConfigInLaunchedRuns): every run and step pod inherits it."""
    env = {e["name"]: e.get("value") for e in chart.user_code_container()["env"]}
    return json.loads(env["DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT"])


def k8s_daily_job() -> dg.JobDefinition:
    """The daily job as the k8s deployment builds it (module-level, for dg.reconstructable)."""
    k8s_defs = record.copy(defs, executor=execution.executor_for("k8s"))  # all else as is
    return k8s_defs.resolve_job_def(all_tiers_daily_job.name)


# --- the run tags of each way a run starts -------------------------------------------------------


def scheduled_run_tags() -> dict[str, str]:
    """The tags of the daily schedule's run for DAY, as the daemon launches it."""
    schedule = defs.resolve_schedule_def("all_tiers_daily_schedule")
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2013, 1, 6, 6)
        )
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == DAY
    return {**request.tags, "dagster/schedule_name": schedule.name}


def ettl_backfill_run_tags(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The tags of a run the daemon launches for `ettl backfill --from-tier silver` (which, on a
    deployment with a daemon, submits a Dagster backfill): the backfill's tags and its id
    (dagster/_core/execution/asset_backfill.py submits each run so)."""
    # Its own patch, undone when the block ends: the test's monkeypatch would restore, at
    # teardown, the DAGSTER_HOME of the test's instance_for_test, a folder gone by then.
    with tempfile.TemporaryDirectory() as home, pytest.MonkeyPatch.context() as patch:
        shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home)
        patch.setenv("DAGSTER_HOME", home)
        argv = ["backfill", "--from-tier", "silver", "--submit", "--start", DAY, "--end", DAY]
        assert cli.main(argv) == 0
        with dg.DagsterInstance.get() as instance:
            (backfill,) = instance.get_backfills()
    return {**backfill.tags, BACKFILL_ID_TAG: backfill.backfill_id}


BACKFILL_CLASS = execution.BACKFILL_PRIORITY_CLASS
RUN_KINDS = {
    "scheduled": (lambda monkeypatch: scheduled_run_tags(), execution.NORMAL_PRIORITY_CLASS),
    # Every run of a backfill launched from the UI (or GraphQL) carries the backfill's id.
    "ui-backfill": (lambda monkeypatch: {BACKFILL_ID_TAG: "a1b2c3d4"}, BACKFILL_CLASS),
    "ettl-backfill": (ettl_backfill_run_tags, BACKFILL_CLASS),
}


# --- the step Job, as dagster-k8s builds it -------------------------------------------------------


class JobCaught(Exception):
    """Raised instead of creating the Job on a cluster."""


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The Kubernetes API as the k8s executor calls it: Jobs are kept, never sent."""
    created: list[tuple[str, Any]] = []

    def create(self: DagsterKubernetesClient, body: Any, namespace: str, **kwargs: Any) -> None:
        created.append((namespace, body))
        raise JobCaught

    monkeypatch.setattr(DagsterKubernetesClient, "create_namespaced_job_with_retries", create)
    monkeypatch.setattr(DagsterKubernetesClient, "delete_job", lambda *args, **kwargs: None)
    return created


@pytest.fixture
def k8s_instance(tmp_path: Path, chart: Render):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    overrides = {"run_launcher": chart_run_launcher(chart, kubeconfig)}
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance


def step_job(
    chart: Render,
    instance: dg.DagsterInstance,
    cluster: list,
    asset: dg.AssetKey,
    tags: dict[str, str],
) -> dict[str, Any]:
    """The Job of the step that materializes `asset` for DAY, as sent to the API (camelCase)."""
    job = dg.reconstructable(k8s_daily_job)
    # What the chart's code server records in every run's origin: its image and context.
    code_server = job.repository._replace(
        container_image=chart.user_code_container()["image"],
        container_context=chart_code_location_context(chart),
    )
    result = dg.execute_job(
        job._replace(repository=code_server),
        instance=instance,
        asset_selection=[asset],
        tags={**tags, "dagster/partition": DAY},
    )
    assert not result.success  # stopped where the Job would have been sent
    ((namespace, body),) = cluster
    assert namespace == NAMESPACE
    return kubernetes.client.ApiClient().sanitize_for_serialization(body)


def cpu(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def memory_gib(quantity: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(Mi|Gi)", quantity).groups()
    return float(number) / (1024 if unit == "Mi" else 1)


@pytest.mark.parametrize("run_kind", RUN_KINDS)
@pytest.mark.parametrize("tier", TIER_ASSETS)
def test_each_tier_gets_its_step_pod(tier, run_kind, chart, cluster, k8s_instance, monkeypatch):
    run_tags, priority_class = RUN_KINDS[run_kind]
    manifest = step_job(chart, k8s_instance, cluster, TIER_ASSETS[tier], run_tags(monkeypatch))
    validate(manifest)
    pod = manifest["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    assert manifest["metadata"]["labels"]["dagster/op"] == TIER_STEPS[tier]
    # The tier's size, from the asset's op tags; not the code server's size it would inherit.
    assert container["resources"] == TIER_RESOURCES[tier]
    assert container["resources"] != chart.user_code_container()["resources"]
    assert pod["priorityClassName"] == priority_class
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == execution.RUN_AS_USER != 0
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["image"] == chart.user_code_container()["image"]
    # The image has no ENTRYPOINT, so args are the command: run this one step of this run.
    assert "command" not in container
    assert container["args"][:3] == ["dagster", "api", "execute_step"]
    assert {"name": "ettl-data", "mountPath": "/data"} in container["volumeMounts"]
    assert {"secretRef": {"name": "ettl-env"}} in container["envFrom"]


def test_bronze_pods_are_smaller_than_dbt_pods():
    bronze, dbt = execution.BRONZE_POD_RESOURCES, execution.DBT_POD_RESOURCES
    assert cpu(bronze["requests"]["cpu"]) < cpu(dbt["requests"]["cpu"])
    for kind in ("requests", "limits"):
        assert memory_gib(bronze[kind]["memory"]) < memory_gib(dbt[kind]["memory"])


def test_every_step_of_the_daily_job_carries_its_pod_size():
    job = defs.resolve_job_def(all_tiers_daily_job.name)
    sizes = {node.name: node.tags.get("dagster-k8s/config") for node in job.graph.node_defs}
    assert None not in sizes.values(), sizes
    assert sizes["daily_dbt_models"] == sizes["reference_dbt_models"]
    assert sizes["bronze__flights"] != sizes["daily_dbt_models"]


def test_one_setting_picks_the_executor():
    assert execution.executor_for("k8s") is execution.k8s_step_executor
    for deployment in ("local", "thrift"):
        assert execution.executor_for(deployment) is execution.LOCAL_EXECUTOR
    job = defs.resolve_job_def(all_tiers_daily_job.name)
    assert job.executor_def is execution.executor_for(settings.deployment())


# --- the other artefacts -------------------------------------------------------------------------


def shipped_manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted([*(DEPLOY / "k8s").glob("*.yaml"), *(DEPLOY / "kind").glob("*.yaml")]):
        for document in yaml.safe_load_all(path.read_text()):
            found.append((f"{path.name}:{document['metadata']['name']}", document))
    return found


SHIPPED = shipped_manifests()


@pytest.mark.parametrize("manifest", [m for _, m in SHIPPED], ids=[name for name, _ in SHIPPED])
def test_shipped_manifests_are_valid_kubernetes(manifest):
    validate(manifest)


def test_priority_classes_are_the_executors_and_backfills_give_way():
    classes = {
        m["metadata"]["name"]: m for _, m in shipped_manifests() if m["kind"] == "PriorityClass"
    }
    normal = classes[execution.NORMAL_PRIORITY_CLASS]
    backfill = classes[execution.BACKFILL_PRIORITY_CLASS]
    assert backfill["value"] < normal["value"]
    assert normal["preemptionPolicy"] == "PreemptLowerPriority"
    assert backfill["preemptionPolicy"] == "Never"
    assert not normal["globalDefault"] and not backfill["globalDefault"]


def test_the_rendered_chart_runs_the_code_location_with_a_backfill_limit(chart):
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    assert chart.user_code_container()["args"][-2:] == ["-m", module]
    instance = chart.instance()
    assert instance["run_launcher"]["class"] == "K8sRunLauncher"
    coordinator = instance["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    # Dagster's own schema checks the coordinator's config as the chart writes it.
    assert process_config(dg.QueuedRunCoordinator.config_type(), coordinator["config"]).success
    assert {"key": BACKFILL_ID_TAG, "limit": 2} in coordinator["config"]["tag_concurrency_limits"]
    assert instance["run_retries"] == {"enabled": True, "max_retries": 2}
    # The storage password comes from the deploy's own Secret; the chart renders none.
    assert chart.of_kind("Secret") == []
    for component in ("dagster-webserver", "dagster-daemon", "user-deployments"):
        (password,) = [
            e for e in chart.container(component)["env"] if e["name"] == "DAGSTER_PG_PASSWORD"
        ]
        assert password["valueFrom"]["secretKeyRef"]["name"] == "dagster-postgresql-secret"


def test_dagster_cloud_yaml_is_the_same_code_location_with_a_valid_k8s_context(chart):
    (location,) = load_dagster_cloud_yaml((ROOT / "dagster_cloud.yaml").read_text()).locations
    assert location.code_source.module_name == chart.user_code_container()["args"][-1]
    context = K8sContainerContext.create_from_config(location.container_context)  # validates
    with pytest.raises(Exception, match="unexpected_field"):
        K8sContainerContext.create_from_config({"k8s": {"unexpected_field": 1}})
    # The run pod dagster-k8s builds from it (the step pods add the executor's and op tags').
    job_config = DagsterK8sJobConfig(
        job_image=chart.user_code_container()["image"],
        dagster_home=chart.instance()["run_launcher"]["config"]["dagster_home"],
        instance_config_map="instance",
    )
    run_job = construct_dagster_k8s_job(
        job_config, ["dagster", "api", "execute_run"], "dagster-run-x", context.run_k8s_config
    )
    manifest = kubernetes.client.ApiClient().sanitize_for_serialization(run_job)
    validate(manifest)
    pod = manifest["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == execution.RUN_AS_USER
    assert {"name": "ettl-data", "mountPath": "/data"} in pod["containers"][0]["volumeMounts"]


def test_the_kind_thrift_server_is_the_one_ettl_starts_but_listening_on_the_pod(chart, monkeypatch):
    """deploy/kind/spark-thrift.yaml runs `ettl spark-server start`'s spark-submit, on /data."""
    monkeypatch.setenv(settings.DATA_DIR_ENV, "/data")
    (deployment,) = [
        m for n, m in SHIPPED if n == "spark-thrift.yaml:spark-thrift" and m["kind"] == "Deployment"
    ]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    port = container["ports"][0]["containerPort"]
    local = spark_server.spark_submit_command("0.0.0.0", port)
    assert container["args"] == ["spark-submit", *local[1:]]  # the image's spark-submit on PATH
    assert container["image"] == chart.user_code_container()["image"]
