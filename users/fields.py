"""Encrypted model fields for secrets at rest (private keys, tokens, client secrets).

Values are sealed with Fernet (AES-128-CBC + HMAC-SHA256) under the first key of
``settings.FIELD_ENCRYPTION_KEYS``; every listed key still decrypts, so a key can be
rotated by putting a new one in front and running ``manage.py rotate_encryption_keys``.
"""

from functools import lru_cache

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    from cryptography.fernet import Fernet

    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(data: bytes) -> str:
    return PREFIX + fernet().encrypt(data).decode()


def decrypt(stored: str) -> bytes:
    if not stored.startswith(PREFIX):
        raise ValueError("stored value is not encrypted")
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode())
    except InvalidToken as exc:
        raise ValueError("no configured key decrypts this value") from exc


def rotate(stored: str) -> str:
    """Re-seal a stored value under the newest key."""
    return PREFIX + fernet().rotate(stored[len(PREFIX) :].encode()).decode()


class _EncryptedField(models.TextField):
    """Stores ``fernet:<token>`` text; Python side sees the clear value."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return self._from_bytes(decrypt(value))

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt(self._to_bytes(value))

    def _to_bytes(self, value) -> bytes:
        raise NotImplementedError

    def _from_bytes(self, data: bytes):
        raise NotImplementedError


class EncryptedTextField(_EncryptedField):
    def _to_bytes(self, value) -> bytes:
        return str(value).encode()

    def _from_bytes(self, data: bytes):
        return data.decode()


class EncryptedBinaryField(_EncryptedField):
    def _to_bytes(self, value) -> bytes:
        return bytes(value)

    def _from_bytes(self, data: bytes):
        return data


def encrypted_fields():
    """Yield (model, field) for every encrypted field of every installed model."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, _EncryptedField):
                yield model, field
