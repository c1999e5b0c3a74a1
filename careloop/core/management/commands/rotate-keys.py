"""`careloop rotate-keys`: re-encrypt every encrypted column under the newest key (P3).

Rotation: put a new key first in CARELOOP_ENCRYPTION_KEYS (keep the old ones after it), restart,
run this command, then the old keys may be removed. With development keys, `--add-key` adds the
new key to var/dev-keys.json itself. Rows are updated only where the stored ciphertext is still
the one read (a concurrent edit wins), in batches of 500, each batch in a transaction.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from careloop.audit.choices import Action
from careloop.audit.context import Actor, acting_as
from careloop.audit.services import record_event
from careloop.core.fields import encrypted_fields, key_ring
from careloop.lib import crypto

BATCH = 500


def rotate_model(model, ring: crypto.KeyRing) -> tuple[int, int]:
    """Return (rows examined, values re-encrypted) for one model."""
    fields = encrypted_fields(model)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    cols = [connection.ops.quote_name(f.column) for f in fields]
    examined = changed = 0
    last = None
    while True:
        where = f"WHERE {pk} > %s " if last is not None else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {', '.join(cols)} FROM {table} {where}ORDER BY {pk} LIMIT {BATCH}",  # noqa: S608
                [last] if last is not None else [],
            )
            rows = cursor.fetchall()
        if not rows:
            return examined, changed
        with transaction.atomic():
            for row in rows:
                examined += 1
                for field, col, stored in zip(fields, cols, row[1:], strict=True):
                    if not stored or crypto.key_id_of(stored) == ring.current_id:
                        continue
                    plain = crypto.decrypt(ring, stored, field.crypto_context)
                    fresh = crypto.encrypt(ring, plain, field.crypto_context)
                    with connection.cursor() as cursor:
                        cursor.execute(
                            f"UPDATE {table} SET {col} = %s WHERE {pk} = %s AND {col} = %s",  # noqa: S608
                            [fresh, row[0], stored],
                        )
                        changed += cursor.rowcount
        last = rows[-1][0]


class Command(BaseCommand):
    help = "用最新密钥重新加密所有加密字段"

    def add_arguments(self, parser):
        parser.add_argument(
            "--add-key", action="store_true", help="（仅开发密钥）先生成一个新密钥并设为最新"
        )
        parser.add_argument(
            "--new-key",
            action="store_true",
            help="只打印一个新的随机密钥（用于生产配置），不做其他操作",
        )

    def handle(self, *args, add_key, new_key, **options):
        if new_key:
            self.stdout.write(crypto.new_key())
            return
        if add_key:
            self._add_dev_key()
        ring = key_ring()
        total_examined = total_changed = 0
        with acting_as(Actor(name="system:rotate-keys")):
            for model in apps.get_models():
                if not encrypted_fields(model):
                    continue
                examined, changed = rotate_model(model, ring)
                total_examined += examined
                total_changed += changed
                self.stdout.write(
                    f"{model._meta.label}：检查 {examined} 行，重新加密 {changed} 个值"
                )
            record_event(
                Action.KEY_ROTATION,
                message=f"当前密钥 {ring.current_id}；检查 {total_examined} 行，重新加密 {total_changed} 个值",
            )
        self.stdout.write(
            self.style.SUCCESS(f"完成：当前密钥 {ring.current_id}，重新加密 {total_changed} 个值")
        )

    def _add_dev_key(self):
        if not settings.USING_DEV_KEYS:
            raise CommandError(
                "--add-key 只用于开发密钥。生产环境请把新密钥（careloop rotate-keys --new-key 生成）"
                "放在 CARELOOP_ENCRYPTION_KEYS 的最前面，重启后再运行本命令"
            )
        from careloop.env import DevKeys

        store = DevKeys(settings.VAR_DIR)
        data = store.load()
        existing = {kid for kid, _key in data["encryption_keys"]}
        n = len(existing) + 1
        while f"k{n}" in existing:
            n += 1
        data["encryption_keys"].insert(0, [f"k{n}", crypto.new_key()])
        store.save(data)
        settings.ENCRYPTION_KEYS = [tuple(k) for k in data["encryption_keys"]]
        self.stdout.write(f"已添加新密钥 k{n}（{store.path}）")
