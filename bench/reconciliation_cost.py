"""What the reconciliation ledger adds to a run, from the run's records (docs/reconciliation.md).

    DAGSTER_HOME=... ETTL_DATA_DIR=... python bench/reconciliation_cost.py [RUN_ID]

For the run (default: the latest that built the daily dbt models) it prints:
- the ledger's Python seconds in the dbt step (its `reconciliation:` log lines);
- the `<source>_rows_reconciled` dbt tests' share of the dbt step's statement time (the sum of
  every node's execution time in run_results.json; dbt runs them on 4 threads beside the others);
- the gold check step's wall time (step worker start to success), which runs beside the report.
`make bench` measures the cost itself by comparing whole runs with and without the ledger's
checks on an idle machine (its `ledger` row); these figures give the upper bound beside it.
"""

import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from without_checks import WITH_CHECKS_JOB, WITHOUT_CHECKS_JOB, WITHOUT_LEDGER_JOB

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "dbt_project" / "target"
# The lines ettl_assets/reconciliation/checks.py logs, and the dbt tests' name.
SILVER_LINE = r"reconciliation: silver ledger stored, ([\d.]+) s"
GOLD_LINE = r"reconciliation: gold ledger in ([\d.]+) s"
TEST = "rows_reconciled"


def seconds_logged(messages: list[str], pattern: str) -> list[float]:
    return [float(found) for line in messages for found in re.findall(pattern, line)]


def step_seconds(instance: dg.DagsterInstance, run_id: str, step: str) -> float | None:
    began = ended = None
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key != step:
            continue
        if event.event_type == DagsterEventType.STEP_WORKER_STARTING and began is None:
            began = record.timestamp
        if event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            ended = record.timestamp
    return None if began is None or ended is None else ended - began


@dataclass(frozen=True)
class LedgerCost:
    dbt_step: float  # wall seconds of the daily dbt step
    python: float  # the ledger's Python seconds in that step (on the critical path)
    tests: float  # the rows_reconciled tests' statement seconds (on dbt's 4 threads)
    statements: float  # every node's statement seconds in that dbt invocation
    gold_step: float  # the gold check step's wall seconds (beside the report)
    gold_python: float

    @property
    def at_most(self) -> float:
        """An upper bound of what the ledger adds to the run: its Python, plus its tests as if
        they ran alone on the critical path (they share dbt's threads with the other nodes)."""
        return self.python + self.tests


def daily_runs(
    instance: dg.DagsterInstance, day: str | None = None, since: datetime | None = None
) -> list[str]:
    """Ids of the runs (newest first) that built the daily dbt models, of `day` only if given,
    created `since` only if given, not those of the bench's jobs without (some) checks."""
    found = []
    for run in instance.get_runs(filters=dg.RunsFilter(created_after=since), limit=200):
        tags = run.tags
        first = tags.get("dagster/asset_partition_range_start", tags.get("dagster/partition"))
        last = tags.get("dagster/asset_partition_range_end", first)
        if day and (first, last) != (day, day):
            continue
        plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        bench_job = run.job_name in (WITHOUT_CHECKS_JOB, WITHOUT_LEDGER_JOB, WITH_CHECKS_JOB)
        if not bench_job and "daily_dbt_models" in (plan.step_keys_to_execute or []):
            found.append(run.run_id)
    return found


def ledger_cost(instance: dg.DagsterInstance, run_id: str) -> LedgerCost:
    messages = [r.user_message for r in instance.all_logs(run_id)]
    (results,) = TARGET.glob(f"daily_dbt_models-{run_id[:7]}-*/run_results.json")
    nodes = json.loads(results.read_text())["results"]
    return LedgerCost(
        dbt_step=step_seconds(instance, run_id, "daily_dbt_models") or 0.0,
        python=sum(seconds_logged(messages, SILVER_LINE)),
        tests=sum(
            n["execution_time"] for n in nodes if n["unique_id"].split(".")[2].endswith(TEST)
        ),  # fmt: skip
        statements=sum(n["execution_time"] for n in nodes),
        gold_step=step_seconds(instance, run_id, "gold_reconciliation") or 0.0,
        gold_python=sum(seconds_logged(messages, GOLD_LINE)),
    )


def main(run_id: str | None) -> None:
    with dg.DagsterInstance.get() as instance:
        run_id = run_id or daily_runs(instance)[0]
        cost = ledger_cost(instance, run_id)
    print(f"run {run_id}")
    print(f"  dbt step (wall)                          {cost.dbt_step:8.1f} s")
    print(f"  ledger in Python, dbt step               {cost.python:8.2f} s")
    share = f"{cost.tests:8.1f} s of {cost.statements:.1f} s ({cost.tests / cost.statements:.1%})"
    print(f"  rows_reconciled tests / statement time   {share}")
    print(f"  gold check step (wall, beside the report){cost.gold_step:8.1f} s "
          f"(of which ledger {cost.gold_python:.2f} s)")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
