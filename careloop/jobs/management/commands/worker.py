"""`careloop worker`: runs background tasks (django-tasks-db) and the periodic scheduler."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from careloop.jobs import scheduler

logger = logging.getLogger("careloop.jobs")


def _scheduler_loop(stop: threading.Event, every: float) -> None:
    while not stop.is_set():
        try:
            scheduler.tick()
        except Exception:  # a database hiccup must not kill the scheduler thread
            logger.exception("scheduler tick failed; retrying in %.0f s", every)
        finally:
            close_old_connections()
            connection.close()
        stop.wait(every)


class Command(BaseCommand):
    help = "运行后台任务处理进程（含定时任务调度）"

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="无任务时轮询间隔（秒）")
        parser.add_argument(
            "--tick", type=float, default=15.0, help="调度器检查到期任务的间隔（秒）"
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="只处理任务，不调度定时任务"
        )
        parser.add_argument("--batch", action="store_true", help="处理完当前队列后退出")

    def handle(self, *args, **options):
        stop = threading.Event()
        if settings.SCHEDULER_ENABLED and not options["no_scheduler"]:
            thread = threading.Thread(
                target=_scheduler_loop,
                args=(stop, options["tick"]),
                name="careloop-scheduler",
                daemon=True,
            )
            thread.start()
            self.stdout.write("定时任务调度已启动")
        try:
            call_command(
                "db_worker",
                queue_name="*",
                interval=options["interval"],
                batch=options["batch"],
                reload=False,
                verbosity=options["verbosity"],
            )
        finally:
            stop.set()
