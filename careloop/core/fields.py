"""P3: encrypted model fields and their blind index.

Our own small field type (the published packages silently store plaintext, return ciphertext or
filter to zero rows on current Django). Rules:
- the column holds only ciphertext (``enc1:<key id>:…``), never plaintext;
- reading a value that does not decrypt raises ``DecryptionError`` — never ciphertext, never "";
- every lookup except ``isnull`` is refused: search goes through the blind index column.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import FieldError
from django.db import models
from django.utils.translation import gettext_lazy as _

from careloop.lib import crypto
from careloop.lib.crypto import DecryptionError  # noqa: F401  (re-exported for callers)


@cache
def _ring_for(config: tuple) -> crypto.KeyRing:
    return crypto.KeyRing.from_config(config)


def key_ring() -> crypto.KeyRing:
    """The configured key ring, read from settings at call time so rotation and tests apply."""
    return _ring_for(tuple(tuple(k) for k in settings.ENCRYPTION_KEYS))


@cache
def _bidx_key(b64: str) -> bytes:
    import base64

    return base64.b64decode(b64)


def blind_index_key() -> bytes:
    return _bidx_key(settings.BLIND_INDEX_KEY)


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with AES-256-GCM; the mask function names how lists show it."""

    description = _("加密文本")

    def __init__(self, *args, mask=None, **kwargs):
        self.mask = mask
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("mask", None)
        if kwargs.get("blank") is True:
            kwargs.pop("blank")
        return name, path, args, kwargs

    @property
    def crypto_context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.attname}"

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"加密字段 {self.model.__name__}.{self.name} 不支持“{lookup_name}”查询；请通过盲索引字段精确查找"
        )

    def get_transform(self, name):
        raise FieldError(f"加密字段 {self.model.__name__}.{self.name} 不支持“{name}”变换")

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(key_ring(), value, self.crypto_context)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(key_ring(), str(value), self.crypto_context)

    def masked(self, instance) -> str:
        value = getattr(instance, self.attname)
        if not value:
            return ""
        return self.mask(value) if self.mask else "******"


class BlindIndexField(models.CharField):
    """HMAC of the normalised value of ``source``, kept in step on every save (exact search only)."""

    description = _("盲索引")

    def __init__(self, *args, source: str = "", normalizer=None, purpose: str = "", **kwargs):
        self.source = source
        self.normalizer = normalizer
        self.purpose = purpose
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key in ("source", "normalizer", "purpose"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def hash(self, raw: str | None) -> str:
        normalized = self.normalizer(raw) if self.normalizer else (raw or "").strip()
        if not normalized:
            return ""
        return crypto.blind_index(blind_index_key(), self.purpose or self.source, normalized)

    def pre_save(self, model_instance, add):
        value = self.hash(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def blind_lookup(model, field_name: str, raw: str) -> dict:
    """Filter kwargs for an exact blind-index search: ``Model.objects.filter(**blind_lookup(...))``."""
    field = model._meta.get_field(field_name)
    return {field_name: field.hash(raw) or "-"}


def encrypted_fields(model) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
