"""OpenLineage events of finished runs: what is sent, when, by whom, and where to.

The runs here are real runs of the real bronze asset, in process; their events are sent the way
a deployment sends them (the run status sensors, or `ettl`'s launcher) and every event read back
is validated against the OpenLineage JSON schemas (tests/openlineage_spec.py). The e2e pipeline
test checks the events of a whole `ettl run`, dbt models included.
"""

import http.server
import json
import logging
import socket
import threading

import dagster as dg
import pytest
from openlineage.client.serde import Serde

from ettl_assets.bronze.assets import bronze_asset_for
from ettl_assets.bronze.table_columns import bronze_columns
from ettl_assets.definitions import defs as project_defs
from ettl_assets.lineage_events.emitter import events_file
from ettl_assets.lineage_events.finished_runs import (
    EMITTER_TAG,
    IN_PROCESS,
    SENT,
    emit_run_lineage,
    lineage_sensors,
)
from ettl_assets.lineage_events.run_events import RunLineage, StepRecord
from ettl_assets.transform.project import dbt_project
from tests.openlineage_spec import read_events, validation_errors
from tests.unit.deliveries import DAY, FLIGHTS, GOOD, csv_file, deliver

DEFS = dg.Definitions(assets=[bronze_asset_for(FLIGHTS)], sensors=lineage_sensors())


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_flights(instance: dg.DagsterInstance, tags: dict | None = None):
    return dg.materialize(
        [bronze_asset_for(FLIGHTS)], partition_key=DAY, instance=instance,
        raise_on_error=False, tags=tags,
    )  # fmt: skip


def evaluate_sensor(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> None:
    """What the daemon does when it sees the run end: evaluate the sensor for its status."""
    status = "success" if result.success else "failure"
    event = result.get_run_success_event() if result.success else result.get_run_failure_event()
    name = f"openlineage_on_run_{status}"
    context = dg.build_run_status_sensor_context(
        sensor_name=name, dagster_event=event, dagster_instance=instance,
        dagster_run=result.dagster_run, repository_def=DEFS.get_repository_def(),
    )  # fmt: skip
    DEFS.get_sensor_def(name)(context)


def sent_by_sensor(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    result = run_flights(instance)
    evaluate_sensor(instance, result)
    return result


def valid_events() -> list[dict]:
    events = read_events(events_file())
    for event in events:
        assert validation_errors(event) == [], event
    return events


def test_a_bronze_run_is_sent_by_the_sensor_as_start_and_complete_from_landing_file_to_table(
    data_dir,
):
    landing_file = deliver(FLIGHTS, csv_file(*GOOD))
    with dg.instance_for_test() as instance:
        result = sent_by_sensor(instance)
        assert result.success
        assert instance.get_run_by_id(result.run_id).tags[EMITTER_TAG] == SENT

    start, complete = valid_events()
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert start["eventTime"] <= complete["eventTime"]
    assert complete["job"]["name"] == "bronze/flights"
    assert complete["run"]["facets"]["parent"]["run"]["runId"] == result.run_id
    assert complete["run"]["facets"]["nominalTime"]["nominalStartTime"].startswith(DAY)
    assert complete["run"]["facets"]["nominalTime"]["nominalEndTime"].startswith("2013-01-03")
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
    assert complete["job"]["facets"]["jobType"]["integration"] == "DAGSTER"


def test_a_run_is_sent_once_by_the_emitter_chosen_when_it_was_created(data_dir):
    deliver(FLIGHTS, csv_file(*GOOD))
    log = logging.getLogger("test")
    graph = DEFS.resolve_asset_graph()
    with dg.instance_for_test() as instance:
        untagged = sent_by_sensor(instance)
        evaluate_sensor(instance, untagged)  # e.g. a reset cursor: already sent
        assert emit_run_lineage(instance, untagged.run_id, graph, log, IN_PROCESS) == 0
        assert len(read_events(events_file())) == 2

        launched = run_flights(instance, tags={EMITTER_TAG: IN_PROCESS})  # as `ettl` tags it
        evaluate_sensor(instance, launched)  # the daemon leaves it to `ettl`
        assert len(read_events(events_file())) == 2
        assert emit_run_lineage(instance, launched.run_id, graph, log, IN_PROCESS) == 2
        assert emit_run_lineage(instance, launched.run_id, graph, log, IN_PROCESS) == 0

    parents = [e["run"]["facets"]["parent"]["run"]["runId"] for e in valid_events()]
    assert parents == [untagged.run_id] * 2 + [launched.run_id] * 2


def test_a_failed_bronze_run_is_sent_as_start_and_fail_with_the_error(data_dir):
    deliver(FLIGHTS, b"\x1f\x8b\x08\x00 definitely not gzip")  # starts like gzip, is not
    with dg.instance_for_test() as instance:
        result = sent_by_sensor(instance)
    assert not result.success

    start, fail = valid_events()
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert fail["job"]["name"] == "bronze/flights"
    error = fail["run"]["facets"]["errorMessage"]
    assert "could not be read" in error["message"]
    assert error["programmingLanguage"] == "python"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_endpoint_warns_once_and_keeps_the_events_in_the_file(data_dir, monkeypatch):
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    monkeypatch.setenv("OPENLINEAGE_URL", url)
    deliver(FLIGHTS, csv_file(*GOOD))
    log = logging.getLogger("test.unreachable")
    warnings = Warnings()
    log.addHandler(warnings)
    with dg.instance_for_test() as instance:
        result = run_flights(instance)
        sent = emit_run_lineage(instance, result.run_id, DEFS.resolve_asset_graph(), log)

    assert result.success and sent == 2
    matching = [m for m in warnings.messages if "not reachable" in m]
    assert len(matching) == 1 and url in matching[0]
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
    with dg.instance_for_test() as instance:
        result = sent_by_sensor(instance)

    assert result.success
    assert [(path, event["eventType"]) for path, event in received] == [
        ("/api/v1/lineage", "START"),
        ("/api/v1/lineage", "COMPLETE"),
    ]
    assert all(validation_errors(event) == [] for _, event in received)
    assert not events_file().exists()


def test_a_failed_dbt_model_gets_start_and_fail_with_the_steps_error_and_its_parents(data_dir):
    manifest = json.loads(dbt_project.manifest_path.read_text())
    node = manifest["nodes"]["model.ettl.stg_flights__flights"]
    key = dg.AssetKey(["silver", "stg_flights__flights"])
    message = "[UNRESOLVED_COLUMN] A column `dep_delay` cannot be resolved."
    with dg.instance_for_test() as instance:
        run = instance.create_run_for_job(dg.define_asset_job("j").resolve(
            asset_graph=DEFS.resolve_asset_graph()
        ))  # fmt: skip
        lineage = RunLineage(instance, run, project_defs.resolve_asset_graph())
        step = StepRecord(started_at=1357106401.0)  # 2013-01-02T06:00:01Z
        events = lineage.failed(key, step, message, None, ended=1357106409.0)
    start, fail = (json.loads(Serde.to_json(event)) for event in events)

    assert validation_errors(start) == [] and validation_errors(fail) == []
    assert start["eventTime"].startswith("2013-01-02T06:00:01")
    assert fail["eventTime"].startswith("2013-01-02T06:00:09")
    assert fail["eventType"] == "FAIL" and start["run"]["runId"] == fail["run"]["runId"]
    assert fail["job"]["name"] == "silver/stg_flights__flights"
    assert fail["job"]["facets"]["jobType"]["integration"] == "DBT"
    assert fail["run"]["facets"]["errorMessage"]["message"] == message
    assert fail["run"]["facets"]["errorMessage"]["programmingLanguage"] == "SQL"
    assert fail["run"]["facets"]["parent"]["run"]["runId"] == run.run_id
    # Its parent, the bronze table, with the columns Spark registers for it.
    (parent,) = fail["inputs"]
    assert parent["name"] == "bronze.flights"
    fields = {f["name"]: f["type"] for f in parent["facets"]["schema"]["fields"]}
    assert fields == bronze_columns(FLIGHTS)
    assert [o["name"] for o in fail["outputs"]] == ["silver.stg_flights__flights"]
    # The model's own description, not dagster-dbt's with the raw SQL appended.
    assert fail["job"]["facets"]["documentation"]["description"] == node["description"]
