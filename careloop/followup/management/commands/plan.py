import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from careloop.audit.context import Actor, acting_as


class Command(BaseCommand):
    help = "按启用的回访制度生成和更新回访任务（F1–F7、E1–E7、P5）；可重复执行，结果不变。"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="按此日期计算（YYYY-MM-DD），默认今天")
        parser.add_argument("--full", action="store_true", help="全量重排：逐个核对所有就诊")

    def handle(self, *args, as_of=None, full=False, **options):
        from careloop.followup.planner import plan

        day = None
        if as_of:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError as exc:
                raise CommandError(f"--as-of 日期格式不对：{as_of}（应为 YYYY-MM-DD）") from exc
        with acting_as(Actor(name="command:plan")):
            summary = plan(as_of=day, full=full)
        if not summary["policies"]:
            self.stdout.write("没有启用的回访制度（careloop policy activate SLUG）")
        self.stdout.write(
            "计划日期 {as_of}  制度 {p}  就诊 {visits}  新建 {created}  更新 {updated}  "
            "不予回访 {excluded}  取消 {cancelled}  恢复 {restored}  事件 {events}  "
            "开放 {opened}  分配 {assigned}  收回 {released}  用时 {seconds}s".format(
                p=",".join(summary["policies"]) or "-", **summary
            )
        )
