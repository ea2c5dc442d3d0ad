"""The vendored Dagster chart, rendered by the real helm with deploy/helm/values.yaml.

The chart is deploy/helm/vendor/dagster-1.12.19/ (its PROVENANCE.md says where it comes from);
helm is the pinned binary `make helm` puts in .tools/. The deploy tests read the render (one per
test session, the `chart` fixture of tests/deploy/conftest.py), never a hand-written copy.

The one local change to the chart: its two values.schema.json files `$ref` the Kubernetes JSON
schema by URL, which helm cannot fetch offline. Each file gets those definitions embedded, under
the URL as `$id` (helm's JSON schema library resolves the `$ref` to the embedded resource and
fetches nothing), built from the Kubernetes schemas kubernetes-validate bundles. The upstream
bytes are the file up to SCHEMA_SEPARATOR, closed: `test_helm_chart.py` checks them against the
chart's SHA256SUMS, and the embedded part against a fresh build. Rebuild it with
`python -m tests.deploy.helm_chart --write-schemas`.
"""

import argparse
import json
import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from ettl_assets import settings

ROOT = settings.PROJECT_ROOT
DEPLOY = ROOT / "deploy"
VALUES_FILE = DEPLOY / "helm" / "values.yaml"
CHART_VERSION = "1.12.19"
CHART = DEPLOY / "helm" / "vendor" / f"dagster-{CHART_VERSION}"
HELM = ROOT / ".tools" / "helm"  # the Makefile's HELM
RELEASE = NAMESPACE = "dagster"  # `helm template dagster ... --namespace dagster` here

KUBERNETES_SCHEMA_URL = "https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/v1.19.0/_definitions.json"
# The oldest release the deploy tests validate manifests for (test_kubernetes.py), non-strict
# like the upstream URL's definitions (the chart's own schema decides about extra fields).
SCHEMA_KUBERNETES_VERSION = "1.33.0"
SCHEMA_FILES = ("values.schema.json", "charts/dagster-user-deployments/values.schema.json")
SCHEMA_SEPARATOR = ',\n    "definitions": {\n        "kubernetes": '
UPSTREAM_SCHEMA_END = "\n}\n"


def pinned_dagster_version() -> str:
    """The `dagster==` pin of pyproject.toml: the Dagster images' tag."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (version,) = [d.split("==")[1] for d in dependencies if d.startswith("dagster==")]
    return version


# --- the offline schema --------------------------------------------------------------------------


def kubernetes_definitions() -> dict[str, Any]:
    """kubernetes-validate's Kubernetes definitions (SCHEMA_KUBERNETES_VERSION), those the chart
    refers to and everything they refer to, as a document the chart's `$ref`s resolve in."""
    path = (
        Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
        / f"v{SCHEMA_KUBERNETES_VERSION}-local" / "_definitions.json"
    )  # fmt: skip
    source = json.loads(path.read_text().replace('"#/$defs/', '"#/definitions/'))["$defs"]
    prefix = KUBERNETES_SCHEMA_URL + "#/definitions/"
    wanted = set()
    for name in SCHEMA_FILES:
        text = upstream_schema_text(CHART / name)
        wanted |= {ref.split("/")[0] for ref in re.findall(re.escape(prefix) + r'([^"]+)"', text)}
    kept: dict[str, Any] = {}
    while wanted:
        name = wanted.pop()
        kept[name] = source[name]
        refs = re.findall(r'"#/definitions/([^"/]+)"', json.dumps(source[name]))
        wanted |= {ref for ref in refs if ref not in kept}
    return {"$id": KUBERNETES_SCHEMA_URL, "definitions": dict(sorted(kept.items()))}


def upstream_schema_text(path: Path) -> str:
    """The file as upstream ships it: the part before the embedded definitions, closed."""
    head, separator, _ = path.read_text().partition(SCHEMA_SEPARATOR)
    return head + UPSTREAM_SCHEMA_END if separator else path.read_text()


def offline_schema_text(upstream: str) -> str:
    assert upstream.endswith(UPSTREAM_SCHEMA_END)
    embedded = json.dumps(kubernetes_definitions(), indent=1, sort_keys=True)
    return upstream.removesuffix(UPSTREAM_SCHEMA_END) + SCHEMA_SEPARATOR + embedded + "\n    }\n}\n"


def write_offline_schemas() -> None:
    for name in SCHEMA_FILES:
        path = CHART / name
        path.write_text(offline_schema_text(upstream_schema_text(path)))


# --- helm ----------------------------------------------------------------------------------------


def helm(*args: str) -> subprocess.CompletedProcess:
    """helm, offline: no repository, no registry, no cluster is ever contacted by these calls."""
    if not HELM.exists():
        raise FileNotFoundError(f"{HELM} is missing: run `make helm` (make test does)")
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, timeout=120)


def image_tag_args() -> list[str]:
    """The Dagster images (webserver and daemon; the migration job uses the webserver's) at
    the pinned dagster version; the official chart of that version defaults to it by itself."""
    version = pinned_dagster_version()
    components = ("dagsterWebserver", "dagsterDaemon")
    return [arg for c in components for arg in ("--set-string", f"{c}.image.tag={version}")]


def chart_args(*extra: str) -> list[str]:
    return [str(CHART), "--namespace", NAMESPACE, "-f", str(VALUES_FILE), *image_tag_args(), *extra]


@dataclass(frozen=True)
class Render:
    """The objects `helm template` renders, by kind and name."""

    objects: list[dict[str, Any]]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        (found,) = [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]
        return found

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def deployment(self, component: str) -> dict[str, Any]:
        """The Deployment whose pods carry the label component=`component`."""
        (found,) = [
            o for o in self.of_kind("Deployment")
            if o["spec"]["template"]["metadata"]["labels"].get("component") == component
        ]  # fmt: skip
        return found

    def container(self, component: str) -> dict[str, Any]:
        (container,) = self.deployment(component)["spec"]["template"]["spec"]["containers"]
        return container

    def instance(self) -> dict[str, Any]:
        """The instance's dagster.yaml, from the instance ConfigMap."""
        return yaml.safe_load(self.get("ConfigMap", f"{RELEASE}-instance")["data"]["dagster.yaml"])

    def user_code_container(self) -> dict[str, Any]:
        return self.container("user-deployments")


def render(*extra: str) -> Render:
    result = helm("template", RELEASE, *chart_args(*extra))
    if result.returncode != 0:
        raise RuntimeError(f"helm template failed: {result.stderr}")
    return Render([o for o in yaml.safe_load_all(result.stdout) if o])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-schemas", action="store_true", required=True)
    parser.parse_args()
    write_offline_schemas()
