"""Test-wide setup: tests never touch the user's data/ or dagster_home/.

Environment variables are set before anything imports ettl_assets (it resolves its paths from
them), so every test and every subprocess it starts uses one throwaway data dir and instance.
"""

import os
import secrets
import shutil
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="ettl-tests-"))
os.environ["ETTL_DATA_DIR"] = str(_SESSION_DIR / "data")
os.environ["DAGSTER_HOME"] = str(_SESSION_DIR / "dagster_home")
# Lineage events go to the session's file, never to a Marquez the developer has configured.
os.environ.pop("OPENLINEAGE_URL", None)
# The PII hashing key, known to the tests so they can check silver's hashes (and so dbt run by
# hand in tests has it, as an activated .venv does). Random: no key is ever in the repository.
os.environ["DBT_ENV_SECRET_PII_HMAC_KEY"] = secrets.token_hex(16)
(_SESSION_DIR / "dagster_home").mkdir()
shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", _SESSION_DIR / "dagster_home")

# What an entry point does before it starts anything (`ettl` does the same; importing the code
# location does neither, docs/configuration.md): the configuration exported for the processes
# the tests start (dbt run by hand finds the configured window, as the activated .venv's dbt
# finds the data dir), and the dbt manifest parsed when a model changed.
from ettl_assets import project_config  # noqa: E402
from ettl_assets.transform.project import dbt_project, prepare_if_stale  # noqa: E402

project_config.export_environment(project_config.load())
prepare_if_stale(dbt_project)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)
