import json
import os
import subprocess
import sys
from types import SimpleNamespace

from dagster_dbt import DbtCliResource

from ettl_assets.pii_key import PII_KEY_ENV
from ettl_assets.transform import project
from ettl_assets.transform.project import DBT_EXECUTABLE, InstalledDbtCli, dbt_cli, dbt_project


def test_the_dbt_version_is_the_one_dagster_dbt_would_ask_the_dbt_cli_for():
    # InstalledDbtCli reads the installed dbt-core instead of running `dbt --version` per step;
    # an upgrade that makes them differ must fail here, not mislead dagster-dbt.
    asked = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)._cli_version
    assert dbt_cli(dbt_project)._cli_version == asked
    assert asked.major == 1  # dbt-core, not the Fusion engine


def test_no_dbt_adapter_is_opened_in_the_step_process(tmp_path):
    # dagster-dbt opens an adapter before every dbt call (~2.5 s) for metadata fetches this project
    # does not use (docs/design-decisions.md#d14); InstalledDbtCli skips it. If dagster-dbt stops
    # opening one, the override is dead code: the second assertion says so.
    ours = dbt_cli(dbt_project).cli(["--version"], target_path=tmp_path / "ours")
    theirs = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE).cli(
        ["--version"], target_path=tmp_path / "theirs"
    )
    assert ours.wait().adapter is None
    assert theirs.wait().adapter is not None


def test_the_dbt_process_gets_the_configuration_and_the_steps_env_and_the_step_keeps_its_own(
    tmp_path, monkeypatch
):
    # A stand-in dbt that records the environment it was started with.
    recorded = tmp_path / "env.json"
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(
        f"#!{sys.executable}\nimport json, os\n"
        f"open({str(recorded)!r}, 'w').write(json.dumps(dict(os.environ)))\n"
    )
    fake_dbt.chmod(0o755)
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path / "configured"))
    monkeypatch.delenv("ETTL_FIRST_DAY", raising=False)
    before = dict(os.environ)
    dbt = InstalledDbtCli(project_dir=dbt_project, dbt_executable=str(fake_dbt))
    dbt.cli(["parse"], env={PII_KEY_ENV: "the step's key"}, target_path=tmp_path / "t").wait()
    seen = json.loads(recorded.read_text())
    assert seen["ETTL_DATA_DIR"] == str(tmp_path / "configured")
    assert seen["ETTL_FIRST_DAY"] == "2013-01-01"  # ettl.yaml's, though not in the environment
    assert seen[PII_KEY_ENV] == "the step's key"
    assert dict(os.environ) == before  # set for dbt's process only


# Importing the code location, as `dagster dev`'s children and `dagster asset materialize` do, in
# a shell that exported nothing: it must start no dbt (no `dbt parse`) and set no variable.
IMPORT_ONLY = """
import os, subprocess
popen = subprocess.Popen
def no_dbt(args, *rest, **kwargs):
    if "dbt" in str(args):
        raise AssertionError(f"dbt started at import: {args}")
    return popen(args, *rest, **kwargs)
subprocess.Popen = no_dbt
before = dict(os.environ)
import ettl_assets.definitions
changed = set(os.environ.items()) ^ set(before.items())
assert not changed, sorted(name for name, _ in changed)
"""


def test_importing_the_code_location_parses_nothing_and_changes_no_environment_variable():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETTL_", "DAGSTER_"))}
    env.pop(PII_KEY_ENV, None)
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ONLY], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_finished_invocation_leaves_its_parse_state_for_the_next(tmp_path, monkeypatch):
    """dagster-dbt copies target/partial_parse.msgpack into each invocation and never back; the
    steps keep theirs (D16), replacing the saved one whole."""
    monkeypatch.setattr(project, "dbt_project", SimpleNamespace(project_dir=tmp_path,
                                                                target_path="target"))  # fmt: skip
    kept = tmp_path / "target" / project.PARTIAL_PARSE_FILE
    kept.parent.mkdir()
    kept.write_bytes(b"parsed at install")
    invocation = SimpleNamespace(target_path=tmp_path / "target" / "step-1")
    invocation.target_path.mkdir()
    project.keep_partial_parse(invocation)  # a step that saved nothing: the state stays
    assert kept.read_bytes() == b"parsed at install"
    (invocation.target_path / project.PARTIAL_PARSE_FILE).write_bytes(b"parsed by the step")
    project.keep_partial_parse(invocation)
    assert kept.read_bytes() == b"parsed by the step"
    assert sorted(p.name for p in kept.parent.iterdir()) == [kept.name, "step-1"]
