"""`careloop tasks export --format csv|xlsx [--output PATH] [--policy SLUG] [--status S]
[--department CODE]` (F7, S3): the task export, the same columns as the web page's.

Streams: rows are read in chunks and written as they come (xlsx in constant memory), so a
million tasks do not have to fit in memory. The export is written to the audit log."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from careloop.audit.choices import Action
from careloop.audit.context import Actor, acting_as
from careloop.audit.services import record_event
from careloop.followup.choices import TaskStatus
from careloop.followup.exports import task_rows, write_csv, write_xlsx
from careloop.followup.models import FollowUpTask, Policy
from careloop.org.models import Department


class _Raw:
    """The command's stdout without the newline Django appends to every write."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text):
        self.wrapper.write(text, ending="")


class Command(BaseCommand):
    help = "回访任务：export 导出（csv 或 xlsx）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{export}")
        export = sub.add_parser("export", help="导出回访任务")
        export.add_argument("--format", choices=["csv", "xlsx"], default="csv", dest="fmt")
        export.add_argument(
            "--output",
            default=None,
            help="输出文件；csv 默认输出到标准输出，xlsx 默认 tasks-YYYYMMDD.xlsx",
        )
        export.add_argument("--policy", default=None, help="只导出该制度（代码）的任务")
        export.add_argument(
            "--status", default=None, help="只导出该状态：" + "、".join(TaskStatus.values)
        )
        export.add_argument("--department", default=None, help="只导出该科室（编码）的任务")

    def handle(self, *args, action, fmt, output, policy, status, department, **options):
        qs = FollowUpTask.objects.all()
        filters = []
        if policy:
            if not Policy.objects.filter(slug=policy).exists():
                slugs = "、".join(Policy.objects.order_by("slug").values_list("slug", flat=True))
                raise CommandError(f"没有代码为“{policy}”的回访制度；可用：{slugs or '（无）'}")
            qs = qs.filter(policy__slug=policy)
            filters.append(f"制度 {policy}")
        if status:
            if status not in TaskStatus.values:
                raise CommandError(
                    f"未知的任务状态“{status}”；可用：{'、'.join(TaskStatus.values)}"
                )
            qs = qs.filter(status=status)
            filters.append(f"状态 {status}")
        if department:
            if not Department.objects.filter(code=department).exists():
                raise CommandError(f"没有编码为“{department}”的科室")
            qs = qs.filter(department__code=department)
            filters.append(f"科室 {department}")
        if fmt == "xlsx" and not output:
            output = f"tasks-{timezone.localdate():%Y%m%d}.xlsx"

        with acting_as(Actor(name="system:tasks export")):
            if fmt == "xlsx":
                count = self._to_file(output, lambda path: write_xlsx(path, task_rows(qs)))
            elif output:
                count = self._to_file(output, lambda path: self._csv_file(path, qs))
            else:
                count = write_csv(_Raw(self.stdout), task_rows(qs))
                self.stdout.flush()
            where = output or "标准输出"
            record_event(
                Action.EXPORT,
                object_type="followup.followuptask",
                message=f"导出回访任务 {count} 条（{fmt}，{'，'.join(filters) or '全部'}）→ {where}",
            )
        if output:
            self.stderr.write(f"已导出 {count} 条回访任务到 {output}")

    @staticmethod
    def _csv_file(path, qs) -> int:
        # utf-8-sig: Excel on Chinese Windows opens the file correctly.
        with open(path, "w", encoding="utf-8-sig", newline="") as stream:
            return write_csv(stream, task_rows(qs))

    @staticmethod
    def _to_file(output, write) -> int:
        path = Path(output)
        if path.parent and not path.parent.exists():
            raise CommandError(f"目录不存在：{path.parent}")
        try:
            return write(path)
        except OSError as exc:
            raise CommandError(f"无法写入 {path}：{exc.strerror or exc}") from None
