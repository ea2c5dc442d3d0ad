from datetime import UTC, datetime, timedelta

import pytest

from ettl.cli import main


def test_a_malformed_date_is_refused_with_the_reason(capsys):
    with pytest.raises(SystemExit):
        main(["land", "--end", "2013-02-30"])
    assert "is not a date" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["land", "run", "backfill"])
def test_a_day_before_the_first_day_is_refused_in_one_line_naming_the_span(command):
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    argv = [command, "--start", "2012-12-31", "--end", "2013-01-02"]
    argv += ["--from-tier", "gold"] if command == "backfill" else []
    with pytest.raises(SystemExit) as refused:
        main(argv)
    message = str(refused.value.code)
    assert message == (
        f"ettl: 2012-12-31 is outside the configured data span 2013-01-01..{yesterday} "
        "(first_day in ettl.yaml, or ETTL_FIRST_DAY, through yesterday in UTC)"
    )


def test_today_is_not_a_complete_day_yet_and_is_refused():
    today = datetime.now(UTC).date()
    with pytest.raises(SystemExit, match=f"{today} is outside the configured data span"):
        main(["run", "--skip-landing", "--start", "2013-01-05", "--end", str(today)])


def test_a_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(SystemExit, match="is after --end"):
        main(["run", "--start", "2013-01-05", "--end", "2013-01-04"])


def test_an_unknown_source_is_refused_listing_the_sources():
    with pytest.raises(SystemExit) as refused:
        main(["backfill", "--from-tier", "silver", "--start", "2013-01-01", "--end",
              "2013-01-01", "--source", "flights", "--source", "trains", "--dry-run"])  # fmt: skip
    assert str(refused.value.code) == (
        "ettl: no source 'trains'; sources: airlines, airports, flights, passengers, planes, "
        "weather"
    )


def test_a_backfill_limited_to_a_source_touches_its_downstream_only(capsys):
    assert main(["backfill", "--from-tier", "silver", "--start", "2013-01-01", "--end",
                 "2013-01-02", "--source", "weather", "--dry-run"]) == 0  # fmt: skip
    planned = {line.split()[1] for line in capsys.readouterr().out.splitlines()
               if line.startswith("  silver") or line.startswith("  gold")}  # fmt: skip
    # weather's silver model and the gold built from it; no other source's silver
    assert planned == {"silver/stg_weather__observations", "gold/fct_hourly_weather_delays"}


def test_an_unknown_source_stops_a_run_before_anything_is_landed(data_dir):
    with pytest.raises(SystemExit, match="^ettl: no source 'nope'; sources: airlines, "):
        main(["run", "--start", "2013-01-01", "--end", "2013-01-01", "--source", "nope"])
    assert not (data_dir / "landing").exists()


def test_land_refuses_days_the_sample_does_not_cover(data_dir):
    last_week = (datetime.now(UTC) - timedelta(days=7)).date()
    with pytest.raises(SystemExit) as refused:
        main(["land", "--start", str(last_week), "--end", str(last_week)])
    assert str(refused.value.code) == (
        f"ettl: the sample data covers 2013-01-01..2013-12-31 only, not {last_week}..{last_week}"
    )
    assert not (data_dir / "landing").exists()


def test_run_outside_the_sample_keeps_the_users_own_deliveries(data_dir, monkeypatch, capsys):
    """`ettl run` lands the sample only for days it covers: a user's own file of last week is
    read as it is, never replaced by an (empty) sample file."""
    from ettl import launch

    last_week = (datetime.now(UTC) - timedelta(days=7)).date()
    own = data_dir / "landing" / "flights" / f"{last_week}.csv"
    own.parent.mkdir(parents=True)
    own.write_text("the user's own delivery\n")
    launched = []

    def no_run(keys, start, end, tags):  # the runs themselves are the e2e tests' business
        launched.append((start, end))
        return launch.IsolatedOutcome(runs=[], failed_sources=[], blocked=[])

    monkeypatch.setattr(launch, "launch_isolating_sources", no_run)
    main(["run", "--start", str(last_week), "--end", str(last_week), "--source", "flights"])
    assert launched == [(str(last_week), str(last_week))]
    assert own.read_text() == "the user's own delivery\n"
    assert sorted(p.name for p in own.parent.iterdir()) == [own.name]
    assert (
        "not landing the sample data (it covers 2013-01-01..2013-12-31)" in capsys.readouterr().out
    )
