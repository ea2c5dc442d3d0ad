"""OpenLineage events of bronze and dbt materializations, and where they are sent.

Every event read back here is validated against the OpenLineage JSON schemas
(tests/openlineage_spec.py); the e2e pipeline test checks the events of a whole run.
"""

import http.server
import json
import socket
import threading

import dagster as dg
import pytest
from openlineage.client.serde import Serde

from ettl_assets.bronze.assets import bronze_asset_for
from ettl_assets.bronze.table_columns import bronze_columns
from ettl_assets.lineage_events.dbt_runs import model_events, relations_by_key
from ettl_assets.lineage_events.emitter import events_file
from ettl_assets.transform.assets import daily_dbt_models
from ettl_assets.transform.column_metadata import RelationColumns
from ettl_assets.transform.project import dbt_project
from tests.openlineage_spec import read_events, validation_errors
from tests.unit.deliveries import DAY, FLIGHTS, GOOD, csv_file, deliver, warehouse_resources


def materialize_flights() -> tuple[dg.ExecuteInProcessResult, list[str]]:
    """The real bronze asset in process; its result and the messages of its run's log."""
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [bronze_asset_for(FLIGHTS)], partition_key=DAY, instance=instance,
            raise_on_error=False, resources=warehouse_resources(),
        )  # fmt: skip
        messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    return result, messages


def valid_events() -> list[dict]:
    events = read_events(events_file())
    for event in events:
        assert validation_errors(event) == [], event
    return events


def test_a_bronze_materialization_emits_start_and_complete_from_landing_file_to_table(data_dir):
    landing_file = deliver(FLIGHTS, csv_file(*GOOD))
    result, _ = materialize_flights()
    assert result.success

    start, complete = valid_events()
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert complete["job"]["name"] == "bronze/flights"
    assert complete["run"]["facets"]["parent"]["run"]["runId"] == result.run_id
    assert complete["run"]["facets"]["nominalTime"]["nominalStartTime"].startswith(DAY)
    assert [(i["namespace"], i["name"]) for i in complete["inputs"]] == [
        ("file", str(landing_file.resolve()))
    ]
    (output,) = complete["outputs"]
    assert output["name"] == "bronze.flights"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == len(GOOD)
    fields = {f["name"]: f["type"] for f in output["facets"]["schema"]["fields"]}
    assert fields == bronze_columns(FLIGHTS)
    owners = [o["name"] for o in complete["job"]["facets"]["ownership"]["owners"]]
    assert owners == list(FLIGHTS.owners)
    assert complete["job"]["facets"]["documentation"]["description"] == FLIGHTS.description


def test_a_failed_bronze_materialization_emits_fail_with_the_error(data_dir):
    deliver(FLIGHTS, b"\x1f\x8b\x08\x00 definitely not gzip")  # starts like gzip, is not
    result, _ = materialize_flights()
    assert not result.success

    start, fail = valid_events()
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    error = fail["run"]["facets"]["errorMessage"]
    assert "could not be read" in error["message"]
    assert error["programmingLanguage"] == "python"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_endpoint_warns_once_keeps_events_in_the_file_and_the_run_succeeds(
    data_dir, monkeypatch
):
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    monkeypatch.setenv("OPENLINEAGE_URL", url)
    deliver(FLIGHTS, csv_file(*GOOD))
    result, messages = materialize_flights()

    assert result.success
    warnings = [m for m in messages if "not reachable" in m]
    assert len(warnings) == 1 and url in warnings[0]
    assert [e["eventType"] for e in valid_events()] == ["START", "COMPLETE"]


@pytest.fixture
def lineage_server():
    """A local HTTP endpoint recording what is POSTed to it, like Marquez's /api/v1/lineage."""
    received: list[tuple[str, dict]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def test_openlineage_url_sends_the_events_over_http_instead_of_the_file(
    data_dir, monkeypatch, lineage_server
):
    url, received = lineage_server
    monkeypatch.setenv("OPENLINEAGE_URL", url)
    deliver(FLIGHTS, csv_file(*GOOD))
    result, _ = materialize_flights()

    assert result.success
    assert [(path, event["eventType"]) for path, event in received] == [
        ("/api/v1/lineage", "START"),
        ("/api/v1/lineage", "COMPLETE"),
    ]
    assert all(validation_errors(event) == [] for _, event in received)
    assert not events_file().exists()


def test_a_failed_dbt_model_gets_start_and_fail_with_dbts_message_and_its_sql():
    manifest = json.loads(dbt_project.manifest_path.read_text())
    node = manifest["nodes"]["model.ettl.stg_flights__flights"]
    asset_spec = daily_dbt_models.specs_by_key[dg.AssetKey(["silver", "stg_flights__flights"])]
    # A result as dbt writes it to run_results.json for a model whose SQL failed.
    result = {
        "unique_id": node["unique_id"],
        "status": "error",
        "message": "[UNRESOLVED_COLUMN] A column `dep_delay` cannot be resolved.",
        "timing": [
            {"name": "compile", "started_at": "2013-01-02T06:00:00Z",
             "completed_at": "2013-01-02T06:00:01Z"},
            {"name": "execute", "started_at": "2013-01-02T06:00:01Z",
             "completed_at": "2013-01-02T06:00:09Z"},
        ],
        "compiled_code": "select dep_delay from bronze.flights",
    }  # fmt: skip
    relations = RelationColumns(manifest)
    events = model_events(asset_spec, {}, relations, node, result, {}, relations_by_key(manifest))
    start, fail = (json.loads(Serde.to_json(event)) for event in events)

    assert validation_errors(start) == [] and validation_errors(fail) == []
    assert (start["eventTime"], fail["eventTime"]) == (
        "2013-01-02T06:00:01Z",
        "2013-01-02T06:00:09Z",
    )
    assert fail["eventType"] == "FAIL" and start["run"]["runId"] == fail["run"]["runId"]
    assert fail["run"]["facets"]["errorMessage"]["message"] == result["message"]
    assert fail["run"]["facets"]["errorMessage"]["programmingLanguage"] == "SQL"
    assert fail["job"]["facets"]["sql"]["query"] == result["compiled_code"]
    assert [i["name"] for i in fail["inputs"]] == ["bronze.flights"]
    assert fail["job"]["facets"]["documentation"]["description"] == node["description"]
