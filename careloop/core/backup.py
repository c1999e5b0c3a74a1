"""S6: one-file backups of the whole database, the proof that a backup opens, and its restore.

A backup is a tar archive holding ``manifest.json`` and the database copy: the SQLite file made
with SQLite's online backup API, or a ``pg_dump -Fc`` taken in an exported REPEATABLE READ
snapshot. The manifest's row counts are read from that same copy or snapshot, so a good backup
matches them exactly, and verify and restore recount and compare.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

import psycopg
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from psycopg import sql

import careloop
from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.audit.services import record_event

FORMAT = 1
MANIFEST = "manifest.json"
MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
VENDORS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Uploaded files (C2 case attachments) travel in the archive under this prefix, each with its
# checksum in the manifest, so a restore brings back the files the database points to.
MEDIA_PREFIX = "media/"
MEDIA_DIRS = ("cases",)
REQUIRED = {"format", "vendor", "created_at", "database_file", "sha256", "migrations", "tables"}


class BackupError(CommandError):
    """A refusal or failure with a Chinese message; commands print it without a traceback."""


# ---------------------------------------------------------------- shared helpers


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [row[0] for row in cursor.fetchall()]


def _count(cursor, tables) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    return counts


def _migrations(cursor, tables) -> list[list[str]]:
    if "django_migrations" not in tables:
        return []
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return [list(row) for row in cursor.fetchall()]


def compare(expected: dict[str, int], actual: dict[str, int], where: str) -> list[str]:
    """One Chinese line per table whose count differs between the manifest and ``where``."""
    problems = []
    for table in sorted(expected.keys() | actual.keys()):
        if table not in actual:
            problems.append(f"表 {table}：清单记录 {expected[table]} 行，{where}中没有这张表")
        elif table not in expected:
            problems.append(f"表 {table}：{where}中有 {actual[table]} 行，清单中没有这张表")
        elif expected[table] != actual[table]:
            problems.append(
                f"表 {table}：清单记录 {expected[table]} 行，{where}实际 {actual[table]} 行"
            )
    return problems


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def total_rows(manifest: dict) -> int:
    return sum(manifest["tables"].values())


# ---------------------------------------------------------------- PostgreSQL plumbing


def pg_params(settings_dict: dict, dbname: str | None = None) -> dict:
    """libpq keywords for the configured server (``dbname`` overrides the database)."""
    params = {
        "dbname": dbname or settings_dict["NAME"],
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": str(settings_dict.get("PORT") or ""),
    }
    return {k: v for k, v in params.items() if v}


def _pg_env(params: dict) -> dict:
    # The password goes through the environment, never the command line (visible in `ps`).
    names = {"user": "PGUSER", "password": "PGPASSWORD", "host": "PGHOST", "port": "PGPORT"}
    return {**os.environ, **{names[k]: v for k, v in params.items() if k in names}}


def _run(args: list[str], env: dict) -> None:
    try:
        proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"找不到 {args[0]}：请安装 PostgreSQL 客户端工具") from None
    if proc.returncode:
        raise BackupError(f"{args[0]} 失败：{proc.stderr.strip()}")


def _pg_restore(copy: Path, params: dict, dbname: str, *options: str) -> None:
    # One transaction: a failed restore leaves the target database as it was.
    args = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", *options]
    _run([*args, "-d", dbname, str(copy)], _pg_env(params))


# ---------------------------------------------------------------- backup


def _backup_sqlite(settings_dict: dict, dest: Path) -> dict:
    source = Path(settings_dict["NAME"]).resolve()
    if not source.is_file():
        raise BackupError(f"数据库文件不存在：{source}")
    # Read-only so that a wrong path can never create or change a database.
    src = sqlite3.connect(source.as_uri() + "?mode=ro", uri=True)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)  # one step: a single read transaction, consistent while the app writes
        # The copy stands alone: no -wal/-shm files travel with it.
        dst.execute("PRAGMA journal_mode=DELETE")
        cursor = dst.cursor()
        tables = _sqlite_tables(cursor)
        return {"tables": _count(cursor, tables), "migrations": _migrations(cursor, tables)}
    finally:
        src.close()
        dst.close()


def _backup_postgresql(settings_dict: dict, dest: Path, using: str) -> dict:
    params = pg_params(settings_dict)
    with psycopg.connect(**params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            tables = connections[using].introspection.table_names(cursor)
            info = {"tables": _count(cursor, tables), "migrations": _migrations(cursor, tables)}
        # pg_dump reads the snapshot exported above, so the dump and the counts agree exactly;
        # the snapshot lives only while this transaction stays open.
        args = ["pg_dump", "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(dest)]
        _run([*args, params["dbname"]], _pg_env(params))
    return info


def create_backup(path, using: str = DEFAULT_DB_ALIAS) -> tuple[dict, int]:
    """S6: write the archive to ``path`` (atomically) and return (manifest, archive size)."""
    path = Path(path).resolve()
    if not path.parent.is_dir():
        raise BackupError(f"目录不存在：{path.parent}")
    if path.is_dir():
        raise BackupError(f"{path} 是目录，请给出备份文件名")
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in MEMBERS:
        raise BackupError(f"不支持备份 {vendor} 数据库")
    # Work next to PATH so the final rename is atomic and a half-written PATH never exists.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".careloop-backup-") as work:
        work = Path(work)
        copy = work / MEMBERS[vendor]
        if vendor == "sqlite":
            info = _backup_sqlite(connection.settings_dict, copy)
        else:
            info = _backup_postgresql(connection.settings_dict, copy, using)
        manifest = {
            "format": FORMAT,
            "vendor": vendor,
            "created_at": timezone.now().isoformat(),
            "careloop_version": careloop.__version__,
            "database_file": copy.name,
            "sha256": _sha256(copy),
            "migrations": info["migrations"],
            "tables": info["tables"],
            "media": _media_files(),
        }
        archive = work / "archive.tar"
        with tarfile.open(archive, "w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            member = tarfile.TarInfo(MANIFEST)
            member.size, member.mtime = len(data), int(timezone.now().timestamp())
            tar.addfile(member, io.BytesIO(data))
            tar.add(copy, arcname=copy.name)
            root = _media_root()
            for rel in manifest["media"]:
                tar.add(root / rel, arcname=MEDIA_PREFIX + rel)
        os.replace(archive, path)
    size = path.stat().st_size
    _record(
        Action.BACKUP,
        manifest,
        f"备份到 {path}：{len(manifest['tables'])} 张表，{total_rows(manifest)} 行，"
        f"{size} 字节，sha256 {manifest['sha256']}",
    )
    return manifest, size


def _media_root() -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT)


def _media_files() -> dict[str, str]:
    """{relative path: sha256} of the uploaded files under MEDIA_ROOT that records refer to."""
    root = _media_root()
    found = {}
    for top in MEDIA_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for file in sorted(base.rglob("*")):
            if file.is_file():
                found[file.relative_to(root).as_posix()] = _sha256(file)
    return found


def _check_media(path, work: Path, manifest: dict) -> Path:
    """Extract the archive's uploaded files into ``work``, each checksum proven."""
    target = work / "media"
    media = manifest.get("media") or {}
    if not media:
        return target
    with tarfile.open(path, "r:*") as tar:
        for rel, digest in media.items():
            if rel.startswith("/") or ".." in Path(rel).parts:
                raise BackupError(f"{path} 的清单中有非法的文件路径：{rel}")
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with _member(tar, MEDIA_PREFIX + rel, path) as source, open(out, "wb") as f:
                shutil.copyfileobj(source, f)
            if _sha256(out) != digest:
                raise BackupError(f"校验和不符：备份中的附件 {rel} 已损坏或被修改")
    return target


def _restore_media(extracted: Path) -> int:
    if not extracted.is_dir():
        return 0
    root, count = _media_root(), 0
    for file in extracted.rglob("*"):
        if file.is_file():
            dest = root / file.relative_to(extracted)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, dest)
            count += 1
    return count


def _record(action: str, manifest: dict, message: str) -> None:
    # An archive of a database that was never migrated has no audit table to write to.
    if AuditEvent._meta.db_table in manifest["tables"]:
        record_event(action, message=message)


# ---------------------------------------------------------------- reading an archive


def _member(tar: tarfile.TarFile, name: str, path: Path):
    try:
        f = tar.extractfile(name)
    except KeyError:
        f = None
    if f is None:
        raise BackupError(f"{path} 中没有 {name}，不是完整的 CareLoop 备份")
    return f


def _open(path, work: Path) -> tuple[dict, Path]:
    """Return the manifest and the extracted database copy, its checksum proven."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    try:
        with tarfile.open(path, "r:*") as tar:
            try:
                manifest = json.load(_member(tar, MANIFEST, path))
            except ValueError:
                raise BackupError(f"{path} 中的 manifest.json 无法解析") from None
            if not isinstance(manifest, dict) or not manifest.keys() >= REQUIRED:
                raise BackupError(f"{path} 中的 manifest.json 缺少必要字段")
            if manifest["format"] != FORMAT:
                raise BackupError(f"备份格式版本 {manifest['format']} 不受支持（应为 {FORMAT}）")
            if MEMBERS.get(manifest["vendor"]) != manifest["database_file"]:
                raise BackupError(f"{path} 的清单中数据库类型或文件名无效")
            copy = work / manifest["database_file"]
            with _member(tar, manifest["database_file"], path) as source, open(copy, "wb") as out:
                shutil.copyfileobj(source, out)
    except (tarfile.TarError, EOFError):
        raise BackupError(f"{path} 不是有效的备份文件（无法作为 tar 归档读取）") from None
    actual = _sha256(copy)
    if actual != manifest["sha256"]:
        raise BackupError(
            "校验和不符：备份中的数据库文件已损坏或被修改"
            f"（清单 sha256 {manifest['sha256']}，实际 {actual}）"
        )
    return manifest, copy


def _fail_on(problems: list[str], heading: str) -> None:
    if problems:
        raise BackupError(heading + "\n" + "\n".join(problems))


# ---------------------------------------------------------------- verify


def verify_backup(path, using: str = DEFAULT_DB_ALIAS) -> dict:
    """S6: prove the copy opens and its row counts match the manifest; return the manifest."""
    with tempfile.TemporaryDirectory(prefix="careloop-verify-") as work:
        manifest, copy = _open(path, Path(work))
        _check_media(path, Path(work), manifest)
        if manifest["vendor"] == "sqlite":
            actual = _verify_sqlite(copy)
        else:
            actual = _verify_postgresql(copy, using)
    _fail_on(compare(manifest["tables"], actual, "副本"), "校验失败：行数与清单不符")
    return manifest


def _verify_sqlite(copy: Path) -> dict[str, int]:
    try:
        conn = sqlite3.connect(copy.as_uri() + "?mode=ro", uri=True)
        try:
            cursor = conn.cursor()
            result = [row[0] for row in cursor.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise BackupError("校验失败：SQLite 完整性检查未通过：" + "；".join(result[:10]))
            return _count(cursor, _sqlite_tables(cursor))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"校验失败：副本无法作为 SQLite 数据库打开（{exc}）") from None


def _verify_postgresql(copy: Path, using: str) -> dict[str, int]:
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise BackupError(
            "校验 PostgreSQL 备份需要一台 PostgreSQL 服务器：请把 DATABASE_URL 指向它"
            "（将在其中建一个临时数据库，校验后删除）"
        )
    params = pg_params(connection.settings_dict)
    name = f"careloop_verify_{secrets.token_hex(6)}"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        _pg_restore(copy, params, name)
        with psycopg.connect(**{**params, "dbname": name}) as conn, conn.cursor() as cursor:
            return _count(cursor, connections[using].introspection.table_names(cursor))
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# ---------------------------------------------------------------- restore


def restore_backup(path, using: str = DEFAULT_DB_ALIAS, force: bool = False) -> tuple[dict, list]:
    """S6: restore the archive into the configured database; return (manifest, extra tables).

    Refused, with nothing changed, when the vendors differ, the checksum fails, or the target
    already has tables (unless ``force``). Extra tables are ones the target kept that the
    backup does not have (PostgreSQL ``--clean`` drops only what the archive contains).
    """
    connection = connections[using]
    with tempfile.TemporaryDirectory(prefix="careloop-restore-") as work:
        manifest, copy = _open(path, Path(work))
        media = _check_media(path, Path(work), manifest)
        if manifest["vendor"] != connection.vendor:
            raise BackupError(
                f"这是 {VENDORS[manifest['vendor']]} 备份，"
                f"不能恢复到 {VENDORS.get(connection.vendor, connection.vendor)}"
            )
        existing = connection.introspection.table_names()
        if existing and not force:
            raise BackupError(
                f"目标数据库已有 {len(existing)} 张表，未做任何更改。"
                "如确定要用备份覆盖它，请加 --force"
            )
        if connection.vendor == "sqlite":
            _restore_sqlite(copy, connection)
        else:
            _restore_postgresql(copy, connection, force)
        _restore_media(media)
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        actual = _count(cursor, [t for t in tables if t in manifest["tables"]])
    problems = compare(manifest["tables"], actual, "恢复后的数据库")
    # The event goes into the restored database, after the recount it must not disturb.
    _record(
        Action.RESTORE,
        manifest,
        f"从 {Path(path).resolve()} 恢复（备份于 {manifest['created_at']}，"
        f"{len(manifest['tables'])} 张表，{total_rows(manifest)} 行"
        + (f"；行数不符：{'；'.join(problems)}" if problems else "")
        + "）",
    )
    _fail_on(problems, "恢复已完成，但行数与备份清单不符：")
    return manifest, [t for t in tables if t not in manifest["tables"]]


def _restore_sqlite(copy: Path, connection) -> None:
    # Django's own connection must not hold the file while the backup API replaces its pages.
    connection.close()
    src = sqlite3.connect(copy.as_uri() + "?mode=ro", uri=True)
    dst = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _restore_postgresql(copy: Path, connection, force: bool) -> None:
    params = pg_params(connection.settings_dict)
    _pg_restore(copy, params, params["dbname"], *(["--clean", "--if-exists"] if force else []))
