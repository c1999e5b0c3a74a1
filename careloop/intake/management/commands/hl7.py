"""`careloop hl7 listen [--host 127.0.0.1] [--port 2575]`: the HL7 v2 MLLP listener (P4.2)."""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection


class Command(BaseCommand):
    help = "HL7 v2 接口（MLLP）。listen：接收 HIS 的 ADT 消息并应答。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="listen")
        listen = sub.add_parser("listen", help="监听 MLLP 端口，接收 ADT 消息")
        listen.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
        listen.add_argument("--port", type=int, default=2575, help="监听端口（默认 2575）")
        listen.add_argument(
            "--workers",
            type=int,
            default=1,
            help="数据库工作线程数（PostgreSQL 可大于 1；SQLite 固定为 1）",
        )
        listen.add_argument(
            "--batch", type=int, default=100, help="一次事务最多合并提交的消息数（默认 100）"
        )

    def handle(self, *args, action, host, port, workers, batch, **options):
        from careloop.intake.hl7.listener import serve

        if workers < 1 or batch < 1:
            raise CommandError("--workers 和 --batch 必须不小于 1")
        try:
            connection.ensure_connection()  # fail now, in Chinese, if the database is down
        except DatabaseError as exc:
            raise CommandError(f"无法连接数据库：{exc}") from None
        connection.close()  # the worker threads open their own

        def ready(address, used_workers):
            self.stdout.write(
                f"HL7 MLLP 监听 {address[0]}:{address[1]}（数据库 {connection.vendor}，"
                f"工作线程 {used_workers}）。按 Ctrl+C 停止。"
            )
            self.stdout.flush()

        try:
            messages, transactions = asyncio.run(
                serve(host, port, workers=workers, max_batch=batch, ready=ready)
            )
        except OSError as exc:
            raise CommandError(f"无法监听 {host}:{port}：{exc.strerror or exc}") from None
        self.stdout.write(f"HL7 监听已停止：共处理 {messages} 条消息，{transactions} 个事务。")
