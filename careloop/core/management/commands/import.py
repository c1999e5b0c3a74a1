"""`careloop import KIND FILE [--dry-run] [--strict]` — e.g. `careloop import departments 科室.xlsx`.

Exit status: 0 every row imported; 1 some rows failed (the good rows are imported unless
--strict; the error report's path is printed); 2 the file cannot be read at all.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from careloop.audit.context import Actor, acting_as
from careloop.core.importing import importers
from careloop.lib.tabular import TabularError


class Command(BaseCommand):
    help = "从 HIS 导出文件（.csv 或 .xlsx）导入数据"

    def add_arguments(self, parser):
        parser.add_argument("kind", help="导入类型：" + "、".join(importers()))
        parser.add_argument("file", help="文件路径（.csv：UTF-8 或 GB18030；.xlsx）")
        parser.add_argument("--dry-run", action="store_true", help="只检查每一行，不写入数据库")
        parser.add_argument("--strict", action="store_true", help="有任何一行出错则全部不导入")
        parser.add_argument("--sheet", default=None, help="Excel 工作表名称（默认第一个）")

    def handle(self, *args, kind, file, dry_run, strict, sheet, **options):
        registry = importers()
        if kind not in registry:
            raise CommandError(f"未知的导入类型“{kind}”；可用：{'、'.join(registry)}")
        func = import_string(registry[kind][0])
        with acting_as(Actor(name=f"system:import {kind}")):
            try:
                result = func(file, dry_run=dry_run, strict=strict, sheet=sheet)
            except TabularError as exc:
                self.stderr.write(f"导入失败：{exc}")
                sys.exit(2)
        self.stdout.write(result.summary())
        if result.errors:
            report = result.write_error_report(kind)
            for e in result.errors[:20]:
                self.stderr.write(f"第 {e.row} 行，列“{e.column}”，值“{e.value}”：{e.reason}")
            if len(result.errors) > 20:
                self.stderr.write(f"……共 {len(result.errors)} 个错误")
            self.stderr.write(f"错误报告：{report}")
            sys.exit(1)
