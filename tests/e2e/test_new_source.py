"""Done-when of the project configuration: a NEW daily source, dated in the last two weeks, is
added by configuration and registry alone (no Python) and `ettl run --source` builds it to silver.

The project is copied to a temp folder (its own ettl.yaml, registry entry, silver model, data dir,
landing root and Dagster instance) and driven through the real command line, as a user would.
One `ettl run` of three days (one of them not delivered): one dbt invocation.
"""

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest
import yaml

from tests.e2e.helpers import ARTIFACTS, PROJECT_ROOT

pytestmark = pytest.mark.e2e

SOURCES_YML = """\
version: 2

sources:
  - name: bronze
    schema: bronze
    tables:
      - name: meters
        description: "One row per electricity meter reading, one CSV file per UTC day."
        config:
          meta:
            dagster: {owners: ["team:energy"]}
            ettl:
              {system: "meter head-end", format: csv, landing: "meters/{date}.csv", cadence: daily}
        columns:
          - {name: meter_id, data_type: string, config: {meta: {sensitivity: public}}}
          - {name: read_at, data_type: timestamp, config: {meta: {sensitivity: public}}}
          - {name: kwh, data_type: double, config: {meta: {sensitivity: public}}}
  - name: quarantine
    schema: bronze
    tables:
      - {name: meters, identifier: meters__quarantine}
"""

MODEL_SQL = """\
with

source as (

    select * from {{ source('bronze', 'meters') }}
    where {{ in_partition_window('partition_date') }}

),

final as (

    select
        meter_id,
        read_at,
        kwh as consumption_kwh,
        partition_date as reading_date  -- partition column, last

    from source

)

select * from final
"""

MODELS_YML = """\
version: 2

models:
  - name: stg_meters__readings
    description: One row per meter reading, as delivered.
    columns:
      - name: meter_id
        data_tests: [not_null]
"""


def _new_project(root: Path, first_day: str) -> Path:
    """A copy of the project with the meters source added by files only."""
    project = root / "project"
    for part in ("ettl_assets", "dbt_project"):
        shutil.copytree(
            PROJECT_ROOT / part,
            project / part,
            ignore=shutil.ignore_patterns("target", "logs", "__pycache__"),
        )
    (project / "ettl.yaml").write_text(
        f"first_day: {first_day}\ntimezone: UTC\ndata_dir: data\n"
        f"landing_root: file://{root}/landing\n"
    )
    dbt = project / "dbt_project"
    (dbt / "models/bronze/_meters__sources.yml").write_text(SOURCES_YML)
    (dbt / "models/silver/meters").mkdir()
    (dbt / "models/silver/meters/stg_meters__readings.sql").write_text(MODEL_SQL)
    (dbt / "models/silver/meters/_meters__models.yml").write_text(MODELS_YML)
    config = yaml.safe_load((dbt / "dbt_project.yml").read_text())
    config["models"]["ettl"]["silver"]["meters"] = {
        "+materialized": "incremental",
        "+incremental_strategy": "insert_overwrite",
        "+partition_by": ["reading_date"],
        "+tags": ["daily"],
    }
    (dbt / "dbt_project.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return project


def _deliver(landing: Path, day: str, readings: int) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "meter_id": [f"M{n % 3}" for n in range(readings)],
            "read_at": [f"{day}T{n % 24:02d}:15:00Z" for n in range(readings)],
            "kwh": [round(0.25 * n + 1, 2) for n in range(readings)],
        }
    )
    (landing / "meters").mkdir(parents=True, exist_ok=True)
    frame.to_csv(landing / "meters" / f"{day}.csv", index=False)
    return frame.assign(reading_date=day)


def _environment(project: Path, home: Path) -> dict[str, str]:
    """The user's shell: the copy's code and ettl.yaml, no ETTL_* overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETTL_") or "SPARK" in k}
    return {**env, "PYTHONPATH": str(project), "DAGSTER_HOME": str(home)}


def _run(args: list[str], project: Path, env: dict[str, str], log_name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    result = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    (ARTIFACTS / f"{log_name}.log").write_text(output)
    assert result.returncode == 0, output[-4000:]
    return output


def test_a_new_source_dated_last_week_builds_to_silver_by_configuration_alone(tmp_path):
    today = datetime.now(UTC).date()
    first_day = today - timedelta(days=14)
    project = _new_project(tmp_path, first_day.isoformat())
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)
    env = _environment(project, home)
    d1, d2, d3 = (str(today - timedelta(days=n)) for n in (6, 5, 4))
    expected = pd.concat(
        [_deliver(tmp_path / "landing", d1, 30), _deliver(tmp_path / "landing", d3, 7)]
    )  # d2: no delivery

    output = _run(
        [sys.executable, "-m", "ettl.cli", "run", "--skip-landing",
         "--source", "meters", "--start", d1, "--end", d3],
        project, env, "new-source-run",
    )  # fmt: skip

    assert f"no delivery: meters {d2}\n" in output
    silver = project / "data/warehouse/silver.db/stg_meters__readings"
    table = ds.dataset(silver, format="parquet", partitioning="hive").to_table().to_pandas()
    table["reading_date"] = table["reading_date"].astype(str)
    got = table.groupby("reading_date")["consumption_kwh"].agg(["count", "sum"])
    want = expected.groupby("reading_date")["kwh"].agg(["count", "sum"])
    assert got["count"].to_dict() == want["count"].to_dict() == {d1: 30, d3: 7}
    assert got["sum"].round(2).to_dict() == want["sum"].round(2).to_dict()
    # --source meters: no other source was ingested (dbt declares their empty tables only)
    assert not list((project / "data/warehouse/bronze.db/flights").rglob("*.parquet"))

    # The daily schedule of that project, evaluated today at 06:00, requests yesterday, meters
    # included; and a day before its first day is refused in one line.
    schedule = _run(
        [sys.executable, "-c",
         "from datetime import UTC, datetime\n"
         "import dagster as dg\n"
         "from ettl_assets.definitions import defs\n"
         "schedule = defs.resolve_schedule_def('all_tiers_daily_schedule')\n"
         "at = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)\n"
         "with dg.DagsterInstance.ephemeral() as instance:\n"
         "    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at)\n"
         "    (request,) = schedule.evaluate_tick(context).run_requests\n"
         "keys = defs.resolve_job_def(schedule.job_name).asset_layer.selected_asset_keys\n"
         "print('requested', request.partition_key, dg.AssetKey(['bronze', 'meters']) in keys)\n"],
        project, env, "new-source-schedule",
    )  # fmt: skip
    assert f"requested {today - timedelta(days=1)} True" in schedule
    before = str(first_day - timedelta(days=1))
    refused = subprocess.run(
        [sys.executable, "-m", "ettl.cli", "run", "--skip-landing", "--source", "meters",
         "--start", before, "--end", d1],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr == (
        f"ettl: {before} is outside the configured data span {first_day}.."
        f"{today - timedelta(days=1)} (first_day in ettl.yaml, or ETTL_FIRST_DAY, through "
        "yesterday in UTC)\n"
    )


SOURCES_PAGE = PROJECT_ROOT / "docs" / "sources.md"


def walk_through_blocks(page: Path, section: str) -> list[tuple[str, str | None]]:
    """The ```bash blocks of a page's section, each with the ```text block that shows its
    output (None when there is none), in order."""
    text = page.read_text().split(f"\n{section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```\n", text, flags=re.M | re.S)
    found = []
    for (kind, body), following in zip(blocks, [*blocks[1:], ("", "")], strict=True):
        if kind == "bash":
            found.append((body, following[1] if following[0] == "text" else None))
    return found


def assert_shown_output(output: str, shown: str) -> None:
    """Each non-blank line shown appears in the output, in order; runs of whitespace are equal
    and `...` stands for any text."""
    position = 0
    for line in filter(str.strip, shown.splitlines()):
        pattern = r"\s+".join(".*".join(map(re.escape, word.split("..."))) for word in line.split())
        match = re.compile(pattern).search(output, position)
        assert match, f"not in the output (after position {position}): {line!r}\n{output[-3000:]}"
        position = match.end()


def test_the_sources_page_adds_a_source_that_builds_to_gold_and_is_reconciled(tmp_path):
    """docs/sources.md "Adding a source", run as written (each bash block with `set -eo
    pipefail`, its shown output checked) in a copy of the project with an empty data dir:
    `--source meters` needs no other source. The figures the page shows were counted by hand
    from its two CSV files."""
    project = tmp_path / "project"
    for part in ("ettl", "ettl_assets", "dbt_project"):
        shutil.copytree(PROJECT_ROOT / part, project / part,
                        ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))  # fmt: skip
    (project / "ettl.yaml").write_text("first_day: 2013-01-01\ntimezone: UTC\n")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)
    env = {**_environment(project, home), "ETTL_DATA_DIR": str(project / "data")}
    env["PATH"] = f"{sys.executable.rsplit('/', 1)[0]}:{env['PATH']}"
    key = project / "data" / "secrets" / "pii_hmac.key"
    _run([sys.executable, "-m", "ettl_assets.pii_key"], project, env, "walk-through-key")
    env["DBT_ENV_SECRET_PII_HMAC_KEY"] = key.read_text().strip()

    blocks = walk_through_blocks(SOURCES_PAGE, "## Adding a source")
    assert len(blocks) == 6
    for number, (script, shown) in enumerate(blocks, 1):
        output = _run(["bash", "-c", f"set -eo pipefail\n{script}"], project, env,
                      f"walk-through-{number}")  # fmt: skip
        if shown is not None:
            assert_shown_output(output, shown)
