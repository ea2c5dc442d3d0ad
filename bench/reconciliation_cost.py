"""What the reconciliation ledger adds to a run, from the run's records (docs/reconciliation.md).

    DAGSTER_HOME=... ETTL_DATA_DIR=... python bench/reconciliation_cost.py [RUN_ID]

For the run (default: the latest that built the daily dbt models) it prints:
- the ledger's Python seconds in the dbt step (its `reconciliation:` log lines);
- the `<source>_rows_reconciled` dbt tests' share of the dbt step's statement time (the sum of
  every node's execution time in run_results.json; dbt runs them on 4 threads beside the others);
- the gold check step's wall time (step worker start to success), which runs beside the report.
A with/without comparison of whole runs was tried too; on a shared 2-core VM its noise (tens of
seconds) hid the ledger entirely.
"""

import json
import re
import sys
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType

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


def main(run_id: str | None) -> None:
    with dg.DagsterInstance.get() as instance:
        if run_id is None:
            runs = [r for r in instance.get_runs(limit=20)
                    if "daily_dbt_models" in " ".join(instance.get_execution_plan_snapshot(
                        r.execution_plan_snapshot_id).step_keys_to_execute or [])]  # fmt: skip
            run_id = runs[0].run_id
        messages = [r.user_message for r in instance.all_logs(run_id)]
        python = seconds_logged(messages, SILVER_LINE)
        gold_python = seconds_logged(messages, GOLD_LINE)
        dbt_step = step_seconds(instance, run_id, "daily_dbt_models")
        gold_step = step_seconds(instance, run_id, "gold_reconciliation")
    (results,) = TARGET.glob(f"daily_dbt_models-{run_id[:7]}-*/run_results.json")
    nodes = json.loads(results.read_text())["results"]
    total = sum(n["execution_time"] for n in nodes)
    tests = sum(n["execution_time"] for n in nodes if n["unique_id"].split(".")[2].endswith(TEST))
    print(f"run {run_id}")
    print(f"  dbt step (wall)                          {dbt_step:8.1f} s")
    print(f"  ledger in Python, dbt step               {sum(python):8.2f} s")
    share = f"{tests:8.1f} s of {total:.1f} s ({tests / total:.1%})"
    print(f"  rows_reconciled tests / statement time   {share}")
    print(f"  gold check step (wall, beside the report){gold_step or 0:8.1f} s "
          f"(of which ledger {sum(gold_python):.2f} s)")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
