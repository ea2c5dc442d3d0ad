"""The vendored Dagster chart: its files are upstream's but for the recorded change, helm lints
and renders it with deploy/helm/values.yaml (its values.schema.json enforced, offline), and every
rendered object is valid Kubernetes."""

import hashlib

import pytest

from tests.deploy import helm_chart
from tests.deploy.helm_chart import CHART, SCHEMA_FILES
from tests.deploy.test_kubernetes import validate

# The chart files that are the repository's, not upstream's (PROVENANCE.md).
OWN_FILES = {"SHA256SUMS", "PROVENANCE.md"}


def upstream_checksums() -> dict[str, str]:
    checksums = {}
    for line in (CHART / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        checksums[name.removeprefix("./")] = digest
    return checksums


def test_the_vendored_files_are_upstreams_but_for_the_recorded_change():
    checksums = upstream_checksums()
    present = {str(p.relative_to(CHART)) for p in CHART.rglob("*") if p.is_file()}
    assert present == set(checksums) | OWN_FILES
    for name, digest in checksums.items():
        text = (CHART / name).read_bytes()
        if name in SCHEMA_FILES:
            text = helm_chart.upstream_schema_text(CHART / name).encode()
        assert hashlib.sha256(text).hexdigest() == digest, name
    assert "LICENSE" in checksums and "Apache License" in (CHART / "LICENSE").read_text()


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_the_schemas_embed_the_kubernetes_definitions_kubernetes_validate_bundles(name):
    path = CHART / name
    assert path.read_text() != helm_chart.upstream_schema_text(path)  # the change is there
    assert path.read_text() == helm_chart.offline_schema_text(helm_chart.upstream_schema_text(path))


def test_the_pinned_helm_is_the_one_used():
    result = helm_chart.helm("version", "--short")
    assert result.returncode == 0 and result.stdout.startswith("v4."), result


def test_helm_lint_strict_passes_with_the_values():
    result = helm_chart.helm("lint", "--strict", *helm_chart.chart_args())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize(
    ("value", "refused_at"),
    [
        # A Kubernetes field of the embedded definitions (ResourceRequirements' quantity).
        ("dagsterWebserver.resources.requests.cpu[0]=1", "/dagsterWebserver/resources/requests"),
        # One of the chart's own fields, in the subchart's schema.
        ("dagster-user-deployments.deployments[0].image.pullPolicy=Sometimes", "pullPolicy"),
    ],
)
def test_the_values_schema_is_enforced(value, refused_at):
    result = helm_chart.helm("template", "dagster", *helm_chart.chart_args("--set", value))
    assert result.returncode != 0
    assert "don't meet the specifications of the schema" in result.stderr
    assert refused_at in result.stderr


def test_every_rendered_object_is_valid_kubernetes(chart):
    kinds = sorted(o["kind"] for o in chart.objects)
    assert kinds.count("Deployment") == 3  # webserver, daemon, code server
    for manifest in chart.objects:
        validate(manifest)


def test_the_dagster_images_are_the_pinned_dagster_version(chart):
    version = helm_chart.pinned_dagster_version()
    for component in ("dagster-webserver", "dagster-daemon"):
        image = chart.container(component)["image"]
        assert image == f"docker.io/dagster/dagster-celery-k8s:{version}"
    # The code server (and so every run and step pod) runs the project's image.
    assert chart.user_code_container()["image"] == "registry.example.com/ettl:0.1.0"
