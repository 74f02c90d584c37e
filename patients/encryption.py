"""Field-level encryption for identifiers that must not sit in the database in clear (MBI).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with the key in
``settings.FIELD_ENCRYPTION_KEY``. Several comma-separated keys rotate: the first encrypts,
every one of them decrypts (``MultiFernet``). Tokens are random, so an encrypted column can be
neither searched nor made unique; code never filters on it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    parts = [key.strip() for key in keys.split(",") if key.strip()]
    if not parts:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set; MBIs cannot be stored.")
    return MultiFernet([Fernet(key) for key in parts])


def encrypt(plaintext: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "An encrypted field cannot be read with the configured FIELD_ENCRYPTION_KEY."
        ) from exc


class EncryptedCharField(models.TextField):
    """A text value stored as a Fernet token; Python code sees the plaintext.

    The empty string is stored as the empty string (no value), so ``blank`` works as usual.
    Lookups on the column never match (each token differs): filter on other fields.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
