"""The ledger's ERROR asset checks: one per daily silver model, one per gold fact.

Silver: each daily silver model declares its row rules in its YAML and, in the dbt step, writes
what each rule dropped per delivery day into a directory this step makes for it (passed in an
environment variable). Its dbt test, `rows_reconciled`, checks bronze's rows = those counts +
the rows the model holds. dbt runs it between the silver model and the gold built on it, so a
failure skips that gold in the same `dbt build`; dagster-dbt reports it as an ERROR, blocking
check, to which the dbt step adds the ledger rows (the same sum, computed here) as metadata.

Gold: a multi-asset check after the dbt step compares each fact's per-day sums with its
silver model's. Both append their rows to audit.reconciliation.
"""

import json
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from ettl_assets.execution import BRONZE_OP_TAGS
from ettl_assets.reconciliation import store
from ettl_assets.reconciliation.declarations import (
    declared_row_rules,
    undeclared_daily_silver_models,
)
from ettl_assets.reconciliation.ledger import Entry
from ettl_assets.reconciliation.report import failures, hops, report_lines
from ettl_assets.reconciliation.rules import GOLD_FACTS
from ettl_assets.reconciliation.window import (
    SilverPlan,
    gold_ledger,
    plan_silver,
    silver_ledger,
    tables_by_name,
)
from ettl_assets.transform.project import dbt_project
from ettl_assets.transform.row_counts import model_tables

RECONCILED_TEST = "rows_reconciled"  # <source>_rows_reconciled: dbt_project/tests/generic/
# The folder where each daily silver model writes its rules' counts (<folder>/<model>/), read by
# that test and by the ledger; not a dbt var, which would make dbt re-parse the project every
# run (transform/dbt_vars.py). Macros read the same name (macros/row_rules.sql).
ROW_RULE_COUNTS_ENV = "ETTL_ROW_RULE_COUNTS_DIR"
GOLD_CHECK = "rows_reconciled"
COUNTS_PARENT = "row_rule_counts"  # next to audit.reconciliation's folder: steps' temp folders


def check_metadata(entries: list[Entry]) -> dict[str, Any]:
    found = hops(entries)
    return {
        "unexplained": dg.MetadataValue.json(failures(found)),
        "ledger": dg.MetadataValue.md("```\n" + "\n".join(report_lines(found)) + "\n```"),
        "query": dg.MetadataValue.text(
            "select * from audit.reconciliation order by day, source, tier"
        ),
    }


def ledger_checks_selected(check_keys: Iterable[dg.AssetCheckKey]) -> bool:
    """Whether a dbt step runs any silver `rows_reconciled` test (the models count their rules
    only then)."""
    return any(key.name.endswith(RECONCILED_TEST) for key in check_keys)


class SilverReconciliation:
    """The silver ledger of one dbt step: the declared models and bronze's reported counts
    before dbt, checked against the models' rule counts after each one's test."""

    def __init__(self, context: dg.AssetExecutionContext, window: Mapping[str, str]) -> None:
        began = time.monotonic()
        self.start = date.fromisoformat(window["start_date"])
        self.end = date.fromisoformat(window["end_date"])
        manifest = json.loads(dbt_project.manifest_path.read_text())
        declared = declared_row_rules(manifest)
        if undeclared := undeclared_daily_silver_models(manifest):
            context.log.warning(
                "reconciliation: not in the ledger, no row_rules declared in their YAML "
                f"(docs/reconciliation.md): {', '.join(undeclared)}"
            )
        self.plans: dict[str, SilverPlan] = {
            plan.rules.model: plan
            for plan in plan_silver(context.instance, declared, self.start, self.end)
        }
        self.counted = ledger_checks_selected(context.selected_asset_check_keys)
        self.entries: list[Entry] = []
        # audit.reconciliation is declared over this folder: Spark warns, with a stack trace,
        # about a table location that does not exist yet.
        store.ledger_dir().mkdir(parents=True, exist_ok=True)
        # This step's own folder for the models' counts: a run never reads another's.
        counts_parent = store.ledger_dir().parent / COUNTS_PARENT
        counts_parent.mkdir(exist_ok=True)
        self.counts_dir = Path(tempfile.mkdtemp(prefix=f"{context.run.run_id}-", dir=counts_parent))
        self.seconds = time.monotonic() - began  # what the ledger adds to the step, in Python
        context.log.info(f"reconciliation: silver planned in {self.seconds:.2f} s")

    @property
    def dbt_environment(self) -> dict[str, str]:
        # No count statement for a run without the ledger's checks (the bench's run without
        # them measures what they cost: bench/without_checks.py).
        return {ROW_RULE_COUNTS_ENV: str(self.counts_dir)} if self.counted else {}

    def checked(self, context: dg.AssetExecutionContext, events: Iterator[Any]) -> Iterator[Any]:
        """The dbt step's events, each `rows_reconciled` result with its model's ledger; the
        ledger is stored when dbt is done, also when it failed (that is when it matters)."""
        tables = model_tables(json.loads(dbt_project.manifest_path.read_text()))
        try:
            for event in events:
                if (
                    isinstance(event, dg.AssetCheckResult)
                    and (event.check_name or "").endswith(RECONCILED_TEST)
                    and event.asset_key in tables
                    and (plan := self.plans.get(tables[event.asset_key].name))
                ):
                    began = time.monotonic()
                    entries = silver_ledger(
                        plan,
                        tables[event.asset_key],
                        self.counts_dir / plan.rules.model,
                        self.start,
                        self.end,
                    )
                    self.entries += entries
                    self.seconds += time.monotonic() - began
                    event = event.with_metadata({**event.metadata, **check_metadata(entries)})
                yield event
        finally:
            try:  # the ledger must never hide dbt's own error
                began = time.monotonic()
                store.append(self.entries, context.run.run_id, self.start, self.end, "silver")
                self.seconds += time.monotonic() - began
                context.log.info(
                    f"reconciliation: silver ledger stored, {self.seconds:.2f} s in all"
                )
            except Exception as exc:
                context.log.warning(f"reconciliation ledger not stored: {exc!r}")
            shutil.rmtree(self.counts_dir, ignore_errors=True)


def run_window(run: dg.DagsterRun) -> tuple[date, date] | None:
    """[start, end) of the run's partitions (a range run or a single partition)."""
    tags = run.tags
    first = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    last = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    if not first or not last:
        return None
    return date.fromisoformat(first), date.fromisoformat(last) + timedelta(days=1)


def gold_reconciliation_check() -> dg.AssetChecksDefinition:
    """The gold facts' ledger check (one result per fact the run selected)."""
    tables = model_tables(json.loads(dbt_project.manifest_path.read_text()))
    keys = {table.name: key for key, table in tables.items() if table.name in GOLD_FACTS}
    specs = [
        dg.AssetCheckSpec(
            GOLD_CHECK,
            asset=keys[fact],
            # Not blocking: only the report reads gold, and waiting for this step would add a
            # step's start (~3 s) to every run's critical path (docs/reconciliation.md "Cost").
            # A difference still fails the check at ERROR, in the UI and `ettl reconcile`.
            blocking=False,
            description="Every day's sums carried over from silver (flights scheduled; "
            "bookings and revenue), differences explained by a named rule "
            "(docs/reconciliation.md).",
        )
        for fact in GOLD_FACTS
    ]

    @dg.multi_asset_check(
        specs=specs,
        can_subset=True,
        name="gold_reconciliation",
        # A small pod on Kubernetes (1 GiB): pyarrow a month at a time, 0.83 GiB for a year of
        # 30x flights (docs/reconciliation.md).
        op_tags=BRONZE_OP_TAGS,
    )
    def _gold_reconciliation(context: dg.AssetCheckExecutionContext) -> Iterator[Any]:
        began = time.monotonic()
        window = run_window(context.run)
        by_name = tables_by_name(tables)
        selected = {k.asset_key: k for k in context.selected_asset_check_keys}
        facts = {tables[key].name for key in selected}
        entries = gold_ledger(by_name, *window, facts) if window else []
        if window:
            store.append(entries, context.run.run_id, *window, "gold")
        context.log.info(f"reconciliation: gold ledger in {time.monotonic() - began:.2f} s")
        for key in selected:
            fact_entries = [e for e in entries if e.asset == tables[key].name]
            metadata = check_metadata(fact_entries) if window else {}
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=GOLD_CHECK,
                passed=window is None or not failures(hops(fact_entries)),
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=metadata,
                description=None if window else "not a partitioned run: no day to reconcile",
            )

    return _gold_reconciliation
