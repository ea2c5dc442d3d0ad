"""Where OpenLineage events go: a newline-delimited JSON file under data/ by default, an
OpenLineage HTTP endpoint such as Marquez when OPENLINEAGE_URL is set.

Lineage is a by-product of a run and must never fail one (it is sent after the run anyway). An
endpoint that cannot be reached gets one warning per run, in the sender's log (the sensor's, or
`ettl`'s output), and that run's events go to the file instead, so none is lost.
"""

import logging
import os
from pathlib import Path
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport

from ettl_assets import settings

# The variables openlineage-python's own clients read.
URL_ENV = "OPENLINEAGE_URL"
ENDPOINT_ENV = "OPENLINEAGE_ENDPOINT"
API_KEY_ENV = "OPENLINEAGE_API_KEY"
# One quick retry: a run emits dozens of events and must not wait minutes on a dead endpoint.
HTTP_RETRY = {"total": 1, "backoff_factor": 0.2, "status_forcelist": [500, 502, 503, 504]}
HTTP_TIMEOUT_SECONDS = 5.0


def events_file() -> Path:
    return settings.data_dir() / "openlineage" / "events.ndjson"


def _http_client(url: str) -> OpenLineageClient:
    config: dict[str, Any] = {
        "url": url,
        "endpoint": os.environ.get(ENDPOINT_ENV, "api/v1/lineage"),
        "timeout": HTTP_TIMEOUT_SECONDS,
        "retry": HTTP_RETRY,
    }
    if api_key := os.environ.get(API_KEY_ENV):
        config["auth"] = {"type": "api_key", "apiKey": api_key}
    return OpenLineageClient(transport=HttpTransport(HttpConfig.from_dict(config)))


def _file_client(path: Path) -> OpenLineageClient:
    path.parent.mkdir(parents=True, exist_ok=True)
    # append: one file for all runs; each event is one line written by a single write call.
    config = FileConfig(log_file_path=str(path), append=True)
    return OpenLineageClient(transport=FileTransport(config))


class LineageEmitter:
    """Sends the events of one run. Never raises."""

    def __init__(self, log: logging.Logger | Any) -> None:
        self._log = log
        self._file_path = events_file()
        self._url = os.environ.get(URL_ENV) or None
        self._file: OpenLineageClient | None = None
        self._http: OpenLineageClient | None = None

    def emit(self, event: RunEvent) -> None:
        try:
            if self._url is not None:
                try:
                    self._http = self._http or _http_client(self._url)
                    self._http.emit(event)
                    return
                except Exception as exc:
                    self._log.warning(
                        f"OpenLineage endpoint {self._url} not reachable ({exc}); this run's "
                        f"lineage events are kept in {self._file_path} instead"
                    )
                    self._url = None  # one warning and one timeout per run, not per event
            self._file = self._file or _file_client(self._file_path)
            self._file.emit(event)
        except Exception as exc:
            self._log.warning(f"OpenLineage event of {event.job.name} not recorded: {exc!r}")
