"""Reading configuration from the environment, with the embedded defaults.

Every variable read here is listed in the README's configuration reference.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from pathlib import Path

TRUE = {"1", "true", "yes", "on", "是"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in TRUE


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        sys.exit(f"配置错误：环境变量 {name} 应为整数，实际为 {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _warn(message: str) -> None:
    # Printed to stderr so that command output (e.g. a dumped table) stays clean.
    print(f"[careloop] 警告：{message}", file=sys.stderr)


class DevKeys:
    """Development keys generated on first use under var/ (never for production).

    Production sets CARELOOP_SECRET_KEY, CARELOOP_ENCRYPTION_KEYS and CARELOOP_BLIND_INDEX_KEY;
    without them the embedded default creates var/dev-keys.json once and warns every start.
    """

    def __init__(self, var_dir: Path):
        self.path = var_dir / "dev-keys.json"

    def load(self) -> dict:
        if self.path.exists():
            return json.loads(self.path.read_text(encoding="utf-8"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "secret_key": secrets.token_urlsafe(50),
            "encryption_keys": [["k1", base64.b64encode(secrets.token_bytes(32)).decode()]],
            "blind_index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        self.save(data)
        return data

    def save(self, data: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)


def load_keys(var_dir: Path, production: bool) -> tuple[str, list[tuple[str, str]], str, bool]:
    """Return (secret_key, [(key_id, base64_key), …] newest first, blind_index_key, is_dev)."""
    secret = env_str("CARELOOP_SECRET_KEY")
    enc = env_str("CARELOOP_ENCRYPTION_KEYS")
    bidx = env_str("CARELOOP_BLIND_INDEX_KEY")
    if secret and enc and bidx:
        keys = []
        for item in enc.split(","):
            kid, sep, key = item.strip().partition(":")
            if not sep or not kid or not key:
                sys.exit(
                    "配置错误：CARELOOP_ENCRYPTION_KEYS 的格式应为 “密钥编号:base64密钥”，多个以逗号分隔"
                )
            keys.append((kid, key))
        return secret, keys, bidx, False
    if production:
        sys.exit(
            "配置错误：生产环境必须设置 CARELOOP_SECRET_KEY、CARELOOP_ENCRYPTION_KEYS 和 "
            "CARELOOP_BLIND_INDEX_KEY（见 README 配置参考）"
        )
    data = DevKeys(var_dir).load()
    if not os.environ.get("CARELOOP_QUIET_DEV_KEYS"):
        _warn(
            f"正在使用开发密钥 {DevKeys(var_dir).path}（仅供开发和演示，生产环境请设置密钥环境变量）"
        )
    return (
        secret or data["secret_key"],
        [tuple(k) for k in data["encryption_keys"]],
        bidx or data["blind_index_key"],
        True,
    )
