"""Personal data at rest: AES-256-GCM ciphertext, an HMAC for exact lookup, a masked form.

Both keys are derived (HKDF-SHA256) from one 32-byte master key that comes from settings.
The field name is bound into the ciphertext as associated data, so a phone ciphertext can
not be passed off as an ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def derive_key(master_key: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one `purpose`, derived from the master key (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key)


@dataclass(frozen=True)
class SealedValue:
    """What is stored for one personal value."""

    encrypted: bytes
    hash: bytes
    masked: str


class PersonalDataVault:
    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(derive_key(master_key, b"laborhub pii encryption v1"))
        self._hash_key = derive_key(master_key, b"laborhub pii lookup hash v1")

    def encrypt(self, field: str, value: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, value.encode(), field.encode())

    def decrypt(self, field: str, blob: bytes) -> str:
        nonce, ciphertext = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        return self._aead.decrypt(nonce, ciphertext, field.encode()).decode()

    def lookup_hash(self, field: str, value: str) -> bytes:
        return hmac.new(self._hash_key, f"{field}\x00{value}".encode(), hashlib.sha256).digest()

    def seal_id_number(self, id_number: str) -> SealedValue:
        return SealedValue(
            self.encrypt("id_number", id_number),
            self.lookup_hash("id_number", id_number),
            mask_id_number(id_number),
        )

    def seal_phone(self, phone: str) -> SealedValue:
        return SealedValue(
            self.encrypt("phone", phone), self.lookup_hash("phone", phone), mask_phone(phone)
        )


def mask_id_number(id_number: str) -> str:
    """First 6 + eight `*` + last 4: `110105********002X`."""
    return id_number[:6] + "*" * 8 + id_number[-4:]


def mask_phone(phone: str) -> str:
    """First 3 + `****` + last 4: `138****5678`."""
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) >= 8 else "*" * len(phone)
