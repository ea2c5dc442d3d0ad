import json
import os
import secrets
import stat

import pytest
import yaml

from ettl_assets import pii_key
from ettl_assets.resources import PiiKey, Warehouse


@pytest.fixture
def no_key(monkeypatch, tmp_path):
    monkeypatch.delenv(pii_key.PII_KEY_ENV, raising=False)
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ETTL_DEPLOYMENT", "local")
    return tmp_path


def test_the_environment_key_wins(no_key, monkeypatch):
    given = "from-a-secret-" + secrets.token_hex(16)
    monkeypatch.setenv(pii_key.PII_KEY_ENV, given)
    assert pii_key.read_key() == given
    assert not pii_key.local_key_file().exists()


def test_locally_a_random_key_is_made_once_readable_by_its_owner_only(no_key):
    key = pii_key.read_key()
    path = pii_key.local_key_file()
    assert path.is_relative_to(no_key) and path.read_text() == key and len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pii_key.PII_KEY_ENV not in os.environ  # read for dbt's environment, not exported
    assert pii_key.read_key() == key  # a later run hashes with the same key


def resource(data_dir, deployment: str, key_file=None) -> PiiKey:
    warehouse = Warehouse(data_dir=str(data_dir), landing_root=str(data_dir / "landing"))
    return PiiKey(warehouse=warehouse, deployment=deployment,
                  key_file=str(key_file) if key_file else None)  # fmt: skip


def test_the_resource_reads_a_key_file_and_its_configuration_holds_no_key(tmp_path, monkeypatch):
    monkeypatch.delenv(pii_key.PII_KEY_ENV, raising=False)
    key = secrets.token_hex(32)
    mounted = tmp_path / "mounted-secret"
    mounted.write_text(key + "\n")
    pii = resource(tmp_path, "k8s", mounted)
    assert pii.read() == key
    assert key not in json.dumps(pii.model_dump(mode="json"))  # what the UI and events show
    mounted.unlink()
    with pytest.raises(pii_key.MissingPiiKeyError, match=str(mounted)):
        pii.read()


def test_the_resource_makes_the_local_key_in_its_own_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(pii_key.PII_KEY_ENV, raising=False)
    key = resource(tmp_path, "local").read()
    assert (tmp_path / "secrets" / "pii_hmac.key").read_text() == key
    with pytest.raises(pii_key.MissingPiiKeyError, match="'thrift' deployment"):
        resource(tmp_path / "elsewhere", "thrift").read()


@pytest.mark.parametrize("deployment", ["thrift", "k8s"])
def test_elsewhere_a_missing_key_stops_the_run_with_what_to_set(no_key, monkeypatch, deployment):
    monkeypatch.setenv("ETTL_DEPLOYMENT", deployment)
    with pytest.raises(pii_key.MissingPiiKeyError) as error:
        pii_key.read_key()
    assert pii_key.PII_KEY_ENV in str(error.value) and deployment in str(error.value)
    assert not pii_key.local_key_file().exists()


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("change-me", "is 9 bytes long; it must have at least 32"),
        ("0123456789abcdef0123456789abcde", "is 31 bytes long"),
        ("change-me-change-me-change-me-change-me", "is a placeholder"),
        ("Please-REPLACE_ME-with-a-real-key-0123", "is a placeholder"),
        ("ab" * 32, "fewer than 8 different characters"),
    ],
)
def test_a_short_or_placeholder_key_is_refused_with_how_to_make_one(no_key, monkeypatch, key,
                                                                   problem):  # fmt: skip
    monkeypatch.setenv(pii_key.PII_KEY_ENV, key)
    with pytest.raises(pii_key.WeakPiiKeyError) as error:
        pii_key.read_key()
    message = str(error.value)
    assert problem in message and "\n" not in message and key not in message
    assert 'python -c "import secrets; print(secrets.token_hex(32))"' in message


def test_the_example_secrets_placeholder_is_refused(no_key, monkeypatch):
    example = (pii_key.settings.PROJECT_ROOT / "deploy/k8s/secrets.example.yaml").read_text()
    documents = [d for d in yaml.safe_load_all(example) if d["metadata"]["name"] == "ettl-env"]
    monkeypatch.setenv(pii_key.PII_KEY_ENV, documents[0]["stringData"][pii_key.PII_KEY_ENV])
    with pytest.raises(pii_key.WeakPiiKeyError):
        pii_key.read_key()


def test_a_hand_edited_weak_local_key_file_is_refused(no_key):
    path = pii_key.local_key_file()
    path.parent.mkdir(parents=True)
    path.write_text("change-me")
    with pytest.raises(pii_key.WeakPiiKeyError, match="9 bytes long"):
        pii_key.read_key()


@pytest.mark.parametrize("key", [secrets.token_hex(16), secrets.token_hex(32),
                                 secrets.token_urlsafe(32)])  # fmt: skip
def test_random_keys_of_32_bytes_or_more_are_accepted(no_key, monkeypatch, key):
    monkeypatch.setenv(pii_key.PII_KEY_ENV, key)
    assert pii_key.read_key() == key


def test_the_embedded_spark_gets_the_key_from_its_environment_not_its_command_line():
    """Every setting of a session-method target reaches spark-submit's command line (`--conf`);
    the macro reads the key from the JVM's environment on the target it knows as the session
    one, and Thrift targets send it in their session, not on a command line."""
    profiles = yaml.safe_load((pii_key.settings.DBT_PROJECT_DIR / "profiles.yml").read_text())
    outputs = profiles["ettl"]["outputs"]
    assert [name for name, out in outputs.items() if out["method"] == "session"] == ["local"]
    for name, output in outputs.items():
        settings_text = json.dumps(output.get("server_side_parameters", {}))
        if output["method"] == "session":
            assert pii_key.PII_KEY_ENV not in settings_text, name
        else:
            assert "set:hiveconf:spark.ettl.pii_hmac_key" in settings_text, name
    macro = (pii_key.settings.DBT_PROJECT_DIR / "macros" / "sensitive_columns.sql").read_text()
    assert "target.name == 'local'" in macro
    assert f"reflect('java.lang.System', 'getenv', '{pii_key.PII_KEY_ENV}')" in macro
