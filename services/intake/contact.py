"""A writer's contact data, sealed with AES-256-GCM before it reaches the database.

The stored form is `v1:<base64(nonce | ciphertext)>`; the version names the key, so keys can be
rotated by adding a new version and re-sealing (see the README's security section).
"""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_VERSION = "v1"


class ContactSealer:
    def __init__(self, key_b64: str) -> None:
        key = base64.b64decode(key_b64)
        if len(key) != 32:
            raise ValueError("contact key must be 32 bytes, base64-encoded")
        self._aead = AESGCM(key)
        self._lookup_key = hashlib.sha256(b"contact-lookup:" + key).digest()

    def seal(self, plaintext: str, letter_id: str) -> str:
        nonce = os.urandom(12)
        # The letter id is bound as associated data: a sealed e-mail copied onto another letter fails.
        sealed = self._aead.encrypt(nonce, plaintext.encode(), letter_id.encode())
        return f"{KEY_VERSION}:" + base64.b64encode(nonce + sealed).decode()

    def lookup(self, email: str) -> str:
        """A keyed hash of the address, so an erasure request can find its letters without decrypting all."""
        return hmac.new(self._lookup_key, email.strip().lower().encode(), hashlib.sha256).hexdigest()

    def open(self, stored: str, letter_id: str) -> str:
        version, _, payload = stored.partition(":")
        if version != KEY_VERSION:
            raise ValueError(f"unknown contact key version {version!r}")
        raw = base64.b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], letter_id.encode()).decode()
