"""dbt state: the manifest each materialization was built from, and what changed since.

Every dbt materialization records (metadata `dbt_state`) a copy of the manifest it ran with,
kept under data/dbt_state/<content hash>/. `dbt ls --select state:modified --state <that dir>`
then tells which models differ now from what built their data.
"""

import hashlib
import json
import subprocess
from pathlib import Path

from ettl_assets import settings
from ettl_assets.transform.project import DBT_EXECUTABLE

STATE_METADATA_KEY = "dbt_state"


def state_root() -> Path:
    return settings.data_dir() / "dbt_state"


def save_state(manifest_path: Path) -> Path:
    """Keep a copy of the manifest (once per distinct content); returns its state dir."""
    content = manifest_path.read_bytes()
    state_dir = state_root() / hashlib.sha256(content).hexdigest()[:16]
    if not (state_dir / "manifest.json").exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        temp = state_dir / ".manifest.json.tmp"
        temp.write_bytes(content)
        temp.replace(state_dir / "manifest.json")
    return state_dir


def modified_models(state_dir: Path) -> set[str]:
    """unique_ids of the models that dbt's state:modified finds against `state_dir`."""
    if not (state_dir / "manifest.json").exists():
        raise FileNotFoundError(f"dbt state {state_dir} is gone; cannot compare against it")
    result = subprocess.run(
        [
            DBT_EXECUTABLE, "ls", "--quiet",
            "--project-dir", str(settings.DBT_PROJECT_DIR),
            "--profiles-dir", str(settings.DBT_PROJECT_DIR),
            "--select", "state:modified", "--resource-type", "model",
            "--state", str(state_dir),
            "--output", "json", "--output-keys", "unique_id",
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"dbt ls state:modified failed:\n{result.stdout}\n{result.stderr}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return {json.loads(line)["unique_id"] for line in lines}


def why_modified(unique_id: str, state_dir: Path, current_manifest: Path) -> str:
    """A short human reason for a state:modified model."""
    saved = json.loads((state_dir / "manifest.json").read_text())["nodes"].get(unique_id)
    now = json.loads(current_manifest.read_text())["nodes"][unique_id]
    if saved is None:
        return "new model"
    if saved["checksum"] != now["checksum"]:
        return "SQL changed"
    changed = sorted(k for k in set(saved["config"]) | set(now["config"])
                     if saved["config"].get(k) != now["config"].get(k))  # fmt: skip
    if changed:
        return f"config changed ({', '.join(changed)})"
    return "a macro or setting it uses changed"
