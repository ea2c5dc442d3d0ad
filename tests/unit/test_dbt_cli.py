from dagster_dbt import DbtCliResource

from ettl_assets.transform.project import DBT_EXECUTABLE, dbt_cli, dbt_project


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
