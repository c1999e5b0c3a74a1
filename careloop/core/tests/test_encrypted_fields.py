"""P3: encrypted columns, the blind index, key rotation and failures that must be loud."""

from __future__ import annotations

import base64
import io
import os

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

from careloop.accounts.models import User
from careloop.core.fields import blind_lookup
from careloop.lib import crypto
from careloop.lib.crypto import DecryptionError

pytestmark = pytest.mark.django_db


def raw_phone(user_pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_bidx FROM accounts_user WHERE id = %s", [user_pk])
        return cursor.fetchone()


def key():
    return base64.b64encode(os.urandom(32)).decode()


def test_column_holds_no_plaintext_P3(make_user, org):
    user = make_user("a1", phone="13812345678")
    stored, bidx = raw_phone(user.pk)
    assert stored.startswith("enc1:")
    assert "13812345678" not in stored and "5678" not in stored
    assert len(bidx) == 32 and "13812345678" not in bidx
    assert User.objects.get(pk=user.pk).phone == "13812345678"


def test_same_value_encrypts_differently_each_time_P3(make_user, org):
    a = make_user("a1", phone="13812345678")
    b = make_user("a2", phone="13812345678")
    assert raw_phone(a.pk)[0] != raw_phone(b.pk)[0]
    assert raw_phone(a.pk)[1] == raw_phone(b.pk)[1]  # the blind index is deterministic


@pytest.mark.parametrize(
    "typed",
    ["13812345678", "138 1234 5678", "+86 138 1234 5678", "+86-138-1234-5678", "0086 13812345678"],
)
def test_blind_index_finds_a_phone_however_typed_P3(make_user, org, typed):
    target = make_user("a1", phone="138-1234-5678")
    make_user("a2", phone="13912345678")
    assert list(User.objects.filter(**blind_lookup(User, "phone_bidx", typed))) == [target]


def test_blind_index_with_empty_input_finds_nothing_P3(make_user, org):
    make_user("a1")  # no phone
    assert User.objects.filter(**blind_lookup(User, "phone_bidx", "")).count() == 0


@pytest.mark.parametrize(
    "lookup", ["phone", "phone__exact", "phone__icontains", "phone__startswith", "phone__in"]
)
def test_lookups_on_encrypted_fields_are_refused_P3(lookup):
    value = ["1"] if lookup.endswith("__in") else "1"
    with pytest.raises(FieldError, match="加密字段"):
        list(User.objects.filter(**{lookup: value}))


def test_isnull_lookup_is_allowed_P3(make_user, org):
    make_user("a1")
    assert User.objects.filter(phone__isnull=False).count() == 1


def test_wrong_key_raises_instead_of_returning_ciphertext_P3(make_user, org, settings):
    user = make_user("a1", phone="13812345678")
    settings.ENCRYPTION_KEYS = [("k1", key())]  # same key id, different key
    with pytest.raises(DecryptionError):
        User.objects.get(pk=user.pk)


def test_missing_key_id_raises_P3(make_user, org, settings):
    user = make_user("a1", phone="13812345678")
    settings.ENCRYPTION_KEYS = [("other", key())]
    with pytest.raises(DecryptionError, match="找不到编号"):
        User.objects.get(pk=user.pk)


def test_tampered_ciphertext_raises_P3(make_user, org):
    user = make_user("a1", phone="13812345678")
    stored = raw_phone(user.pk)[0]
    body = bytearray(base64.urlsafe_b64decode(stored.split(":", 2)[2]))
    body[-1] ^= 1
    forged = stored.rsplit(":", 1)[0] + ":" + base64.urlsafe_b64encode(bytes(body)).decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET phone = %s WHERE id = %s", [forged, user.pk])
    with pytest.raises(DecryptionError):
        User.objects.get(pk=user.pk)


def test_ciphertext_moved_to_another_column_does_not_decrypt_P3(make_user, org):
    user = make_user("a1", phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET totp_secret = phone WHERE id = %s", [user.pk])
    with pytest.raises(DecryptionError):
        User.objects.get(pk=user.pk)


def test_rotate_keys_reencrypts_everything_and_keeps_it_readable_P3(make_user, org, settings):
    old = list(settings.ENCRYPTION_KEYS)
    users = [make_user(f"u{i}", phone=f"1381234{i:04d}") for i in range(7)]
    users[0].totp_secret = "JBSWY3DPEHPK3PXP"
    users[0].save()
    old_id = old[0][0]
    assert all(crypto.key_id_of(raw_phone(u.pk)[0]) == old_id for u in users)
    settings.ENCRYPTION_KEYS = [("k-new", key()), *old]
    call_command("rotate-keys", stdout=io.StringIO())
    assert all(crypto.key_id_of(raw_phone(u.pk)[0]) == "k-new" for u in users)
    # The old key can go: every value is still readable under the new key alone.
    settings.ENCRYPTION_KEYS = [settings.ENCRYPTION_KEYS[0]]
    for i, u in enumerate(users):
        fresh = User.objects.get(pk=u.pk)
        assert fresh.phone == f"1381234{i:04d}"
    assert User.objects.get(pk=users[0].pk).totp_secret == "JBSWY3DPEHPK3PXP"
    # Searching still works: the blind index does not depend on the encryption key.
    assert User.objects.get(**blind_lookup(User, "phone_bidx", "138 1234 0003")).pk == users[3].pk


def test_rotate_keys_is_recorded_in_the_audit_log_P3(make_user, org):
    from careloop.audit.models import AuditEvent

    make_user("u1", phone="13812345678")
    call_command("rotate-keys", stdout=io.StringIO())
    assert AuditEvent.objects.filter(action="key_rotation").count() == 1
