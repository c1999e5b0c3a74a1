"""`careloop restore PATH [--force]`: restore a `careloop backup` archive into the database that
DATABASE_URL names (S6). Refused, with nothing changed, for a backup of another database kind, a
failed checksum, or a target that already has tables unless --force.
"""

from django.core.management.base import BaseCommand

from careloop.audit.context import Actor, acting_as
from careloop.core import backup


class Command(BaseCommand):
    help = "从 careloop backup 生成的文件恢复数据库"

    def add_arguments(self, parser):
        parser.add_argument("path", help="备份文件路径")
        parser.add_argument(
            "--force", action="store_true", help="目标数据库已有数据时也恢复（覆盖备份中的表）"
        )

    def handle(self, *args, path, force, **options):
        with acting_as(Actor(name="system:backup")):
            manifest, extra = backup.restore_backup(path, force=force)
        self.stdout.write(
            self.style.SUCCESS(
                f"恢复完成：{path}（{backup.VENDORS[manifest['vendor']]}，"
                f"备份于 {manifest['created_at']}，{len(manifest['tables'])} 张表，"
                f"{backup.total_rows(manifest)} 行，与清单一致）"
            )
        )
        if extra:
            self.stderr.write(
                self.style.WARNING(f"目标数据库中还有备份里没有的表，未改动：{'、'.join(extra)}")
            )
