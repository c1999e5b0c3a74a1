"""`careloop demo [--seed S]`: build (or complete) the fictional demo hospital."""

from django.core.management.base import BaseCommand

from careloop.audit.context import Actor, acting_as
from careloop.demo.builder import build_demo
from careloop.demo.history import build_history
from careloop.demo.loop import build_loop
from careloop.demo.patients import build_patients, plan_demo


class Command(BaseCommand):
    help = "建立演示医院（可重复运行，不会重复创建）"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（姓名等）")
        parser.add_argument("--password", default=None, help="所有新建演示账户使用此密码（培训用）")
        parser.add_argument(
            "--reset-passwords", action="store_true", help="为已存在的演示账户重新生成密码"
        )

    def handle(self, *args, seed, password, reset_passwords, **options):
        with acting_as(Actor(name="system:demo")):
            result = build_demo(seed=seed, password=password, reset_passwords=reset_passwords)
            visits = build_patients(seed=seed)
            planned = plan_demo()
            history = build_history(seed=seed)
            loop = build_loop()
        self.stdout.write(
            f"演示医院就绪：新建科室 {result.created_departments} 个，账户 {result.created_users} 个，"
            f"排班 {result.created_roster} 条，就诊 {visits['created']} 条"
        )
        self.stdout.write(
            f"回访制度已启用：{'、'.join(planned['policies'])}；回访任务新建 {planned['created']} 条，"
            f"今日待回访 {planned['due']} 条"
        )
        if history["completed"]:
            self.stdout.write(
                f"已完成的回访（统计示例）：{history['completed']} 条；"
                f"已生成月度统计与领导汇总 {history['months']} 份"
            )
        if loop["cases"]:
            self.stdout.write(
                f"投诉与处置示例：案件 {loop['cases']} 件，处置反馈表 {loop['disposal']} 份，"
                f"临床转介 {loop['escalations']} 件"
            )
        shown = [a for a in result.accounts if a.password]
        self.stdout.write("\n演示账户（用户名 · 姓名 · 角色 · 科室 · 密码）：")
        for a in result.accounts:
            secret = (
                a.password
                if a.password
                else "（已在首次创建时显示；可用 careloop demo --reset-passwords 重置）"
            )
            self.stdout.write(
                f"  {a.username:<22} {a.name:<6} {'、'.join(a.roles):<10} {','.join(a.departments):<8} {secret}"
            )
        if shown:
            self.stdout.write(self.style.WARNING("\n以上密码只显示这一次，请妥善保存。"))
