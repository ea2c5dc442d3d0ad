import os
import stat

import pytest

from ettl_assets import pii_key


@pytest.fixture
def no_key(monkeypatch, tmp_path):
    monkeypatch.delenv(pii_key.PII_KEY_ENV, raising=False)
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ETTL_DEPLOYMENT", "local")
    return tmp_path


def test_the_environment_key_wins(no_key, monkeypatch):
    monkeypatch.setenv(pii_key.PII_KEY_ENV, "from-a-secret")
    pii_key.export_pii_key()
    assert os.environ[pii_key.PII_KEY_ENV] == "from-a-secret"
    assert not pii_key.local_key_file().exists()


def test_locally_a_random_key_is_made_once_readable_by_its_owner_only(no_key, monkeypatch):
    pii_key.export_pii_key()
    key = os.environ[pii_key.PII_KEY_ENV]
    path = pii_key.local_key_file()
    assert path.is_relative_to(no_key) and path.read_text() == key and len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.delenv(pii_key.PII_KEY_ENV)
    pii_key.export_pii_key()  # a later run hashes with the same key
    assert os.environ[pii_key.PII_KEY_ENV] == key


@pytest.mark.parametrize("deployment", ["thrift", "k8s"])
def test_elsewhere_a_missing_key_stops_the_run_with_what_to_set(no_key, monkeypatch, deployment):
    monkeypatch.setenv("ETTL_DEPLOYMENT", deployment)
    with pytest.raises(pii_key.MissingPiiKeyError) as error:
        pii_key.export_pii_key()
    assert pii_key.PII_KEY_ENV in str(error.value) and deployment in str(error.value)
    assert not pii_key.local_key_file().exists()
