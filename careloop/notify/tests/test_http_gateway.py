"""S4: the HTTP gateway as the hospital's SMS platform receives it (a real local server)."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from careloop.notify.gateways import GatewayError, HttpGateway


class Msg:
    pk = 42
    phone = "+86 138-0013-8000"
    body = '张三先生您好，"引号"与换行\n测试'


def test_post_json_body_template_headers_and_id(sms_platform):
    result = HttpGateway().send(Msg())
    assert result.message_id == "GW-1"
    [req] = sms_platform.requests
    assert req["method"] == "POST"
    assert req["path"] == "/api/sms"
    assert req["headers"]["authorization"] == "Bearer s3cret"
    assert req["headers"]["content-type"] == "application/json; charset=utf-8"
    # JSON-escaped: the quotes and the newline survive as data.
    assert json.loads(req["body"]) == {
        "mobile": "13800138000",
        "content": '张三先生您好，"引号"与换行\n测试',
        "ref": "42",
    }


def test_get_appends_url_encoded_query(sms_platform, settings):
    settings.SMS_HTTP_METHOD = "GET"
    settings.SMS_HTTP_BODY = "to={phone}&msg={text}&ref={id}"
    HttpGateway().send(Msg())
    [req] = sms_platform.requests
    assert req["method"] == "GET" and req["body"] == ""
    path, query = req["path"].split("?", 1)
    assert path == "/api/sms"
    assert urllib.parse.parse_qs(query) == {
        "to": ["13800138000"],
        "msg": [Msg.body],
        "ref": ["42"],
    }


def test_form_body_is_url_encoded(sms_platform, settings):
    settings.SMS_HTTP_CONTENT_TYPE = "application/x-www-form-urlencoded"
    settings.SMS_HTTP_BODY = "mobile={phone}&content={text}"
    HttpGateway().send(Msg())
    [req] = sms_platform.requests
    assert urllib.parse.parse_qs(req["body"]) == {"mobile": ["13800138000"], "content": [Msg.body]}


def test_2xx_without_the_success_text_is_a_failure(sms_platform):
    sms_platform.responses.append((200, '{"code":17,"msg":"余额不足"}'))
    with pytest.raises(GatewayError, match="未确认发送成功"):
        HttpGateway().send(Msg())


def test_regex_success_rule(sms_platform, settings):
    settings.SMS_HTTP_SUCCESS = r're:"code":\s*0\b'
    sms_platform.responses.append((200, '{"code": 0, "msgid":"X9"}'))
    assert HttpGateway().send(Msg()).message_id == "X9"
    sms_platform.responses.append((200, '{"code": 01}'))
    with pytest.raises(GatewayError):
        HttpGateway().send(Msg())


def test_http_500_is_a_failure_with_the_status(sms_platform):
    sms_platform.responses.append((500, "boom"))
    with pytest.raises(GatewayError, match="HTTP 500"):
        HttpGateway().send(Msg())


def test_unreachable_gateway_is_a_chinese_error(settings):
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/sms"
    settings.SMS_HTTP_HEADERS = ""
    settings.SMS_HTTP_TIMEOUT = 2
    with pytest.raises(GatewayError, match="无法连接短信网关"):
        HttpGateway().send(Msg())
