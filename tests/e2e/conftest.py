"""One pipeline run on real sample data, shared by every e2e test (they run in file order).

Bronze is landed and ingested for 9 days; `ettl run` then builds the 7 days in the middle.
"""

import pytest
from dagster import DagsterInstance

from tests.e2e.helpers import BIN, materialize, run_command

WINDOW = ("2013-01-02", "2013-01-08")  # what `ettl run` materializes
LANDED = ("2013-01-01", "2013-01-09")  # bronze holds a day more on each side


@pytest.fixture(scope="session")
def instance():
    with DagsterInstance.get() as instance:
        yield instance


@pytest.fixture(scope="session")
def pipeline(instance):
    """Land 9 days, ingest their bronze, then `ettl run` the 7 days in the middle.

    `ettl run` launches two runs: bronze, then everything downstream of the sources that landed.
    """
    run_command([str(BIN / "ettl"), "land", "--start", LANDED[0], "--end", LANDED[1]], "land")
    materialize("bronze/flights,bronze/weather", "...".join(LANDED), "bronze-9-days")
    output = run_command(
        [str(BIN / "ettl"), "run", "--start", WINDOW[0], "--end", WINDOW[1]], "ettl-run"
    )
    bronze_run, downstream_run = reversed(instance.get_runs(limit=2))
    return {"output": output, "run_ids": [bronze_run.run_id, downstream_run.run_id]}
