"""`careloop check --deploy` with the production environment of the README: no warnings."""

from __future__ import annotations

import base64
import os
import subprocess
import sys


def production_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARELOOP_", "DJANGO_"))}
    env.update(
        {
            "CARELOOP_PRODUCTION": "true",
            "CARELOOP_SECRET_KEY": base64.b64encode(os.urandom(48)).decode(),
            "CARELOOP_ENCRYPTION_KEYS": "k2026:" + base64.b64encode(os.urandom(32)).decode(),
            "CARELOOP_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
            "CARELOOP_ALLOWED_HOSTS": "careloop.hospital.local",
            "CARELOOP_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://careloop:secret@127.0.0.1:5432/careloop",
        }
    )
    return env


def test_check_deploy_has_no_warnings_in_production(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "careloop", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "开发密钥" not in result.stderr


def test_production_refuses_to_start_without_keys(tmp_path):
    env = production_env(tmp_path)
    del env["CARELOOP_ENCRYPTION_KEYS"]
    result = subprocess.run(
        [sys.executable, "-m", "careloop", "check"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "生产环境必须设置" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "dev-keys.json").exists()
