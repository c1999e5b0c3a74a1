"""`careloop backup PATH` writes one archive of the whole database; `careloop backup --verify
PATH` proves an archive opens and its row counts match its manifest (S6).

Exit status: 0 done / verified; 1 with a Chinese message naming what is wrong.
"""

from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat

from careloop.audit.context import Actor, acting_as
from careloop.core import backup


class Command(BaseCommand):
    help = "把整个数据库备份到一个文件；--verify 校验一个已有的备份"

    def add_arguments(self, parser):
        parser.add_argument("path", help="备份文件路径（tar 归档）")
        parser.add_argument(
            "--verify", action="store_true", help="不备份，只校验 PATH：能否打开、行数是否一致"
        )

    def handle(self, *args, path, verify, **options):
        if verify:
            manifest = backup.verify_backup(path)
            self.stdout.write(
                self.style.SUCCESS(
                    f"校验通过：{path}（{backup.VENDORS[manifest['vendor']]}，"
                    f"备份于 {manifest['created_at']}，{len(manifest['tables'])} 张表，"
                    f"{backup.total_rows(manifest)} 行，与清单一致）"
                )
            )
            return
        with acting_as(Actor(name="system:backup")):
            manifest, size = backup.create_backup(path)
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成：{path}（{backup.VENDORS[manifest['vendor']]}，"
                f"{len(manifest['tables'])} 张表，{backup.total_rows(manifest)} 行，"
                f"{filesizeformat(size)}）"
            )
        )
        self.stdout.write(
            f"sha256：{manifest['sha256']}；校验请运行 careloop backup --verify {path}"
        )
