"""A writer's contact data, sealed with AES-256-GCM before it reaches the database.

The stored form is `<version>:<base64(nonce | ciphertext)>`. INTAKE_CONTACT_KEY holds one key or
several, newest first: `v2:<base64 key>,v1:<base64 key>` (a bare base64 key is `v1`). The newest
seals; every listed key opens what it sealed. To rotate: put a new key first, run
`services.intake.cli reseal-contacts` (re-seals every address with it), then drop the old key.
"""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def parse_keys(setting: str) -> list[tuple[str, bytes]]:
    keys = []
    for item in filter(None, (part.strip() for part in setting.split(","))):
        version, _, encoded = item.rpartition(":") if ":" in item[:8] else ("v1", "", item)
        key = base64.b64decode(encoded)
        if len(key) != 32:
            raise ValueError(f"contact key {version} must be 32 bytes, base64-encoded")
        keys.append((version or "v1", key))
    if not keys:
        raise ValueError("no contact key configured")
    return keys


class ContactSealer:
    def __init__(self, keys_setting: str) -> None:
        keys = parse_keys(keys_setting)
        self.version, current = keys[0]
        self._aeads = {version: AESGCM(key) for version, key in keys}
        self._lookup_key = hashlib.sha256(b"contact-lookup:" + current).digest()

    def seal(self, plaintext: str, letter_id: str) -> str:
        nonce = os.urandom(12)
        # The letter id is bound as associated data: a sealed e-mail copied onto another letter fails.
        sealed = self._aeads[self.version].encrypt(nonce, plaintext.encode(), letter_id.encode())
        return f"{self.version}:" + base64.b64encode(nonce + sealed).decode()

    def lookup(self, email: str) -> str:
        """A keyed hash of the address, so an erasure request can find its letters without decrypting all."""
        return hmac.new(self._lookup_key, email.strip().lower().encode(), hashlib.sha256).hexdigest()

    def open(self, stored: str, letter_id: str) -> str:
        version, _, payload = stored.partition(":")
        if version not in self._aeads:
            raise ValueError(f"no contact key {version!r} configured")
        raw = base64.b64decode(payload)
        return self._aeads[version].decrypt(raw[:12], raw[12:], letter_id.encode()).decode()

    def is_current(self, stored: str) -> bool:
        return stored.startswith(f"{self.version}:")
