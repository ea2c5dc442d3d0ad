"""The gold report and the gold preview, on small gold tables written the way Spark lays them
out (Parquet, daily marts in flight_date=... folders)."""

import base64
import logging
import re
from html.parser import HTMLParser

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ettl_assets.lineage_events.emitter import events_file
from ettl_assets.lineage_events.finished_runs import emit_run_lineage
from ettl_assets.reports.gold_report import URL, gold_report, report_path
from ettl_assets.transform.preview import table_preview
from ettl_assets.transform.row_counts import ModelTable, rows_in_window
from tests.openlineage_spec import read_events, validation_errors

DAYS = ["2013-01-01", "2013-01-02", "2013-01-03"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_daily(root, name: str, frame: pd.DataFrame) -> None:
    for day, rows in frame.groupby("flight_date"):
        folder = root / "warehouse" / "gold.db" / name / f"flight_date={day}"
        folder.mkdir(parents=True)
        table = pa.Table.from_pandas(rows.drop(columns="flight_date"), preserve_index=False)
        pq.write_table(table, folder / "part-00000.parquet")


@pytest.fixture
def gold(tmp_path, monkeypatch):
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path))
    performance = pd.DataFrame(
        [(day, code, name, 100 + i, i, 5.0 + i, 3.0, 0.8 - i / 100)
         for i, day in enumerate(DAYS)
         for code, name in [("UA", "United Air Lines Inc."), ("B6", "JetBlue Airways")]],
        columns=["flight_date", "carrier_code", "carrier_name", "flights_scheduled",
                 "flights_cancelled", "avg_dep_delay_minutes", "avg_arr_delay_minutes",
                 "on_time_arrival_rate"],
    )  # fmt: skip
    routes = pd.DataFrame(
        [(day, "EWR", dest, name, 10 * n, 1, 4.0, 2.0, 0.9, 700)
         for day in DAYS
         for n, (dest, name) in enumerate([("ORD", "Chicago Ohare Intl"), ("SJU", None)], 1)],
        columns=["flight_date", "origin_airport_code", "dest_airport_code", "dest_airport_name",
                 "flights_scheduled", "flights_cancelled", "avg_dep_delay_minutes",
                 "avg_arr_delay_minutes", "on_time_arrival_rate", "distance_miles"],
    )  # fmt: skip
    weather = pd.DataFrame(
        [(day, "JFK", hour, 20, 0, float(hour), 0.0, visibility, 10.0)
         for day in DAYS for hour, visibility in [(6, 0.5), (7, 10.0), (8, None)]],
        columns=["flight_date", "origin_airport_code", "scheduled_departure_hour",
                 "flights_scheduled", "flights_cancelled", "avg_dep_delay_minutes",
                 "precipitation_inches", "visibility_miles", "wind_speed_mph"],
    )  # fmt: skip
    write_daily(tmp_path, "fct_daily_carrier_performance", performance)
    write_daily(tmp_path, "fct_daily_route_delays", routes)
    write_daily(tmp_path, "fct_hourly_weather_delays", weather)
    return tmp_path


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_the_report_is_one_self_contained_file_with_three_plots_from_gold(gold):
    with dg.instance_for_test() as instance:
        result = dg.materialize([gold_report], instance=instance)
        assert result.success
        graph = dg.Definitions(assets=[gold_report]).resolve_asset_graph()
        sent = emit_run_lineage(instance, result.run_id, graph, logging.getLogger("test"))
    path = report_path()
    assert path == gold / "reports" / "gold_report.html"
    page = path.read_text()
    images = Images()
    images.feed(page)
    assert len(images.sources) == 3
    for source in images.sources:  # embedded, not files next to the page
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(PNG_MAGIC)
    for table in ["fct_daily_carrier_performance", "fct_hourly_weather_delays",
                  "fct_daily_route_delays"]:  # fmt: skip
        assert f"computed from gold.{table}" in page
    # Facts computed independently from the rows written above.
    assert "2013-01-01..2013-01-03 (3 days)" in page
    assert re.search(r"flights scheduled</td><td><b>606<", page)  # (100+101+102) x 2 carriers
    assert re.search(r"routes</td><td><b>2<", page)
    (event,) = result.asset_materializations_for_node("reports__gold_report")
    assert event.metadata[URL].value == path.as_uri()
    assert event.metadata["path"].value == str(path)

    # Like every materialization: OpenLineage START and COMPLETE, gold tables in, the file out.
    events = read_events(events_file())
    assert sent == 2 and [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert [validation_errors(e) for e in events] == [[], []]
    assert {i["name"] for i in events[1]["inputs"]} == {
        "gold.fct_daily_carrier_performance", "gold.fct_daily_route_delays",
        "gold.fct_hourly_weather_delays",
    }  # fmt: skip
    assert events[1]["outputs"][0] == {**events[1]["outputs"][0], "namespace": "file",
                                       "name": str(path)}  # fmt: skip


def test_without_gold_the_report_fails_naming_the_missing_table(tmp_path, monkeypatch):
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="gold.fct_daily_carrier_performance has no"):
        dg.materialize([gold_report])


def test_the_preview_is_a_markdown_table_of_the_windows_first_rows(gold):
    table = ModelTable("model.ettl.fct_daily_route_delays", "gold", "fct_daily_route_delays",
                       "flight_date")  # fmt: skip
    preview = table_preview(table, "2013-01-02", "2013-01-03", rows=10)
    assert isinstance(preview, dg.MarkdownMetadataValue)
    lines = preview.value.splitlines()
    assert lines[0].startswith("| origin_airport_code | dest_airport_code |")
    assert lines[0].endswith("| flight_date |")
    assert len(lines) == 2 + 2  # header, rule, the window's two routes
    assert all("2013-01-02" in line for line in lines[2:])
    assert "| EWR | SJU |  |" in preview.value  # a missing name is an empty cell
    assert len(table_preview(table, rows=3).value.splitlines()) == 2 + 3


def test_a_partitioned_table_without_files_counts_no_rows_and_previews_none(tmp_path, monkeypatch):
    # A source with no delivery yet leaves its silver table an empty folder: the dbt step must
    # still record its materializations, not fail reading the metadata back.
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path))
    table = ModelTable("model.ettl.stg_passengers__bookings", "silver", "stg_passengers__bookings",
                       "flight_date")  # fmt: skip
    table.path.mkdir(parents=True)
    assert rows_in_window(table, "2013-06-03", "2013-06-04") == 0
    assert table_preview(table, "2013-06-03", "2013-06-04").value == "(no rows)"
