"""P3: authenticated encryption of sensitive fields and the HMAC blind index.

Framework-free. A ciphertext is text: ``enc1:<key id>:<base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag)>``.
The key id inside every ciphertext lets keys rotate: decryption picks the key by id, encryption
always uses the newest key. The associated data binds a ciphertext to its column, so a value
copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1"


class DecryptionError(Exception):
    """A stored value could not be decrypted (wrong or missing key, or tampered data)."""


@dataclass(frozen=True)
class KeyRing:
    """Keys newest first: ``[(key_id, raw_key_bytes), …]``."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_config(cls, items) -> KeyRing:
        parsed = []
        for kid, b64 in items:
            if ":" in kid:
                raise ValueError(f"密钥编号不能包含冒号：{kid!r}")
            try:
                raw = base64.b64decode(b64, validate=True)
            except ValueError as exc:
                raise ValueError(f"密钥 {kid} 不是有效的 base64 编码") from exc
            if len(raw) != 32:
                raise ValueError(f"密钥 {kid} 长度应为 32 字节（AES-256），实际为 {len(raw)} 字节")
            parsed.append((kid, raw))
        if not parsed:
            raise ValueError("至少需要一个加密密钥")
        return cls(tuple(parsed))

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def get(self, kid: str) -> bytes:
        for key_id, raw in self.keys:
            if key_id == kid:
                return raw
        raise DecryptionError(f"找不到编号为 {kid!r} 的解密密钥")


def new_key() -> str:
    """A fresh random AES-256 key, base64-encoded, for the key ring configuration."""
    return base64.b64encode(os.urandom(32)).decode()


def encrypt(ring: KeyRing, plaintext: str, context: str) -> str:
    kid = ring.current_id
    nonce = os.urandom(12)
    sealed = AESGCM(ring.get(kid)).encrypt(nonce, plaintext.encode("utf-8"), context.encode())
    return f"{PREFIX}:{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def key_id_of(token: str) -> str:
    _prefix, kid, _ = _split(token)
    return kid


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise DecryptionError("存储的数据不是有效的密文格式")
    return parts[0], parts[1], parts[2]


def decrypt(ring: KeyRing, token: str, context: str) -> str:
    _, kid, body = _split(token)
    try:
        blob = base64.urlsafe_b64decode(body.encode())
    except ValueError as exc:
        raise DecryptionError("密文编码损坏") from exc
    if len(blob) < 12 + 16:
        raise DecryptionError("密文长度不正确")
    try:
        plain = AESGCM(ring.get(kid)).decrypt(blob[:12], blob[12:], context.encode())
    except InvalidTag as exc:
        raise DecryptionError(f"密钥 {kid} 无法解密该数据（密钥错误或数据被篡改）") from exc
    return plain.decode("utf-8")


def blind_index(key: bytes, purpose: str, normalized: str) -> str:
    """Keyed hash for exact search: HMAC-SHA256 over purpose and value, 32 hex characters.

    The purpose separates kinds of value (a phone never matches an id number with the same digits).
    """
    mac = hmac.new(key, f"{purpose}\x00{normalized}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]
