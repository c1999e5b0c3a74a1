"""`careloop calendar load FILE` and `careloop calendar status` (F6).

load: exit 0 when the file is loaded; 1 when it has bad lines (each printed; nothing written).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from careloop.audit.context import Actor, acting_as


class Command(BaseCommand):
    help = "工作日历：load 载入官方放假调休安排（CSV）；status 查看今明两年的载入情况。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load,status}")
        load = sub.add_parser("load", help="载入官方日历 CSV（日期,是否工作日,名称）")
        load.add_argument("file", help="CSV 文件路径（UTF-8 或 GBK）")
        sub.add_parser("status", help="今年和明年：是否已有官方安排、调整天数")

    def handle(self, *args, action, **options):
        if action == "load":
            self.load(options["file"])
        else:
            self.status()

    def load(self, path: str) -> None:
        from careloop.calendars.loader import load_calendar

        with acting_as(Actor(name="system:calendar load")):
            result = load_calendar(path)
        if not result.ok:
            self.stderr.write(result.summary())
            for error in result.errors:
                self.stderr.write(str(error))
            sys.exit(1)
        self.stdout.write(result.summary())

    def status(self) -> None:
        from careloop.calendars.services import year_status

        this_year = timezone.localdate().year
        for year in (this_year, this_year + 1):
            s = year_status(year)
            if s["loaded"] is not None:
                loaded = s["loaded"]
                official = _("已载入官方日历（%(at)s，文件 %(file)s，%(n)d 天）") % {
                    "at": f"{timezone.localtime(loaded.loaded_at):%Y-%m-%d %H:%M}",
                    "file": loaded.source_name or "-",
                    "n": loaded.days,
                }
            elif s["library_official"]:
                official = _("官方安排来自内置日历库")
            else:
                official = _("官方调休安排尚未载入（按周末和已知法定节假日计算）")
            self.stdout.write(
                _("%(year)d 年：%(official)s；调整 %(n)d 天（其中手工 %(manual)d 天）")
                % {"year": year, "official": official, "n": s["overrides"], "manual": s["manual"]}
            )
