"""The key silver hashes personal data with (HMAC-SHA-256, docs/security.md).

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
from ettl_assets.private_files import private_dir

PII_KEY_ENV = "DBT_ENV_SECRET_PII_HMAC_KEY"
# A key is the text the HMAC is keyed with (Spark's HmacUtils takes its UTF-8 bytes), so its
# length is counted in bytes of that text: 32 at least, the SHA-256 block's half. The local key
# and the one the message below makes are 64 hex digits (256 random bits); 32 hex digits (128
# bits) is the least accepted.
MIN_KEY_BYTES = 32
MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'
# Example values that appear in templates and docs (deploy/k8s/secrets.example.yaml says
# "change-me"): a key containing one of them, compared without case or punctuation, is public.
PLACEHOLDERS = ("changeme", "replaceme", "placeholder", "example", "yourkey", "secretkey",
                "password", "hmackey")  # fmt: skip
MIN_DISTINCT_CHARACTERS = 8  # "aaaa...", "abababab...": typed, not random


class MissingPiiKeyError(RuntimeError):
    """A non-local deployment has no PII hashing key."""


class WeakPiiKeyError(RuntimeError):
    """The key given is too short or a known placeholder: hashes made with it could be reversed
    by hashing guessed names, e-mails and phone numbers."""


def check_key(key: str) -> None:
    """WeakPiiKeyError, in one line saying how to make a good key, unless `key` is one."""
    size = len(key.encode())
    letters = "".join(character for character in key.lower() if character.isalnum())
    if size < MIN_KEY_BYTES:
        problem = f"is {size} bytes long; it must have at least {MIN_KEY_BYTES}"
    elif any(placeholder in letters for placeholder in PLACEHOLDERS):
        problem = "is a placeholder, not a secret"
    elif len(set(key)) < MIN_DISTINCT_CHARACTERS:
        problem = f"has fewer than {MIN_DISTINCT_CHARACTERS} different characters: not random"
    else:
        return
    raise WeakPiiKeyError(f"{PII_KEY_ENV} {problem} (the PII hashing key); make one with: "
                          f"{MAKE_A_KEY}")  # fmt: skip


def local_key_file() -> Path:
    return settings.data_dir() / "secrets" / "pii_hmac.key"


def _local_key() -> str:
    path = local_key_file()
    private_dir(path.parent)  # and the data dir, when this (make install) creates it
    try:  # O_EXCL: of two processes creating it at once, one writes, the other reads
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(key)
    return key


def export_pii_key() -> None:
    """Put the key in this process's environment, for the dbt processes it starts; refuse a
    weak one (WeakPiiKeyError)."""
    if os.environ.get(PII_KEY_ENV):
        check_key(os.environ[PII_KEY_ENV])
        return
    if settings.deployment() != "local":
        raise MissingPiiKeyError(
            f"{PII_KEY_ENV} is not set: the {settings.deployment()!r} deployment hashes personal "
            "data with a key it must be given (a secret: deploy/k8s/secrets.example.yaml). "
            "See docs/security.md."
        )
    key = _local_key()
    check_key(key)  # a key file edited by hand is held to the same rule
    os.environ[PII_KEY_ENV] = key


if __name__ == "__main__":  # `make install`: the local key exists before anyone activates .venv
    _local_key()
