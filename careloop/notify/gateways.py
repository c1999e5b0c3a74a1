"""Pluggable SMS gateways (S4). ``get_gateway()`` picks one from ``settings.SMS_GATEWAY``:

- ``file``: appends one JSON line per message to ``settings.SMS_FILE`` (development, demos);
- ``console``: writes the message to the log, the number masked;
- ``http``: the hospital's SMS platform, configured entirely by settings (``SMS_HTTP_*``),
  spoken to with the standard library's urllib.

A gateway's ``send(message)`` returns a ``SendResult`` or raises ``GatewayError`` with a Chinese
message; the outbox decides about retries.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from careloop.lib.masking import mask_phone, normalize_phone

logger = logging.getLogger("careloop.notify")


class GatewayError(Exception):
    """The gateway did not accept the message; the text says why, in Chinese."""


@dataclass(frozen=True)
class SendResult:
    message_id: str = ""


class FileGateway:
    name = "file"

    def send(self, message) -> SendResult:
        path = settings.SMS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "id": message.pk,
            "phone": normalize_phone(message.phone),
            "text": message.body,
            "at": timezone.localtime().isoformat(timespec="seconds"),
        }
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        return SendResult(message_id=f"file-{message.pk}")


class ConsoleGateway:
    name = "console"

    def send(self, message) -> SendResult:
        logger.info("SMS #%s to %s: %s", message.pk, mask_phone(message.phone), message.body)
        return SendResult(message_id=f"console-{message.pk}")


def _json_escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _fill(template: str, values: dict[str, str], escape) -> str:
    # str.replace, not str.format: a JSON body is full of braces.
    for key, value in values.items():
        template = template.replace("{" + key + "}", escape(value))
    return template


class HttpGateway:
    """An SMS platform reached over HTTP. The success rule: status 2xx and, when
    ``SMS_HTTP_SUCCESS`` is set, the response body contains it (``re:`` makes it a regex)."""

    name = "http"

    def __init__(self, *, url=None, method=None, body=None, content_type=None, headers=None,
                 success=None, id_regex=None, timeout=None):  # fmt: skip
        self.url = url if url is not None else settings.SMS_HTTP_URL
        self.method = (method or settings.SMS_HTTP_METHOD or "POST").upper()
        self.body = body if body is not None else settings.SMS_HTTP_BODY
        self.content_type = (
            content_type if content_type is not None else settings.SMS_HTTP_CONTENT_TYPE
        )
        self.headers = headers if headers is not None else _parse_headers(settings.SMS_HTTP_HEADERS)
        self.success = success if success is not None else settings.SMS_HTTP_SUCCESS
        self.id_regex = id_regex if id_regex is not None else settings.SMS_HTTP_ID_REGEX
        self.timeout = timeout if timeout is not None else settings.SMS_HTTP_TIMEOUT
        if not self.url:
            raise GatewayError("未配置短信网关地址（CARELOOP_SMS_HTTP_URL）")
        if self.method not in ("POST", "GET"):
            raise GatewayError(f"短信网关请求方法只能是 POST 或 GET，当前为 {self.method}")

    def build_request(self, message) -> urllib.request.Request:
        values = {
            "phone": normalize_phone(message.phone),
            "text": message.body,
            "id": str(message.pk),
        }
        url = _fill(self.url, values, lambda v: urllib.parse.quote(v, safe=""))
        headers = {"User-Agent": "CareLoop-SMS/1", **self.headers}
        data = None
        if self.method == "GET":
            if self.body:
                query = _fill(self.body, values, lambda v: urllib.parse.quote(v, safe=""))
                url += ("&" if "?" in url else "?") + query
        else:
            kind = self.content_type.lower()
            if "json" in kind:
                escape = _json_escape
            elif "x-www-form-urlencoded" in kind:
                escape = lambda v: urllib.parse.quote_plus(v)  # noqa: E731
            else:
                escape = str
            data = _fill(self.body, values, escape).encode("utf-8")
            headers.setdefault("Content-Type", self.content_type)
        if not url.lower().startswith(("http://", "https://")):
            raise GatewayError("短信网关地址必须以 http:// 或 https:// 开头")
        return urllib.request.Request(url, data=data, method=self.method, headers=headers)  # noqa: S310

    def send(self, message) -> SendResult:
        request = self.build_request(message)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
                text = response.read(65536).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            body = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
            raise GatewayError(f"短信网关返回 HTTP {exc.code}：{body[:200]}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GatewayError(f"无法连接短信网关：{reason}") from exc
        if not 200 <= status < 300:
            raise GatewayError(f"短信网关返回 HTTP {status}：{text[:200]}")
        if not self.accepted(text):
            raise GatewayError(f"短信网关未确认发送成功：{text[:200]}")
        return SendResult(message_id=self.message_id(text))

    def accepted(self, text: str) -> bool:
        rule = self.success or ""
        if not rule:
            return True
        if rule.startswith("re:"):
            return re.search(rule[3:], text) is not None
        return rule in text

    def message_id(self, text: str) -> str:
        if not self.id_regex:
            return ""
        match = re.search(self.id_regex, text)
        if not match:
            return ""
        return (match.group(1) if match.groups() else match.group(0))[:100]


def _parse_headers(raw: str) -> dict[str, str]:
    if not raw or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise GatewayError(f"CARELOOP_SMS_HTTP_HEADERS 不是合法的 JSON 对象：{exc}") from exc
    if not isinstance(value, dict):
        raise GatewayError('CARELOOP_SMS_HTTP_HEADERS 应为 JSON 对象，如 {"Authorization": "…"}')
    return {str(k): str(v) for k, v in value.items()}


GATEWAYS = {"file": FileGateway, "console": ConsoleGateway, "http": HttpGateway}


def get_gateway():
    name = settings.SMS_GATEWAY
    try:
        return GATEWAYS[name]()
    except KeyError:
        raise GatewayError(
            f"未知的短信网关“{name}”（CARELOOP_SMS_GATEWAY 应为 file、console 或 http）"
        ) from None
