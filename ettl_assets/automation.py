"""When things run by themselves: a daily schedule and a landing-file sensor.

Both are off by default (turn them on in the UI under Automation): the sample data is history,
and a running sensor would otherwise start ingesting as soon as `make dev` starts.
"""

import json

import dagster as dg

from ettl_assets import settings
from ettl_assets.partitions import daily_partitions
from ettl_assets.sources.bronze import bronze_key
from ettl_assets.sources.registry import SourceSpec

all_tiers_daily_job = dg.define_asset_job(
    "all_tiers_daily",
    # Partitioned daily like every daily asset (Dagster infers it from the selection).
    selection=dg.AssetSelection.all(),
    description="Every tier for one day; the reference snapshots are rebuilt with it.",
)

# Each day at 06:00 (UTC), materialize the latest complete day of every tier.
daily_schedule = dg.build_schedule_from_partitioned_job(
    all_tiers_daily_job, hour_of_day=6, default_status=dg.DefaultScheduleStatus.STOPPED
)


def landed_files(spec: SourceSpec) -> dict[str, int]:
    """day -> modification time (ns) of each file the daily source has delivered."""
    pattern = spec.landing_path(settings.landing_dir(), "*")
    found = {}
    valid_days = set(daily_partitions.get_partition_keys())
    prefix, suffix = pattern.name.split("*")
    for path in pattern.parent.glob(pattern.name):
        day = path.name[len(prefix) : len(path.name) - len(suffix)]
        if day in valid_days:
            found[day] = path.stat().st_mtime_ns
    return found


def build_landing_sensor(specs: list[SourceSpec]) -> dg.SensorDefinition:
    """A new or re-delivered daily file starts one run: that day's bronze partition and every
    asset downstream of it (silver and gold follow in the same run and dbt invocation)."""
    daily = [spec for spec in specs if spec.is_daily]

    @dg.sensor(
        name="landing_files",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        asset_selection=dg.AssetSelection.all(),
        description="Requests a day's bronze partition (and its downstream) for new landing files.",
    )
    def landing_files(context: dg.SensorEvaluationContext):
        seen = json.loads(context.cursor) if context.cursor else None
        now = {spec.name: landed_files(spec) for spec in daily}
        if seen is None:  # first tick: what is already there is the baseline, not news
            context.update_cursor(json.dumps(now))
            return dg.SkipReason("recorded the files already landed; watching for new ones")
        graph = context.repository_def.asset_graph
        requests = []
        for spec in daily:
            downstream = dg.AssetSelection.assets(bronze_key(spec)).downstream().resolve(graph)
            for day, mtime in sorted(now[spec.name].items()):
                if seen.get(spec.name, {}).get(day) == mtime:
                    continue
                requests.append(
                    dg.RunRequest(
                        run_key=f"{spec.name}/{day}/{mtime}",
                        partition_key=day,
                        asset_selection=sorted(downstream, key=lambda k: k.to_user_string()),
                        tags={"ettl/trigger": f"landing:{spec.name}"},
                    )
                )
        context.update_cursor(json.dumps(now))
        return requests

    return landing_files
