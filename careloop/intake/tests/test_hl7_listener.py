"""P4.2 end to end: `careloop hl7 listen` as a real subprocess on a free port, fed by the
`mllp_send` client that ships with python-hl7, on the test database (SQLite file or
PostgreSQL). The tests read the ACKs mllp_send prints and the rows the listener committed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from careloop.intake.hl7 import samples
from careloop.intake.models import HL7Message
from careloop.org.choices import DepartmentKind
from careloop.org.models import Department
from careloop.patients.models import Patient, PatientEvent, PatientPhone, Visit

pytestmark = pytest.mark.django_db(transaction=True)

BIN = Path(sys.executable).parent
adt = samples.adt


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listener(org):
    Department.objects.create(code="XNKMZ", name="心内科门诊", kind=DepartmentKind.SPECIALIST)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "CARELOOP_QUIET_DEV_KEYS": "1"}
    proc = subprocess.Popen(
        [str(BIN / "careloop"), "hl7", "listen", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, proc.stderr.read().decode()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert time.monotonic() < deadline, "the listener did not start"
        time.sleep(0.1)
    yield proc, port
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def mllp_send(port: int, tmp_path: Path, *messages: bytes) -> list[bytes]:
    """Send ``messages`` (already encoded) with python-hl7's mllp_send; the ACKs it printed."""
    path = tmp_path / f"batch-{time.monotonic_ns()}.hl7"
    path.write_bytes(b"".join(samples.mllp(m) for m in messages))
    out = subprocess.run(
        [str(BIN / "mllp_send"), "--port", str(port), "--file", str(path), "127.0.0.1"],
        capture_output=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    acks = [block.split(b"\x1c")[0] for block in out.split(b"\x0b")[1:]]
    assert len(acks) == len(messages), out
    return acks


def msa(ack: bytes, encoding: str = "utf-8") -> list[str]:
    line = next(seg for seg in ack.decode(encoding).split("\r") if seg.startswith("MSA"))
    return line.split("|")[1:4]


def test_mllp_send_a01_a03_a08_a13_a40_and_gb18030_end_to_end_P4_P5(listener, tmp_path):
    proc, port = listener
    utf8 = [
        adt("A01", control_id="E1", patient_no="P1", visit_no="Z1", phones="13800000001"),
        adt("A03", control_id="E2", patient_no="P1", visit_no="Z1",
            discharged="20260310093000", disposition="1"),
        adt("A08", control_id="E3", patient_no="P1", visit_no="Z1", department="GK",
            discharged="20260310093000", disposition="1"),
        adt("A13", control_id="E4", patient_no="P1", visit_no="Z1"),
        adt("A01", control_id="E5", patient_no="P2", visit_no="Z2", phones="13800000002"),
        adt("A40", control_id="E6", patient_no="P1", prior="P2", visit_no=samples.OMIT),
    ]  # fmt: skip
    acks = mllp_send(port, tmp_path, *(m.encode("utf-8") for m in utf8))
    assert [msa(a) for a in acks] == [["AA", f"E{i}", ""] for i in range(1, 7)]

    gb = adt("A04", control_id="E7", patient_no="P3", name="欧阳^娜娜", patient_class="O",
             department="XNKMZ", visit_no="M3", address="广东省汕头市潮阳区", charset="GB18030")  # fmt: skip
    (ack,) = mllp_send(port, tmp_path, gb.encode("gb18030"))
    assert msa(ack, "gb18030") == ["AA", "E7", ""]

    p1 = Patient.objects.get(patient_no="P1")
    assert Patient.objects.get(patient_no="P2").merged_into == p1
    z1 = Visit.objects.get(visit_no="Z1")
    assert (z1.department.code, z1.discharged_at, z1.disposition) == ("GK", None, "")
    assert Visit.objects.get(visit_no="Z2").patient == p1
    assert sorted(PatientPhone.objects.filter(patient=p1).values_list("position", flat=True)) == [
        0, 1]  # fmt: skip
    assert sorted(PatientEvent.objects.values_list("kind", flat=True)) == [
        "department_changed", "discharge_cancelled", "merged"]  # fmt: skip
    p3 = Patient.objects.get(patient_no="P3")
    assert (p3.name, p3.address) == ("欧阳娜娜", "广东省汕头市潮阳区")
    assert HL7Message.objects.get(control_id="E7").charset == "GB18030"
    assert HL7Message.objects.filter(status="applied").count() == 7

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert "HL7 监听已停止" in proc.stdout.read().decode()


def test_each_ack_comes_after_its_commit_and_duplicates_are_not_applied_twice_P4(
    listener, tmp_path
):
    _proc, port = listener
    first = adt("A01", control_id="D1", patient_no="P1", visit_no="Z1")
    (ack,) = mllp_send(port, tmp_path, first.encode())
    # The ACK has arrived: the message and its data are already visible to another connection.
    assert msa(ack) == ["AA", "D1", ""]
    assert HL7Message.objects.get(control_id="D1").status == "applied"
    assert Visit.objects.filter(visit_no="Z1").exists()

    changed = adt("A01", control_id="D1", patient_no="P1", visit_no="Z1", department="GK")
    acks = mllp_send(port, tmp_path, first.encode(), changed.encode())
    assert [msa(a) for a in acks] == [["AA", "D1", "重复消息，未再次处理"]] * 2
    assert Visit.objects.get(visit_no="Z1").department.code == "XNK"
    assert list(HL7Message.objects.order_by("pk").values_list("status", flat=True)) == [
        "applied", "duplicate", "duplicate"]  # fmt: skip


def test_malformed_messages_get_ae_or_ar_and_land_in_the_dead_letter_list_S5(
    listener, tmp_path, personas, client
):
    _proc, port = listener
    no_pid = "\r".join(
        line for line in adt("A01", control_id="M1").split("\r") if not line.startswith("PID")
    )
    acks = mllp_send(
        port, tmp_path,
        no_pid.encode(),
        adt("A01", control_id="M2", department="无此科室").encode(),
        b"this is not HL7 at all",
        adt("A01", control_id="M3", name="张^三", charset="UNICODE UTF-8").encode("gb18030"),
    )  # fmt: skip
    assert [msa(a)[:2] for a in acks[:2]] == [["AE", "M1"], ["AE", "M2"]]
    assert msa(acks[0])[2] == "PID 缺少 PID 段"
    assert msa(acks[1])[2] == "PV1-3 科室“无此科室”不存在（请先导入科室表，或检查科室编码/名称）"
    assert b"\rERR|" in acks[1]
    assert msa(acks[2])[:2] == ["AR", ""]
    assert msa(acks[3])[0] == "AR" and "无法解码" in msa(acks[3])[2]
    assert Patient.objects.count() == 0
    assert HL7Message.objects.filter(status="failed").count() == 4

    # The listener carries on after bad input.
    (ack,) = mllp_send(port, tmp_path, adt("A01", control_id="M4").encode())
    assert msa(ack)[0] == "AA"

    client.force_login(personas["sysadmin"])
    page = client.get("/intake/hl7/", {"status": "failed"}).content.decode()
    for control_id in ("M1", "M2", "M3"):
        assert f">{control_id}<" in page


def test_an_oversized_block_is_answered_ar_and_the_stream_goes_on(org):
    import asyncio

    from careloop.intake.hl7.listener import _read_block
    from careloop.intake.hl7.parse import OVERSIZE
    from careloop.intake.hl7.processing import process_message

    async def read_two():
        reader = asyncio.StreamReader(limit=100)
        reader.feed_data(samples.mllp("MSH|" + "x" * 300) + b"noise" + samples.mllp("MSH|^~\\&|OK"))
        reader.feed_eof()
        return [await _read_block(reader), await _read_block(reader), await _read_block(reader)]

    assert asyncio.run(read_two()) == [OVERSIZE, b"MSH|^~\\&|OK", None]
    ack = process_message(OVERSIZE)
    assert (ack.code, ack.text, ack.status) == ("AR", "消息超过 4 MB 上限，未接收", "failed")
