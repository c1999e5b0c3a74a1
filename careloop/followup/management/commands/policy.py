"""`careloop policy list | activate SLUG | deactivate SLUG` (F1–F5): the policies and their switch.

Exit status 1 with a Chinese message when the slug is unknown or the service refuses."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from careloop.audit.context import Actor, acting_as
from careloop.followup import services
from careloop.followup.choices import OPEN_STATUSES
from careloop.followup.models import FollowUpTask, Policy


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "回访制度：list 列出；activate SLUG 启用；deactivate SLUG 停用（取消未开始的任务）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="{list,activate,deactivate}"
        )
        sub.add_parser("list", help="列出所有回访制度")
        for name, text in (("activate", "启用回访制度"), ("deactivate", "停用回访制度")):
            p = sub.add_parser(name, help=text)
            p.add_argument("slug", help="制度代码，如 kf-phone")

    def handle(self, *args, action, **options):
        if action == "list":
            return self.list()
        policy = Policy.objects.filter(slug=options["slug"]).first()
        if policy is None:
            slugs = "、".join(Policy.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                f"没有代码为“{options['slug']}”的回访制度；可用：{slugs or '（无）'}"
            )
        with acting_as(Actor(name=f"system:policy {action}")):
            try:
                if action == "activate":
                    services.activate_policy(policy)
                    self.stdout.write(f"已启用回访制度 {policy.slug}（{policy.name}）")
                else:
                    cancelled = services.deactivate_policy(policy)
                    self.stdout.write(
                        f"已停用回访制度 {policy.slug}（{policy.name}），取消任务 {cancelled} 个"
                    )
            except services.ServiceError as exc:
                raise CommandError(str(exc)) from None

    def list(self):
        open_tasks = dict(
            FollowUpTask.objects.filter(status__in=OPEN_STATUSES)
            .order_by()
            .values("policy")
            .annotate(n=Count("pk"))
            .values_list("policy", "n")
        )
        header = ["slug", "名称", "启用", "阶段数", "未完成任务"]
        rows = [
            [p.slug, p.name, "是" if p.is_active else "否", str(p.stage_count),
             str(open_tasks.get(p.pk, 0))]
            for p in Policy.objects.annotate(stage_count=Count("stages")).order_by(
                "-is_active", "slug"
            )
        ]  # fmt: skip
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(_pad(v, w) for v, w in zip(row, widths, strict=True)).rstrip()
            )
