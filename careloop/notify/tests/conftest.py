"""Fixtures of the notify tests: the follow-up fixtures, the default templates, and a real
local HTTP server standing in for the SMS platform (the outer boundary, CONVENTIONS)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from careloop.followup.tests.conftest import activate, make_visit, presets  # noqa: F401


@pytest.fixture
def templates(db):
    from careloop.notify.defaults import ensure_templates

    ensure_templates()


@pytest.fixture
def sms_file(settings, tmp_path):
    settings.SMS_GATEWAY = "file"
    settings.SMS_FILE = tmp_path / "sms-outbox.log"
    return settings.SMS_FILE


def sent_lines(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class SmsPlatform:
    """What the local server received, and what it answers next (status, body)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.responses: list[tuple[int, str]] = []
        self.default = (200, '{"code":0,"msgid":"GW-1"}')
        self.delay = 0.0
        self.lock = threading.Lock()
        self.url = ""


@pytest.fixture
def sms_platform(settings):
    platform = SmsPlatform()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            with platform.lock:
                platform.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                status, text = platform.responses.pop(0) if platform.responses else platform.default
            if platform.delay:
                time.sleep(platform.delay)
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _handle
        do_POST = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    platform.url = f"http://127.0.0.1:{server.server_address[1]}/api/sms"
    settings.SMS_GATEWAY = "http"
    settings.SMS_HTTP_URL = platform.url
    settings.SMS_HTTP_METHOD = "POST"
    settings.SMS_HTTP_BODY = '{"mobile": "{phone}", "content": "{text}", "ref": "{id}"}'
    settings.SMS_HTTP_CONTENT_TYPE = "application/json; charset=utf-8"
    settings.SMS_HTTP_HEADERS = '{"Authorization": "Bearer s3cret"}'
    settings.SMS_HTTP_SUCCESS = '"code":0'
    settings.SMS_HTTP_ID_REGEX = '"msgid":"([^"]+)"'
    settings.SMS_HTTP_TIMEOUT = 5
    yield platform
    server.shutdown()
    server.server_close()
