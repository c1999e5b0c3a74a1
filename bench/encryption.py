"""P3 cost: encrypted column + blind index against a plain text column, same rows, same run.

Builds a scratch SQLite database (or uses DATABASE_URL's PostgreSQL) with two tables of N rows
each — one plain, one through EncryptedTextField/BlindIndexField — and times bulk insert, full
read, and an exact phone lookup. Prints ratios encrypted/plain.
"""

from __future__ import annotations

import os
import random
import tempfile
import time

N = int(os.environ.get("BENCH_ROWS", "20000"))


def _timed(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def run() -> None:
    if "DATABASE_URL" not in os.environ:
        os.environ["CARELOOP_VAR_DIR"] = tempfile.mkdtemp(prefix="careloop-bench-")
    import django

    django.setup()
    from django.db import connection, models

    from careloop.core.fields import BlindIndexField, EncryptedTextField, blind_lookup
    from careloop.lib.masking import mask_phone, normalize_phone

    class PlainRow(models.Model):
        phone = models.TextField()
        phone_norm = models.CharField(max_length=32, db_index=True)

        class Meta:
            app_label = "bench"
            db_table = "bench_plain"

    class SecretRow(models.Model):
        phone = EncryptedTextField(mask=mask_phone)
        phone_bidx = BlindIndexField(source="phone", normalizer=normalize_phone, purpose="phone")

        class Meta:
            app_label = "bench"
            db_table = "bench_secret"

    with connection.schema_editor() as editor:
        for model in (PlainRow, SecretRow):
            editor.execute(f"DROP TABLE IF EXISTS {model._meta.db_table}")
            editor.create_model(model)
    rng = random.Random(7)
    phones = [f"13{rng.randint(0, 999999999):09d}" for _ in range(N)]

    def insert_plain():
        PlainRow.objects.all().delete()
        PlainRow.objects.bulk_create(
            [PlainRow(phone=p, phone_norm=normalize_phone(p)) for p in phones], batch_size=1000
        )

    def insert_secret():
        SecretRow.objects.all().delete()
        rows = []
        field = SecretRow._meta.get_field("phone_bidx")
        for p in phones:
            row = SecretRow(phone=p)
            row.phone_bidx = field.hash(p)  # bulk_create skips pre_save for non-auto fields
            rows.append(row)
        SecretRow.objects.bulk_create(rows, batch_size=1000)

    results = {
        "insert": (_timed(insert_plain), _timed(insert_secret)),
        "read all": (
            _timed(lambda: list(PlainRow.objects.values_list("phone", flat=True))),
            _timed(lambda: list(SecretRow.objects.values_list("phone", flat=True))),
        ),
        "exact lookup ×1000": (
            _timed(
                lambda: [
                    PlainRow.objects.filter(phone_norm=normalize_phone(p)).exists()
                    for p in phones[:1000]
                ]
            ),
            _timed(
                lambda: [
                    SecretRow.objects.filter(**blind_lookup(SecretRow, "phone_bidx", p)).exists()
                    for p in phones[:1000]
                ]
            ),
        ),
    }
    print(f"{connection.vendor}, {N} rows (best of 3)")
    print(f"{'operation':<20}{'plain s':>10}{'encrypted s':>14}{'ratio':>8}")
    for name, (plain, secret) in results.items():
        print(f"{name:<20}{plain:>10.3f}{secret:>14.3f}{secret / plain:>7.2f}×")
    with connection.schema_editor() as editor:
        editor.delete_model(PlainRow)
        editor.delete_model(SecretRow)
