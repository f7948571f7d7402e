"""Secrets at rest: round trip, no clear text in the database, key rotation."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection, models

from users.fields import EncryptedBinaryField, EncryptedTextField


class SecretNote(models.Model):
    """A model that exists only in these tests, with both encrypted field kinds."""

    text = EncryptedTextField()
    blob = EncryptedBinaryField(null=True)

    class Meta:
        app_label = "portal"


@pytest.fixture
def secret_table(transactional_db):
    with connection.schema_editor() as editor:
        editor.create_model(SecretNote)
    yield SecretNote
    with connection.schema_editor() as editor:
        editor.delete_model(SecretNote)


def _raw(column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM portal_secretnote WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_round_trip_and_no_clear_text(secret_table):
    note = SecretNote.objects.create(text="-----BEGIN PRIVATE KEY----- s3cr3t", blob=b"\x00\xffkey")
    fresh = SecretNote.objects.get(pk=note.pk)
    assert fresh.text == "-----BEGIN PRIVATE KEY----- s3cr3t"
    assert fresh.blob == b"\x00\xffkey"
    raw_text, raw_blob = _raw("text", note.pk), _raw("blob", note.pk)
    assert raw_text.startswith("fernet:") and "s3cr3t" not in raw_text
    assert raw_blob.startswith("fernet:") and "key" not in raw_blob


def test_null_stays_null(secret_table):
    note = SecretNote.objects.create(text="x", blob=None)
    assert SecretNote.objects.get(pk=note.pk).blob is None
    assert _raw("blob", note.pk) is None


def test_rotation_keeps_old_values_readable_and_reencrypts(secret_table, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    note = SecretNote.objects.create(text="rotate me")
    before = _raw("text", note.pk)

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert SecretNote.objects.get(pk=note.pk).text == "rotate me"  # old key still decrypts

    call_command("rotate_encryption_keys", stdout=io.StringIO())
    after = _raw("text", note.pk)
    assert after != before
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key can go now
    assert SecretNote.objects.get(pk=note.pk).text == "rotate me"


def test_unknown_key_is_an_error_not_garbage(secret_table, settings):
    note = SecretNote.objects.create(text="lost")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="no configured key"):
        SecretNote.objects.get(pk=note.pk)
