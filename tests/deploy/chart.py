"""What the official Dagster chart makes of deploy/helm/values.yaml, where the tests need it.

The chart itself cannot be rendered here (see docs/deployment.md, "Running on Kubernetes"), so
each function names the chart template whose output it stands for.
"""

from pathlib import Path
from typing import Any

import yaml

from ettl_assets import settings

DEPLOY = settings.PROJECT_ROOT / "deploy"
VALUES = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
(USER_CODE,) = VALUES["dagster-user-deployments"]["deployments"]
IMAGE = f"{USER_CODE['image']['repository']}:{USER_CODE['image']['tag']}"
RELEASE = NAMESPACE = "dagster"  # `helm install dagster ... --namespace dagster` in these tests
DAGSTER_HOME = "/opt/dagster/dagster_home"  # the chart's DAGSTER_HOME in every pod
INSTANCE_CONFIG_MAP = f"{RELEASE}-instance"
USER_ENV_CONFIG_MAP = f"{RELEASE}-dagster-user-deployments-{USER_CODE['name']}-user-env"
# A kubeconfig that only needs to parse: no call ever reaches its server.
KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: test, user: {token: test}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
"""


def chart_run_launcher(kubeconfig: Path) -> dict[str, Any]:
    """The instance's run launcher as the chart writes it from the values
    (templates/helpers/instance/_run-launcher.tpl); only the kubeconfig is the test's."""
    run_k8s = VALUES["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]
    return {
        "module": "dagster_k8s",
        "class": "K8sRunLauncher",
        "config": {
            "load_incluster_config": False,
            "kubeconfig_file": str(kubeconfig),
            "job_namespace": NAMESPACE,
            "service_account_name": RELEASE,
            "dagster_home": DAGSTER_HOME,
            "instance_config_map": INSTANCE_CONFIG_MAP,
            "postgres_password_secret": VALUES["global"]["postgresqlSecretName"],
            "run_k8s_config": {
                "pod_spec_config": run_k8s["podSpecConfig"],
                "container_config": run_k8s["containerConfig"],
            },
        },
    }


def chart_code_location_context() -> dict[str, Any]:
    """The container context the chart gives the code server (dagster-user-deployments helper
    `k8sContainerContext`, includeConfigInLaunchedRuns): every run and step pod inherits it."""
    return {
        "k8s": {
            "image_pull_policy": USER_CODE["image"]["pullPolicy"],
            "env_config_maps": [USER_ENV_CONFIG_MAP],
            "env_secrets": [secret["name"] for secret in USER_CODE["envSecrets"]],
            "volume_mounts": USER_CODE["volumeMounts"],
            "volumes": USER_CODE["volumes"],
            "resources": USER_CODE["resources"],
            "namespace": NAMESPACE,
            "service_account_name": f"{RELEASE}-dagster-user-deployments-user-deployments",
            "run_k8s_config": {"pod_spec_config": {"automount_service_account_token": True}},
        }
    }


def chart_user_env() -> dict[str, str]:
    """The data of the code location's env ConfigMap (USER_ENV_CONFIG_MAP), which the chart
    fills from the deployment's `env` map (dagster-user-deployments configmap-env-user.yaml)."""
    return {name: str(value) for name, value in USER_CODE["env"].items()}
