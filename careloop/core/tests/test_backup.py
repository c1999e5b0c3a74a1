"""S6: backup, verify and restore, on whichever database the tests run (SQLite or PostgreSQL).

The tests use committed data (transaction=True) because the backup reads the database through
its own connection, as it would beside the running application. Restores into an empty
database run `careloop restore` in a subprocess, as an operator would.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tarfile
from contextlib import closing
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from careloop.accounts.models import User
from careloop.accounts.roles import Role
from careloop.audit.models import AuditEvent
from careloop.core import backup
from careloop.org.models import Department

AUDIT = "audit_auditevent"
ORG_CODES = ["GK", "KFZX", "XNK", "YWK"]  # the conftest `org` fixture's departments


def url_for(name: str) -> str:
    """DATABASE_URL for database ``name`` on the server the tests use (SQLite: a file path)."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    s = connection.settings_dict
    return (
        f"postgres://{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@{s['HOST']}:{s['PORT']}/{name}"
    )


def connect_raw(name: str):
    """A plain DB-API connection, the same kind for both databases compared."""
    if connection.vendor == "sqlite":
        return sqlite3.connect(name)
    import psycopg

    return psycopg.connect(**backup.pg_params(connection.settings_dict, dbname=name))


def dump(name: str) -> dict[str, list[dict]]:
    """Every row of every table, as dicts in a stable order."""
    with closing(connect_raw(name)) as conn:
        cursor = conn.cursor()
        result = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            result[table] = sorted(rows, key=repr)
        return result


def source_name() -> str:
    return connection.settings_dict["NAME"]


def careloop(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess:
    # Same CARELOOP_VAR_DIR (inherited) so that the subprocess has the same encryption keys.
    env = {**os.environ, "CARELOOP_QUIET_DEV_KEYS": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "careloop", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def rewrite(archive, dest, *, manifest=None, database=None):
    """Copy an archive, changing its manifest and/or database bytes on the way."""
    with tarfile.open(archive) as tar:
        data = json.load(tar.extractfile(backup.MANIFEST))
        db = tar.extractfile(data["database_file"]).read()
    if manifest:
        manifest(data)
    if database:
        db = database(db)
    with tarfile.open(dest, "w") as tar:
        for name, content in [
            (backup.MANIFEST, json.dumps(data).encode()),
            (data["database_file"], db),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return dest


@pytest.fixture
def empty_target(tmp_path):
    """The name of an empty database on the same server, dropped afterwards."""
    if connection.vendor == "sqlite":
        yield str(tmp_path / "restored.sqlite3")
        return
    import psycopg
    from psycopg import sql

    name = f"careloop_restore_{secrets.token_hex(4)}"
    params = backup.pg_params(connection.settings_dict)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def archive(org, tmp_path):
    path = tmp_path / "careloop.tar"
    call_command("backup", str(path), stdout=io.StringIO())
    return path


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_empty_database_gives_identical_rows_S6(
    org, make_user, tmp_path, empty_target
):
    make_user("nurse.xnk", Role.NURSE, departments=[org["cardio"]], phone="13800138000")
    make_user("agent1", Role.AGENT, departments=[org["service"]], phone="13900139000")
    before = dump(source_name())
    path = tmp_path / "careloop.tar"

    out = io.StringIO()
    call_command("backup", str(path), stdout=out)
    assert "备份完成" in out.getvalue()
    assert sorted(os.listdir(tmp_path)) == ["careloop.tar"]  # no temp files left beside it
    with tarfile.open(path) as tar:
        assert sorted(tar.getnames()) == [
            "database." + ("sqlite3" if connection.vendor == "sqlite" else "pgdump"),
            "manifest.json",
        ]
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"] == {table: len(rows) for table, rows in before.items()}
    assert manifest["tables"]["org_department"] == 4
    assert manifest["tables"]["accounts_user"] == 2
    applied = sorted(before["django_migrations"], key=lambda r: r["id"])
    assert manifest["migrations"] == [[r["app"], r["name"]] for r in applied]
    assert list(AuditEvent.objects.filter(action="backup").values_list("actor_name")) == [
        ("system:backup",)
    ]

    verified = careloop("backup", "--verify", str(path), database_url=url_for(source_name()))
    assert verified.returncode == 0, verified.stderr
    assert "校验通过" in verified.stdout

    restored = careloop("restore", str(path), database_url=url_for(empty_target))
    assert restored.returncode == 0, restored.stderr
    assert "恢复完成" in restored.stdout

    after = dump(empty_target)
    # The restore's own audit event is the only row the backup did not have.
    before_events, after_events = before.pop(AUDIT), after.pop(AUDIT)
    new_events = [e for e in after_events if e not in before_events]
    assert [(e["action"], e["actor_name"]) for e in new_events] == [("restore", "system:backup")]
    assert len(after_events) == len(before_events) + 1
    assert {t: len(rows) for t, rows in after.items()} == {
        t: len(rows) for t, rows in before.items()
    }
    assert after == before
    assert sorted((d["code"], d["kind"]) for d in after["org_department"]) == [
        ("GK", "inpatient"),
        ("KFZX", "functional"),
        ("XNK", "inpatient"),
        ("YWK", "functional"),
    ]
    phone = User._meta.get_field("phone")
    phones = {u["username"]: u["phone"] for u in after["accounts_user"]}
    assert phones["nurse.xnk"].startswith("enc1:")
    assert phone.from_db_value(phones["nurse.xnk"], None, None) == "13800138000"
    assert phone.from_db_value(phones["agent1"], None, None) == "13900139000"


@pytest.mark.django_db(transaction=True)
def test_verify_detects_a_changed_byte_S6(archive, tmp_path):
    def flip(db: bytes) -> bytes:
        n = len(db) // 2
        return db[:n] + bytes([db[n] ^ 0xFF]) + db[n + 1 :]

    bad = rewrite(archive, tmp_path / "bad.tar", database=flip)
    with pytest.raises(CommandError, match="校验和不符"):
        call_command("backup", "--verify", str(bad))


@pytest.mark.django_db(transaction=True)
def test_verify_names_the_table_whose_count_differs_S6(archive, tmp_path):
    def wrong_count(manifest):
        manifest["tables"]["org_department"] = 5

    bad = rewrite(archive, tmp_path / "bad.tar", manifest=wrong_count)
    with pytest.raises(CommandError, match="表 org_department：清单记录 5 行，副本实际 4 行"):
        call_command("backup", "--verify", str(bad))


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_with_tables_and_changes_nothing_S6(archive):
    Department.objects.create(code="EK", name="儿科病区", kind="inpatient")
    before = dump(source_name())
    with pytest.raises(CommandError, match=r"目标数据库已有 \d+ 张表，未做任何更改"):
        call_command("restore", str(archive))
    assert dump(source_name()) == before


@pytest.mark.django_db(transaction=True)
def test_restore_with_force_replaces_the_database_S6(archive):
    Department.objects.create(code="EK", name="儿科病区", kind="inpatient")
    call_command("restore", str(archive), "--force", stdout=io.StringIO())
    assert sorted(Department.objects.values_list("code", flat=True)) == ORG_CODES
    # The backup's own event was written after the copy, so only the restore's remains.
    assert list(
        AuditEvent.objects.filter(action__in=["backup", "restore"]).values_list("action")
    ) == [("restore",)]


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_backup_of_the_other_database_kind_S6(archive, tmp_path):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"

    def swap(manifest):
        manifest["vendor"], manifest["database_file"] = other, backup.MEMBERS[other]

    foreign = rewrite(archive, tmp_path / "foreign.tar", manifest=swap)
    before = dump(source_name())
    message = {
        "sqlite": "这是 PostgreSQL 备份，不能恢复到 SQLite",
        "postgresql": "这是 SQLite 备份，不能恢复到 PostgreSQL",
    }[connection.vendor]
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(foreign), "--force")
    assert dump(source_name()) == before


def _not_tar(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("这不是备份", encoding="utf-8")
    return path


def _no_manifest(tmp_path):
    path = tmp_path / "empty.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("database.sqlite3")
        tar.addfile(info, io.BytesIO(b""))
    return path


@pytest.mark.parametrize(
    "command", [["backup", "--verify"], ["restore"]], ids=["verify", "restore"]
)
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.tar", "备份文件不存在"),
        (_not_tar, "不是有效的备份文件"),
        (_no_manifest, "中没有 manifest.json"),
    ],
    ids=["missing", "not-tar", "no-manifest"],
)
def test_bad_archive_is_refused_with_a_chinese_message_S6(command, make, message, tmp_path):
    with pytest.raises(CommandError, match=message):
        call_command(*command, str(make(tmp_path)))


def test_bad_archive_exits_non_zero_without_traceback_S6(tmp_path):
    result = careloop("restore", str(_not_tar(tmp_path)))
    assert result.returncode == 1
    assert "不是有效的备份文件" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db(transaction=True)
def test_attachments_travel_in_the_backup_and_come_back_on_restore_S6_C2(org, tmp_path, settings):
    from pathlib import Path

    stored = Path(settings.MEDIA_ROOT) / "cases" / "2026" / "11" / "letter.pdf"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"%PDF-1.4 complaint letter")
    path = tmp_path / "with-media.tar"
    call_command("backup", str(path), stdout=io.StringIO())
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile(backup.MANIFEST))
        assert tar.extractfile("media/cases/2026/11/letter.pdf").read() == stored.read_bytes()
    assert list(manifest["media"]) == ["cases/2026/11/letter.pdf"]
    stored.unlink()
    call_command("restore", str(path), "--force", stdout=io.StringIO())
    assert stored.read_bytes() == b"%PDF-1.4 complaint letter"


@pytest.mark.django_db(transaction=True)
def test_verify_detects_a_changed_attachment_S6(org, tmp_path, settings):
    from pathlib import Path

    stored = Path(settings.MEDIA_ROOT) / "cases" / "a.txt"
    stored.parent.mkdir(parents=True)
    stored.write_bytes("投诉信".encode())
    path = tmp_path / "b.tar"
    call_command("backup", str(path), stdout=io.StringIO())
    bad = tmp_path / "bad.tar"
    with tarfile.open(path) as src, tarfile.open(bad, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "media/cases/a.txt":
                data = "假投诉信".encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(CommandError, match=r"附件 cases/a\.txt 已损坏"):
        call_command("backup", "--verify", str(bad))
