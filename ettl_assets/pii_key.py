"""The key silver hashes personal data with (HMAC-SHA-256, README "Sensitive data").

It comes from the environment (a Kubernetes secret in production) and is never in the
repository. dbt reads it in profiles.yml under a DBT_ENV_SECRET_ name, which dbt scrubs from its
logs. On the local deployment only, a random key is made on first use and kept in the data dir
(mode 0600), so the sample pipeline runs without set-up; every other deployment must be given
the key, or its dbt steps fail with MissingPiiKeyError before any model runs.
"""

import os
import secrets
from pathlib import Path

from ettl_assets import settings

PII_KEY_ENV = "DBT_ENV_SECRET_PII_HMAC_KEY"


class MissingPiiKeyError(RuntimeError):
    """A non-local deployment has no PII hashing key."""


def local_key_file() -> Path:
    return settings.data_dir() / "secrets" / "pii_hmac.key"


def _local_key() -> str:
    path = local_key_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:  # O_EXCL: of two processes creating it at once, one writes, the other reads
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(key)
    return key


def export_pii_key() -> None:
    """Put the key in this process's environment, for the dbt processes it starts."""
    if os.environ.get(PII_KEY_ENV):
        return
    if settings.deployment() != "local":
        raise MissingPiiKeyError(
            f"{PII_KEY_ENV} is not set: the {settings.deployment()!r} deployment hashes personal "
            "data with a key it must be given (a secret: deploy/k8s/secrets.example.yaml). "
            'See README "Sensitive data".'
        )
    os.environ[PII_KEY_ENV] = _local_key()


if __name__ == "__main__":  # `make install`: the local key exists before anyone activates .venv
    _local_key()
