"""`careloop report …` — the statistics from the command line, for operators and hospital
scripts (R1, R3, R4):

- ``report close MONTH`` writes (or rewrites, after late calls or an import) a month's
  department snapshots, which the ranking reads (R4);
- ``report summary PERIOD [--refresh]`` generates (or regenerates) the leadership summary of a
  finished month or quarter (R3), as the nightly ``reports-monthly`` job does;
- ``report monthly MONTH [--department CODE] [--format xlsx|pdf] --output PATH`` writes the R1
  table laid out like the paper form, for the whole hospital or one department.

Every run is written to the audit log as the command's actor.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from careloop.audit.choices import Action
from careloop.audit.context import Actor, acting_as
from careloop.audit.services import record_event
from careloop.reports import periods


class Command(BaseCommand):
    help = "统计报表：close 生成月度统计快照；summary 生成领导汇总报告；monthly 导出科室月度统计表"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{close,summary,monthly}")
        close = sub.add_parser("close", help="生成（或重新生成）某月的科室月度统计快照")
        close.add_argument("period", help="月份，如 2026-10")
        summary = sub.add_parser("summary", help="生成（或重新生成）领导汇总报告")
        summary.add_argument("period", help="月份 2026-10 或季度 2026-Q3")
        summary.add_argument(
            "--refresh", action="store_true", help="先重新生成该期间各月的统计快照（迟到的回访）"
        )
        monthly = sub.add_parser("monthly", help="导出科室月度统计表（R1）")
        monthly.add_argument("period", help="月份，如 2026-10")
        monthly.add_argument("--department", default="", help="科室编码（不填为全院）")
        monthly.add_argument("--format", choices=["xlsx", "pdf"], default="xlsx", dest="fmt")
        monthly.add_argument("--output", required=True, help="输出文件路径")
        monthly.add_argument("--reporter", default="", help="上报人（表头“上报人”一栏）")

    def handle(self, *args, action, period, **options):
        try:
            when = periods.parse(period)
        except periods.PeriodError as exc:
            raise CommandError(str(exc)) from exc
        with acting_as(Actor(name="system:command")):
            if action == "close":
                self._close(when)
            elif action == "summary":
                self._summary(when, refresh=options["refresh"])
            else:
                self._monthly(when, **options)

    def _close(self, when):
        from django.utils import timezone

        from careloop.reports.services import close_month

        if when.kind != "month":
            raise CommandError("close 只接受月份，如 2026-10")
        if when.end > timezone.localdate():
            raise CommandError(f"{when.label} 尚未结束，不能生成月度统计快照")
        n = close_month(when)
        record_event(
            Action.UPDATE,
            object_type="reports.monthlysnapshot",
            object_repr=f"{when.label} 科室月度统计（{n} 个科室）",
            message="careloop report close",
        )
        self.stdout.write(f"{when.label}：已生成 {n} 个科室的月度统计快照")

    def _summary(self, when, *, refresh):
        from careloop.reports.summary import SummaryError, generate

        try:
            summary = generate(when, refresh=refresh)
        except SummaryError as exc:
            raise CommandError(str(exc)) from exc
        record_event(Action.UPDATE, obj=summary, message="careloop report summary")
        self.stdout.write(f"{when.label}：领导汇总报告已生成（PDF {len(summary.pdf):,} 字节）")

    def _monthly(self, when, *, department, fmt, output, reporter, **_):
        from careloop.org.models import Department
        from careloop.reports import r1
        from careloop.reports.r1_excel import xlsx_bytes
        from careloop.reports.r1_pdf import pdf_bytes

        if when.kind != "month":
            raise CommandError("monthly 只接受月份，如 2026-10")
        dept = None
        if department:
            dept = Department.objects.filter(code=department).first()
            if dept is None:
                raise CommandError(f"科室编码“{department}”不存在")
        table = r1.build(when, allowed=None, department=dept)
        content = (xlsx_bytes if fmt == "xlsx" else pdf_bytes)(table, reporter=reporter)
        path = Path(output)
        try:
            path.write_bytes(content)
        except OSError as exc:
            raise CommandError(f"无法写入 {path}：{exc.strerror}") from exc
        record_event(
            Action.EXPORT,
            object_type="reports.monthlysnapshot",
            object_repr=f"科室月度统计表 {when.label} {dept.name if dept else '全院'}（{fmt}）",
            message=f"careloop report monthly → {path}",
        )
        self.stdout.write(f"已写入 {path}（{len(table.rows)} 行）")
