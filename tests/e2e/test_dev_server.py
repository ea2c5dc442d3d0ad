"""`make dev` serves the asset graph: start the real `dagster dev` and ask its GraphQL API."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from ettl_assets.definitions import defs
from tests.e2e.helpers import ARTIFACTS, BIN, PROJECT_ROOT

pytestmark = pytest.mark.e2e

QUERY = "{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def query_asset_nodes(port: int, deadline: float) -> list[dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                nodes = json.load(response)["data"]["assetNodes"]
            if nodes:  # empty while the code location is still loading
                return nodes
        except (urllib.error.URLError, ConnectionError, KeyError, TypeError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"dagster dev did not serve the asset graph on port {port}")
        time.sleep(2)


def test_dagster_dev_serves_the_connected_asset_graph():
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "dagster-dev.log").open("w") as log:
        command = [str(BIN / "dagster"), "dev", "-w", "workspace.yaml"]
        server = subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            nodes = query_asset_nodes(port, deadline=time.monotonic() + 180)
        finally:
            # The server and its code-server children may ignore SIGTERM: escalate to SIGKILL.
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    served = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    expected = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert set(served) == expected
    assert {n["groupName"] for n in nodes} == {"bronze", "silver", "gold"}
    stg_flights_deps = served["silver/stg_flights__flights"]["dependencyKeys"]
    assert [d["path"] for d in stg_flights_deps] == [["bronze", "flights"]]
