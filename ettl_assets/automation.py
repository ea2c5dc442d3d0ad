"""When things run by themselves: a daily schedule and a landing-file sensor.

Both are off by default (turn them on in the UI under Automation): the sample data is history,
and a running sensor would otherwise start ingesting as soon as `make dev` starts.
"""

import json

import dagster as dg

from ettl_assets.bronze.assets import bronze_key
from ettl_assets.bronze.landing_zone import LandingZone
from ettl_assets.bronze.registry import SourceSpec
from ettl_assets.partitions import daily_partitions

all_tiers_daily_job = dg.define_asset_job(
    "all_tiers_daily",
    # Partitioned daily like every daily asset (Dagster infers it from the selection).
    selection=dg.AssetSelection.all(),
    description="Every tier for one day; the reference snapshots are rebuilt with it.",
)

# Each day at 06:00 in the configured timezone, materialize yesterday (the newest partition)
# of every tier.
daily_schedule = dg.build_schedule_from_partitioned_job(
    all_tiers_daily_job, hour_of_day=6, default_status=dg.DefaultScheduleStatus.STOPPED
)


def landed_files(spec: SourceSpec, zone: LandingZone) -> dict[str, int | str]:
    """day -> version of each file the daily source has delivered into the landing root (its
    modification time, or a fingerprint where the filesystem keeps none: landing_zone.py)."""
    pattern = spec.landing_file("*")
    prefix, suffix = pattern.split("*")
    found = {}
    # Only days of the partitions (first day through yesterday): a file dated today is not a
    # complete day yet, and is requested on the first tick after midnight.
    valid_days = set(daily_partitions.get_partition_keys())
    for relative in zone.glob(pattern):
        day = relative[len(prefix) : len(relative) - len(suffix)]
        if day in valid_days:
            found[day] = zone.version(relative)
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
        zone = LandingZone.configured()
        now = {spec.name: landed_files(spec, zone) for spec in daily}
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
