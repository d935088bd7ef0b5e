"""Signed rights events: only intake can announce who holds which staff token and role.

Anyone who can publish to the broker could otherwise announce "this token is an admin's" and be
admin on sorting and delivery. Intake signs every event that changes rights with an Ed25519
private key only it holds; every consuming service verifies with the public key and refuses
whatever is unsigned, signed by another key, or signed for another kind of event.

What is signed: the event's routing key, a newline, then the event's JSON body without its
`signature`, with sorted keys and no spaces. The receiver rebuilds that text from the body it
received (not from its own parsed model), so a field added by a newer intake is covered too.

Keys are the raw 32 bytes, base64. The public-key setting may list several keys, comma-separated,
newest first, so intake's key can be rotated: add the new public key to every service, switch
intake's private key, then drop the old public key.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# DEVELOPMENT KEY PAIR, public in this repository: local runs and tests only. Anyone can sign
# with it, so a deployment must set INTAKE_STAFF_EVENTS_PRIVATE_KEY and STAFF_EVENTS_PUBLIC_KEY
# (`python -m shared.signing` prints a fresh pair). The production check refuses both values.
DEV_STAFF_EVENTS_PRIVATE_KEY = "vQ/kd/sA7zHLOA6FkdQSnqbzgqTNvpKVwBg6W8B+C8E="
DEV_STAFF_EVENTS_PUBLIC_KEY = "gPYx5KbNgN9ByY6XZdJpQ2VnvzY9MLfst1HzblppBJ8="


class BadKey(ValueError):
    """A key setting that is not a base64 Ed25519 key."""


def _raw_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise BadKey(f"{what} is not base64") from error
    if len(raw) != 32:
        raise BadKey(f"{what} must be 32 bytes (base64 of a raw Ed25519 key), not {len(raw)}")
    return raw


def signed_text(routing_key: str, body: dict[str, Any]) -> bytes:
    unsigned = {name: value for name, value in body.items() if name != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{routing_key}\n{canonical}".encode()


class EventSigner:
    """Intake's half: signs rights events with the private key."""

    def __init__(self, private_key_b64: str) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(_raw_key(private_key_b64, "the staff-events private key"))

    @property
    def public_key(self) -> str:
        return base64.b64encode(self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()

    def sign(self, event):
        """The same event with its `signature` set."""
        body = event.model_dump(mode="json", exclude={"signature"})
        signature = self._key.sign(signed_text(event.routing_key, body))
        return event.model_copy(update={"signature": base64.b64encode(signature).decode()})


class EventVerifier:
    """Every consumer's half: does a received body carry a valid signature by intake?"""

    def __init__(self, public_keys_b64: str) -> None:
        keys = [part for part in public_keys_b64.split(",") if part.strip()]
        if not keys:
            raise BadKey("no staff-events public key is set (STAFF_EVENTS_PUBLIC_KEY)")
        self._keys = [Ed25519PublicKey.from_public_bytes(_raw_key(key, "a staff-events public key")) for key in keys]

    def trusts(self, signer: EventSigner) -> bool:
        return signer.public_key in {
            base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode() for key in self._keys
        }

    def verify(self, routing_key: str, body: dict[str, Any]) -> str | None:
        """None if the body is signed by a trusted key; otherwise why not ("unsigned", "bad_signature")."""
        given = body.get("signature")
        if not isinstance(given, str) or not given:
            return "unsigned"
        try:
            signature = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            return "bad_signature"
        text = signed_text(routing_key, body)
        for key in self._keys:
            try:
                key.verify(signature, text)
            except InvalidSignature:
                continue
            return None
        return "bad_signature"


def new_key_pair() -> tuple[str, str]:
    """(private, public), base64: for a deployment's secrets."""
    key = Ed25519PrivateKey.generate()
    private = base64.b64encode(key.private_bytes_raw()).decode()
    return private, EventSigner(private).public_key


if __name__ == "__main__":
    private, public = new_key_pair()
    print(f"INTAKE_STAFF_EVENTS_PRIVATE_KEY={private}")
    print(f"STAFF_EVENTS_PUBLIC_KEY={public}")
