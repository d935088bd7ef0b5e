"""A production start with any development secret exits at once, naming the variable to set.

Each case is a real process start of a service (`python -m services.<name>`) with otherwise good
values; the refusal comes before anything connects, so no server is needed.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from deploy.local import ROOT, free_port
from services.intake.config import DEV_CONTACT_KEY, DEV_RECEIPT_SECRET
from shared.development import DevelopmentSecret
from shared.signing import DEV_STAFF_EVENTS_PRIVATE_KEY, DEV_STAFF_EVENTS_PUBLIC_KEY

pytestmark = [pytest.mark.security]


def _key_pair() -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def production_env(service: str) -> dict[str, str]:
    """What a careful deployment sets: its own secret for everything, APP_ENV=production."""
    private, public = _key_pair()
    return {
        "APP_ENV": "production",
        # Nothing listens there: a service that got past the check would hang on it, not start.
        "AMQP_URL": f"amqp://letters:{secrets.token_urlsafe(16)}@127.0.0.1:{free_port()}/",
        "MONGODB_URL": f"mongodb://127.0.0.1:{free_port()}",
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "S3_ACCESS_KEY_ID": secrets.token_hex(8),
        "S3_SECRET_ACCESS_KEY": secrets.token_urlsafe(24),
        "INTAKE_RECEIPT_SECRET": secrets.token_urlsafe(48),
        "INTAKE_CONTACT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "INTAKE_STAFF_EVENTS_PRIVATE_KEY": private,
        "STAFF_EVENTS_PUBLIC_KEY": public,
        f"{service.upper()}_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }


def start(service: str, env: dict[str, str], timeout: float = 30) -> tuple[int | None, str]:
    clean = {k: v for k, v in os.environ.items() if k not in env and not k.startswith(
        ("AMQP_", "MONGODB_", "S3_", "INTAKE_", "SORTING_", "DELIVERY_", "STAFF_", "APP_ENV"))}
    process = subprocess.Popen([sys.executable, "-m", f"services.{service}"], cwd=ROOT, env={**clean, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return None, output
    return process.returncode, output


DEVELOPMENT_VALUES = [
    ("intake", "INTAKE_RECEIPT_SECRET", DEV_RECEIPT_SECRET),
    ("intake", "INTAKE_CONTACT_KEY", DEV_CONTACT_KEY),
    ("intake", "INTAKE_STAFF_EVENTS_PRIVATE_KEY", DEV_STAFF_EVENTS_PRIVATE_KEY),
    ("intake", "INTAKE_RECEIPT_SECRET", "CHANGE_ME"),  # the production template's placeholder
    ("intake", "S3_SECRET_ACCESS_KEY", "letters-secret"),
    ("sorting", "S3_SECRET_ACCESS_KEY", "letters-secret"),
    ("delivery", "S3_SECRET_ACCESS_KEY", "letters-secret"),
    ("sorting", "STAFF_EVENTS_PUBLIC_KEY", DEV_STAFF_EVENTS_PUBLIC_KEY),
    ("delivery", "STAFF_EVENTS_PUBLIC_KEY", f"{_key_pair()[1]},{DEV_STAFF_EVENTS_PUBLIC_KEY}"),
    ("intake", "STAFF_EVENTS_PUBLIC_KEY", "CHANGE_ME"),
    ("delivery", "AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    ("sorting", "AMQP_URL", "amqp://letters:CHANGE_ME@rabbitmq:5672/"),
]


@pytest.mark.parametrize(("service", "variable", "value"), DEVELOPMENT_VALUES,
                         ids=[f"{s}-{v}-{'placeholder' if 'CHANGE_ME' in x else 'dev'}" for s, v, x in
                              DEVELOPMENT_VALUES])
def test_a_production_start_with_a_development_secret_exits_naming_the_variable(service, variable, value):
    code, output = start(service, {**production_env(service), variable: value})
    assert code == DevelopmentSecret.EXIT_CODE, f"exit {code}; output: {output[-2000:]}"
    [refusal] = [json.loads(line) for line in output.splitlines() if line.startswith("{")
                 and json.loads(line).get("level") == "critical"]
    assert refusal["variables"] == [variable]
    assert variable in refusal["event"] and "APP_ENV=development" in refusal["event"]
    assert value not in output, "the refusal must not print the value itself"


def test_a_start_with_nothing_set_is_production_and_names_every_development_secret():
    env = {"INTAKE_PORT": str(free_port()), "PYTHONUNBUFFERED": "1"}
    code, output = start("intake", env)
    assert code == DevelopmentSecret.EXIT_CODE, output[-2000:]
    [refusal] = [json.loads(line) for line in output.splitlines() if '"critical"' in line]
    assert {"INTAKE_RECEIPT_SECRET", "INTAKE_CONTACT_KEY", "INTAKE_STAFF_EVENTS_PRIVATE_KEY", "S3_SECRET_ACCESS_KEY",
            "STAFF_EVENTS_PUBLIC_KEY", "AMQP_URL"} <= set(refusal["variables"])


def test_with_its_own_secrets_a_production_start_gets_past_the_check():
    # It then waits for its (absent) servers; no refusal within a few seconds is the point.
    code, output = start("sorting", production_env("sorting"), timeout=8)
    assert code is None, f"exited with {code}: {output[-2000:]}"
    assert '"critical"' not in output
