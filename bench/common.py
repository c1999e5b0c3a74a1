"""What the benchmarks that work on a template database share: build the data once into a
template (a SQLite file, or a PostgreSQL database used as CREATE DATABASE … TEMPLATE), give each
measurement a fresh copy, run the measuring code in a subprocess against it (its time and
memory are its own), and drop everything at the end."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


class TemplateScratch:
    """A template database (built once) and fresh copies of it, with the environment the
    subprocesses run with. ``worker`` is the module run as ``python -m <worker> ACTION JSON``;
    stderr lines containing any of ``noise`` are expected output, not news."""

    def __init__(
        self,
        vendor: str,
        tmp: Path,
        *,
        server: str,
        db: str,
        template_db: str,
        worker: str,
        noise: tuple[str, ...] = (),
    ):
        import os

        self.vendor, self.tmp = vendor, tmp
        self.server, self.db, self.template_db = server, db, template_db
        self.worker_module, self.noise = worker, noise
        self.env = {
            **os.environ,
            "CARELOOP_VAR_DIR": str(tmp / "var"),  # dev keys shared by every subprocess
            "CARELOOP_QUIET_DEV_KEYS": "1",
            "CARELOOP_SCHEDULER": "0",
            "DJANGO_SETTINGS_MODULE": "careloop.settings",
            "PYTHONPATH": str(ROOT),
        }
        self.counter = 0
        self.template = tmp / "template.sqlite3"
        self.current: Path | None = None
        if vendor == "postgresql":
            self.admin_url = self._url("postgres")

    def _url(self, name: str) -> str:
        return urlunsplit(urlsplit(self.server)._replace(path=f"/{name}"))

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            for statement in statements:
                conn.execute(statement)

    def worker(self, action: str, **args) -> dict:
        cmd = [sys.executable, "-m", self.worker_module, action, json.dumps(args)]
        done = subprocess.run(cmd, env=self.env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            sys.stdout.write(done.stdout)
            sys.stdout.write(done.stderr)
            raise RuntimeError(f"{self.vendor}: worker {action} failed ({done.returncode})")
        other = [
            line
            for line in done.stderr.splitlines()
            if line.strip() and not any(n in line for n in self.noise)
        ]
        if other:
            sys.stdout.write("\n" + "\n".join(f"    stderr: {line}" for line in other) + "\n")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def build(self, **args) -> dict:
        """Migrate an empty template and have the worker's ``build`` fill it."""
        if self.vendor == "postgresql":
            self._admin(
                f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)",
                f"DROP DATABASE IF EXISTS {self.template_db} WITH (FORCE)",
                f"CREATE DATABASE {self.template_db}",
            )
            self.env["DATABASE_URL"] = self._url(self.template_db)
        else:
            self.env["DATABASE_URL"] = f"sqlite:///{self.template}"
        subprocess.run(
            [sys.executable, "-m", "careloop", "migrate", "-v0"], env=self.env, cwd=ROOT, check=True
        )
        built = self.worker("build", **args)
        if self.vendor == "sqlite":
            with sqlite3.connect(self.template) as conn:  # everything into the main file
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            built["file_mb"] = self.template.stat().st_size / 1e6
        return built

    def fresh(self) -> None:
        """A copy of the template: CREATE DATABASE … TEMPLATE, or a file copy."""
        if self.vendor == "postgresql":
            self._admin(
                f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)",
                f"CREATE DATABASE {self.db} TEMPLATE {self.template_db}",
            )
            self.env["DATABASE_URL"] = self._url(self.db)
            return
        self._remove_copy()
        self.counter += 1
        self.current = self.tmp / f"run-{self.counter}.sqlite3"
        shutil.copyfile(self.template, self.current)
        self.env["DATABASE_URL"] = f"sqlite:///{self.current}"

    def _remove_copy(self) -> None:
        if self.current is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.current) + suffix).unlink(missing_ok=True)
            self.current = None

    def drop(self) -> None:
        if self.vendor == "postgresql":
            self._admin(
                f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)",
                f"DROP DATABASE IF EXISTS {self.template_db} WITH (FORCE)",
            )
        else:
            self._remove_copy()


def pg_reachable(server: str) -> str | None:
    """None when the PostgreSQL server answers, else the first line of why not."""
    try:
        import psycopg

        with psycopg.connect(urlunsplit(urlsplit(server)._replace(path="/postgres")),
                             connect_timeout=5):  # fmt: skip
            return None
    except Exception as exc:  # any failure means "skip PostgreSQL"
        return str(exc).strip().splitlines()[0]


def timed_step(label: str, fn):
    print(f"  {label} …", end="", flush=True)
    start = time.perf_counter()
    result = fn()
    print(f" {time.perf_counter() - start:.1f} s", flush=True)
    return result


def fingerprint(files) -> str:
    """Which version of the code was measured (the work tree may have uncommitted changes):
    HEAD, whether ``files`` differ from it, and a digest of their contents."""
    import hashlib

    digest = hashlib.sha256()
    for name in files:
        path = ROOT / name
        digest.update(path.read_bytes() if path.exists() else b"-")
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", *files], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    changes = " + uncommitted changes" if dirty else ""
    return f"HEAD {head or '?'}{changes}, code sha256 {digest.hexdigest()[:12]}"


def profile_report(path: Path, *, careloop: int = 10, everything: int = 10, own: int = 10) -> str:
    """The top careloop functions by cumulative time, then the top of everything by cumulative
    and by own time, paths shortened."""
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    out.write("— careloop code, by cumulative time —\n")
    stats.sort_stats("cumulative").print_stats(r"careloop/", careloop)
    out.write("— everything, by cumulative time —\n")
    stats.sort_stats("cumulative").print_stats(everything)
    out.write("— everything, by own time —\n")
    stats.sort_stats("tottime").print_stats(own)
    text = out.getvalue()
    for prefix in sorted({str(ROOT), *map(str, sys.path)}, key=len, reverse=True):
        if len(prefix) > 1:
            text = text.replace(prefix + "/", "")
    skip = ("Ordered by", "List reduced", "Random listing", str(path), "function calls")
    return "\n".join(
        line for line in text.splitlines() if line.strip() and not any(s in line for s in skip)
    )


def each_database(name: str, dbs, pg_server: str, bench_database) -> tuple[dict, list[str]]:
    """Run ``bench_database(vendor, tmp, problems)`` for every database in ``dbs`` inside one
    scratch directory (removed afterwards), skipping PostgreSQL when it cannot be reached.
    Returns ({vendor: result}, problems) — the loop every benchmark's run() shared."""
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix=f"careloop-bench-{name}-"))
    problems: list[str] = []
    results = {}
    try:
        for vendor in dbs:
            print(f"[{vendor}]", flush=True)
            if vendor == "postgresql" and (why := pg_reachable(pg_server)):
                print(f"  PostgreSQL unreachable at {pg_server}: skipped ({why})", flush=True)
                continue
            results[vendor] = bench_database(vendor, tmp, problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results, problems
