"""`careloop flush`: Django's whole-database wipe, which must also empty the append-only audit
table. Used by test teardown; refused when CARELOOP_PRODUCTION is set."""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from careloop.audit import triggers


class Command(FlushCommand):
    def handle(self, **options):
        if settings.PRODUCTION:
            raise CommandError("生产环境禁止清空数据库（会删除审计日志）")
        connection = connections[options["database"]]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET careloop.audit_purge = 'on'")
            try:
                return super().handle(**options)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("RESET careloop.audit_purge")
        triggers.drop(connection)
        try:
            return super().handle(**options)
        finally:
            triggers.create(connection)
