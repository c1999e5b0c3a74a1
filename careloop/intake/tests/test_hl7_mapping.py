"""P4.2 and P5 through ``process_message()``: the field mapping (MAPPING.md), the ACK rules, the
dead letters and the after-the-fact events — fast, no socket (S4, S5).

The end-to-end socket tests with `mllp_send` are in test_hl7_listener.py; random and mutated
input in test_hl7_property.py.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from careloop.core.fields import blind_lookup
from careloop.intake.choices import MessageStatus
from careloop.intake.hl7 import samples
from careloop.intake.hl7.mapping import join_name
from careloop.intake.hl7.parse import decode, escape, parse, parse_ts, sniff_msh18, unescape
from careloop.intake.hl7.processing import Processor, process_message
from careloop.intake.models import HL7Message
from careloop.intake.tests.factories import ID_LI, ID_ZHANG
from careloop.org.choices import DepartmentKind
from careloop.org.models import Department
from careloop.patients.models import Diagnosis, Patient, PatientEvent, PatientPhone, Visit

TZ = ZoneInfo("Asia/Shanghai")
adt = samples.adt


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def segments(ack) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for line in ack.hl7.split("\r"):
        if line:
            out.setdefault(line[:3], []).append(line.split("|"))
    return out


def counts() -> tuple[int, ...]:
    return (
        Patient.objects.count(),
        Visit.objects.count(),
        Diagnosis.objects.count(),
        PatientPhone.objects.count(),
        PatientEvent.objects.count(),
    )


@pytest.fixture
def depts(org):
    org["clinic"] = Department.objects.create(
        code="XNKMZ", name="心内科门诊", kind=DepartmentKind.SPECIALIST
    )
    org["er"] = Department.objects.create(code="JZ", name="急诊科", kind=DepartmentKind.EMERGENCY)
    return org


# --- pure parts -------------------------------------------------------------------------------


def test_charset_is_read_from_msh18_before_decoding_P4():
    text = adt("A01", name="欧阳^娜娜", charset="GB18030")
    assert sniff_msh18(text.encode("gb18030")) == "GB18030"
    assert decode(text.encode("gb18030")) == (text, "gb18030")
    for alias in ("GBK", "GB2312", "GB 18030-2000"):
        message = adt("A01", name="欧阳^娜娜", charset=alias)
        assert decode(message.encode("gb18030"))[1] == "gb18030"
    utf8 = adt("A01", name="欧阳^娜娜", charset="UNICODE UTF-8")
    assert decode(utf8.encode("utf-8")) == (utf8, "utf-8")
    # MSH-18 empty: UTF-8 if the bytes are UTF-8, otherwise GB 18030.
    bare = adt("A01", name="欧阳^娜娜", charset="")
    assert decode(bare.encode("utf-8"))[1] == "utf-8"
    assert decode(bare.encode("gb18030")) == (bare, "gb18030")


def test_timestamps_with_an_offset_become_local_time():
    assert parse_ts("20260301080000", TZ) == at(2026, 3, 1, 8, 0)
    assert parse_ts("202603010800", TZ) == at(2026, 3, 1, 8, 0)
    assert parse_ts("20260301", TZ) == at(2026, 3, 1)
    assert parse_ts("20260301000000+0000", TZ) == at(2026, 3, 1, 8, 0)
    assert parse_ts("20260301080000.1234+0800", TZ) == at(2026, 3, 1, 8, 0)
    for bad in ("2026", "20261301", "2026-03-01", "abc"):
        with pytest.raises(ValueError):
            parse_ts(bad, TZ)


def test_escape_sequences_round_trip():
    message = parse(adt("A01"))
    text = "A|B^C&D~E\\F"
    assert escape(text, message.seps) == "A\\F\\B\\S\\C\\T\\D\\R\\E\\E\\F"
    assert unescape(escape(text, message.seps), message.seps) == text


def test_cjk_names_join_without_a_space():
    assert join_name("张", "三") == "张三"
    assert join_name("欧阳", "娜娜") == "欧阳娜娜"
    assert join_name("王小明", "") == "王小明"
    assert join_name("SMITH", "JOHN") == "SMITH JOHN"


# --- A01 / A03 / A04 / A08 (P1, P2) -------------------------------------------------------------


@pytest.mark.django_db
def test_a01_admits_the_patient_with_every_mapped_field_P1_P2(depts, make_user):
    doctor = make_user("d001", staff_no="D001", full_name="李医生")
    message = adt(
        "A01",
        control_id="C-A01",
        patient_no="P0001",
        name="张^三",
        birth="19491231",
        sex="M",
        address="东四十条1号^^东城区^北京市^100007^CHN^H^^东城区",
        phones="13812345678~(0571)87654321",
        id_number=ID_ZHANG,
        department="XNK",
        doctor="D001^李^医生",
        visit_no="Z0001",
        admitted="20260301083000",
        total_cost="12345.60",
        pv2_40="CH",
        diagnoses=(("I10", "原发性高血压", "A"), ("I21.0", "急性前壁心肌梗死", "F", "1")),
    )
    ack = process_message(message.encode("utf-8"))

    assert (ack.code, ack.status) == ("AA", MessageStatus.APPLIED)
    msa = segments(ack)["MSA"][0]
    assert msa[:3] == ["MSA", "AA", "C-A01"]
    assert segments(ack)["MSH"][0][8] == "ACK^A01^ACK"
    patient = Patient.objects.get(patient_no="P0001")
    assert (patient.name, patient.sex, patient.birth_date) == ("张三", "1", dt.date(1949, 12, 31))
    assert patient.address == "北京市东城区东四十条1号"
    assert patient.id_number == ID_ZHANG
    assert [p.number for p in patient.phones.all()] == ["13812345678", "057187654321"]
    assert patient.phones.get(is_preferred=True).number == "13812345678"
    visit = Visit.objects.get(visit_no="Z0001")
    assert (visit.visit_type, visit.department, visit.source) == (
        "inpatient",
        depts["cardio"],
        "hl7",
    )
    assert (visit.admitted_at, visit.discharged_at) == (at(2026, 3, 1, 8, 30), None)
    assert (visit.attending_doctor, visit.attending_doctor_name) == (doctor, "李医生")
    assert str(visit.total_cost) == "12345.60"
    assert visit.chronic is True
    assert [(d.code, d.text, d.is_principal) for d in visit.diagnoses.all()] == [
        ("I21.0", "急性前壁心肌梗死", True),
        ("I10", "原发性高血压", False),
    ]
    logged = HL7Message.objects.get()
    assert (logged.control_id, logged.sending_app, logged.sending_facility) == (
        "C-A01",
        "HIS",
        "SFYY",
    )
    assert (logged.message_type, logged.status, logged.ack_code) == ("ADT^A01", "applied", "AA")
    assert (logged.patient_no, logged.visit_no, logged.charset) == (
        "P0001",
        "Z0001",
        "UNICODE UTF-8",
    )
    assert logged.raw == message


@pytest.mark.django_db
def test_a03_discharges_with_time_and_disposition_P2(depts):
    process_message(adt("A01", control_id="1"))
    ack = process_message(adt("A03", control_id="2", discharged="20260310093000", disposition="01"))
    assert ack.code == "AA"
    visit = Visit.objects.get()
    assert (visit.discharged_at, visit.disposition) == (at(2026, 3, 10, 9, 30), "1")
    assert visit.length_of_stay_days == 9
    assert not Patient.objects.get().is_deceased
    assert list(PatientEvent.objects.values_list("kind", flat=True)) == []


@pytest.mark.django_db
def test_a03_with_disposition_5_records_the_death_P5(depts):
    process_message(adt("A01", control_id="1"))
    process_message(adt("A03", control_id="2", discharged="20260310093000", disposition="5"))
    patient = Patient.objects.get()
    assert (patient.is_deceased, patient.deceased_at) == (True, at(2026, 3, 10, 9, 30))
    event = PatientEvent.objects.get()
    assert (event.kind, event.visit, event.source) == ("death", Visit.objects.get(), "hl7")


@pytest.mark.django_db
def test_a04_registers_an_outpatient_or_emergency_visit_at_pv1_44(depts):
    process_message(
        adt("A04", control_id="1", patient_class="O", department="XNKMZ", visit_no="M1",
            admitted="20260302091500", readmission="N")
    )  # fmt: skip
    process_message(
        adt("A04", control_id="2", patient_class="E", department="JZ", visit_no="E1",
            admitted="20260302231000")
    )  # fmt: skip
    clinic = Visit.objects.get(visit_no="M1")
    assert (clinic.visit_type, clinic.visit_at, clinic.admitted_at) == (
        "outpatient", at(2026, 3, 2, 9, 15), None)  # fmt: skip
    assert clinic.first_visit is True
    er = Visit.objects.get(visit_no="E1")
    assert (er.visit_type, er.department, er.visit_at) == (
        "emergency", depts["er"], at(2026, 3, 2, 23, 10))  # fmt: skip


@pytest.mark.django_db
def test_a08_department_and_discharge_time_changes_are_events_P5(depts):
    process_message(adt("A03", control_id="1", discharged="20260310093000", disposition="1"))
    process_message(adt("A08", control_id="2", department="GK", discharged="20260311100000"))
    visit = Visit.objects.get()
    assert (visit.department, visit.discharged_at) == (depts["ortho"], at(2026, 3, 11, 10))
    events = {e.kind: e.detail for e in PatientEvent.objects.all()}
    assert events["department_changed"] == {"from": depts["cardio"].pk, "to": depts["ortho"].pk}
    assert events["discharge_time_changed"] == {
        "from": at(2026, 3, 10, 9, 30).astimezone(dt.UTC).isoformat(),
        "to": at(2026, 3, 11, 10).isoformat(),
    }
    # The same A08 again: nothing changes, no new event.
    process_message(adt("A08", control_id="3", department="GK", discharged="20260311100000"))
    assert PatientEvent.objects.count() == 2


@pytest.mark.django_db
def test_absent_fields_keep_their_values_and_the_hl7_null_clears_them_P4(depts):
    process_message(adt("A01", control_id="1", phones="13812345678", id_number=ID_LI))
    # A08 without PID-13, PID-19 or DG1: phones, id number and diagnoses stay.
    process_message(adt("A08", control_id="2", phones=samples.OMIT, diagnoses=()))
    patient = Patient.objects.get()
    assert [p.number for p in patient.phones.all()] == ["13812345678"]
    assert patient.id_number == ID_LI
    assert Diagnosis.objects.count() == 1
    # '""' is HL7's "delete this value".
    process_message(adt("A08", control_id="3", phones='""', address='""', id_number='""'))
    patient = Patient.objects.get()
    assert (patient.phones.count(), patient.address, patient.id_number) == (0, "", "")
    assert Patient.objects.filter(**blind_lookup(Patient, "id_number_bidx", ID_LI)).count() == 0


@pytest.mark.django_db
def test_pid30_death_notice_marks_the_patient_deceased_P5(depts):
    process_message(adt("A03", control_id="1", discharged="20260310093000", disposition="1"))
    process_message(adt("A08", control_id="2", death="20260401120000"))
    patient = Patient.objects.get()
    assert (patient.is_deceased, patient.deceased_at) == (True, at(2026, 4, 1, 12))
    assert list(PatientEvent.objects.values_list("kind", "detail")) == [("death", {"notice": True})]


@pytest.mark.django_db
def test_staff_are_linked_by_number_when_the_name_does_not_match(depts, make_user):
    doctor = make_user("d9", staff_no="D009", full_name="赵大夫")
    process_message(adt("A01", control_id="1", doctor="D009^赵^医师"))
    visit = Visit.objects.get()
    assert visit.attending_doctor == doctor


@pytest.mark.django_db
def test_principal_diagnosis_is_dg1_15_then_the_first_final_then_the_first(depts):
    process_message(adt("A01", control_id="1", visit_no="V1",
                        diagnoses=(("I10", "高血压", "A"), ("E11.9", "2型糖尿病", "F"))))  # fmt: skip
    process_message(adt("A01", control_id="2", visit_no="V2", patient_no="P2",
                        diagnoses=(("I10", "高血压", "A"), ("J18.9", "肺炎", "W"))))  # fmt: skip
    first = Visit.objects.get(visit_no="V1").principal_diagnosis
    second = Visit.objects.get(visit_no="V2").principal_diagnosis
    assert (first.code, second.code) == ("E11.9", "I10")


# --- A11 / A13 / A40 (P5) -------------------------------------------------------------------


@pytest.mark.django_db
def test_a11_cancels_the_admission_P5(depts):
    process_message(adt("A01", control_id="1"))
    ack = process_message(adt("A11", control_id="2", evn_time="20260301130000"))
    assert ack.code == "AA"
    visit = Visit.objects.get()
    assert visit.status == "cancelled"
    event = PatientEvent.objects.get()
    assert (event.kind, event.visit, event.occurred_at) == (
        "admit_cancelled", visit, at(2026, 3, 1, 13))  # fmt: skip
    # Cancelling again changes nothing.
    assert process_message(adt("A11", control_id="3")).code == "AA"
    assert PatientEvent.objects.count() == 1


@pytest.mark.django_db
def test_a11_for_an_unknown_visit_is_AE(depts):
    before = counts()
    ack = process_message(adt("A11", control_id="1", visit_no="NOPE"))
    assert (ack.code, ack.status) == ("AE", "failed")
    assert ack.text == "PV1-19 就诊“NOPE”不存在"
    assert counts() == before


@pytest.mark.django_db
def test_a13_cancels_the_discharge_and_a_death_it_had_recorded_P5(depts):
    process_message(adt("A01", control_id="1"))
    process_message(adt("A03", control_id="2", discharged="20260310093000", disposition="5"))
    assert Patient.objects.get().is_deceased
    ack = process_message(adt("A13", control_id="3", evn_time="20260310120000"))
    assert ack.code == "AA"
    visit = Visit.objects.get()
    assert (visit.discharged_at, visit.disposition, visit.status) == (None, "", "active")
    assert (visit.patient.is_deceased, visit.patient.deceased_at) == (False, None)
    event = PatientEvent.objects.get(kind="discharge_cancelled")
    assert event.detail == {
        "discharged_at": at(2026, 3, 10, 9, 30).astimezone(dt.UTC).isoformat(),
        "disposition": "5",
        "deceased_cleared": True,
    }
    assert event.occurred_at == at(2026, 3, 10, 12)


@pytest.mark.django_db
def test_a40_merges_histories_without_duplicate_phones_P5(depts):
    process_message(adt("A01", control_id="1", patient_no="KEEP", name="张^三",
                        phones="13800000001~13800000002", visit_no="Z1"))  # fmt: skip
    process_message(adt("A03", control_id="2", patient_no="OLD", name="张^三",
                        phones="13800000002~13800000003", visit_no="Z2", id_number=ID_ZHANG,
                        discharged="20260305100000", disposition="1"))  # fmt: skip
    process_message(adt("A08", control_id="3", patient_no="OLD", name="张^三",
                        phones=samples.OMIT, visit_no="Z2", department="GK"))  # fmt: skip
    old = Patient.objects.get(patient_no="OLD")
    old.do_not_contact = True
    old.save()

    ack = process_message(adt("A40", control_id="4", patient_no="KEEP", prior="OLD",
                              visit_no=samples.OMIT))  # fmt: skip
    assert ack.code == "AA", ack.text
    keep, old = Patient.objects.get(patient_no="KEEP"), Patient.objects.get(patient_no="OLD")
    assert old.merged_into == keep
    assert sorted(keep.visits.values_list("visit_no", flat=True)) == ["Z1", "Z2"]
    assert [p.number for p in keep.phones.all()] == ["13800000001", "13800000002", "13800000003"]
    assert keep.phones.filter(is_preferred=True).count() == 1
    assert PatientPhone.objects.filter(patient=old).count() == 0
    assert (keep.id_number, keep.do_not_contact) == (ID_ZHANG, True)
    assert set(PatientEvent.objects.values_list("patient__patient_no", "kind")) == {
        ("KEEP", "department_changed"),
        ("KEEP", "merged"),
    }
    merged = PatientEvent.objects.get(kind="merged")
    assert merged.detail == {
        "prior_patient_no": "OLD", "prior_id": old.pk, "visits_moved": 1, "phones_moved": 1,
        "phones_dropped": 1, "events_moved": 1, "flags_taken": ["do_not_contact"],
    }  # fmt: skip
    # The same merge under a new control id: nothing more happens.
    assert process_message(adt("A40", control_id="5", patient_no="KEEP", prior="OLD")).code == "AA"
    assert PatientEvent.objects.filter(kind="merged").count() == 1


@pytest.mark.django_db
def test_a40_with_an_unknown_prior_patient_is_AE(depts):
    process_message(adt("A01", control_id="1", patient_no="KEEP"))
    ack = process_message(adt("A40", control_id="2", patient_no="KEEP", prior="GHOST"))
    assert (ack.code, ack.text) == ("AE", "MRG-1 被合并患者“GHOST”不存在")


# --- ACK rules, duplicates and dead letters (P4.2, S4, S5) -----------------------------------


@pytest.mark.django_db
def test_a_repeated_control_id_is_acknowledged_and_not_applied_twice_P4(depts):
    first = process_message(adt("A01", control_id="DUP-1"))
    before = counts()
    again = process_message(adt("A01", control_id="DUP-1", name="李^四", department="GK"))
    assert (first.code, again.code, again.status) == ("AA", "AA", "duplicate")
    assert counts() == before
    assert Patient.objects.get().name == "张三"
    assert list(HL7Message.objects.order_by("pk").values_list("control_id", "status")) == [
        ("DUP-1", "applied"),
        ("DUP-1", "duplicate"),
    ]
    # The same control id from another sending application is another message.
    other = process_message(adt("A08", control_id="DUP-1", app="EMR", department="GK"))
    assert (other.code, other.status) == ("AA", "applied")


@pytest.mark.django_db
def test_an_unknown_department_is_AE_and_a_dead_letter_without_any_write_S4_S5(depts):
    before = counts()
    ack = process_message(adt("A01", control_id="BAD-1", department="NOPE"))
    assert (ack.code, ack.status) == ("AE", "failed")
    reason = "PV1-3 科室“NOPE”不存在（请先导入科室表，或检查科室编码/名称）"
    assert ack.text == reason
    err = segments(ack)["ERR"][0]
    assert err[2:5] == ["PV1^1^3", "103^Table value not found^HL70357", "E"]
    assert err[8] == "科室“NOPE”不存在（请先导入科室表，或检查科室编码/名称）"
    assert counts() == before
    letter = HL7Message.objects.get()
    assert (letter.status, letter.ack_code, letter.error, letter.attempts) == (
        "failed",
        "AE",
        reason,
        1,
    )


@pytest.mark.django_db
def test_a_department_created_after_start_is_found_without_a_restart(depts):
    processor = Processor()
    assert processor.process(adt("A01", control_id="1", department="NEW")).code == "AE"
    Department.objects.create(code="NEW", name="新病区", kind=DepartmentKind.INPATIENT)
    # The HIS resends the failed message: it is processed again on the same row.
    ack = processor.process(adt("A01", control_id="1", department="NEW"))
    assert (ack.code, ack.status) == ("AA", "applied")
    letter = HL7Message.objects.get()
    assert (letter.status, letter.attempts, letter.error) == ("applied", 2, "")


@pytest.mark.django_db
def test_missing_pid3_and_field_problems_are_named_in_msa3_and_err_S5(depts):
    ack = process_message(adt("A01", control_id="1", patient_no=""))
    assert (ack.code, ack.text) == ("AE", "PID-3 缺少患者 ID（病历号）")
    ack = process_message(
        adt("A01", control_id="2", sex="X", id_number="110105194912310021",
            admitted="2026-03-01", diagnoses=(("I10X", "?", "F"),))
    )  # fmt: skip
    assert ack.code == "AE"
    assert ack.text.split("；") == [
        "PID-8 性别：“X”应为 M/F/U/O",
        "PV1-44 入院时间：时间格式应为 YYYYMMDD[HHMM[SS]]",
        "DG1-3 诊断编码：ICD-10 编码“I10X”格式不正确",
        "PID-19 身份证号：身份证号格式或校验位不正确",
        "PV1-44 入院时间：住院病人必须有入院时间",
    ]
    assert [e[2] for e in segments(ack)["ERR"]] == [
        "PID^1^8", "PV1^1^44", "DG1^1^3", "PID^1^19", "PV1^1^44"]  # fmt: skip
    assert HL7Message.objects.filter(status="failed").count() == 2
    assert Patient.objects.count() == 0


@pytest.mark.django_db
def test_unsupported_messages_and_events_are_AE(depts):
    ack = process_message(adt("A05", control_id="1"))  # pre-admission: not a visit yet
    assert (ack.code, ack.text) == (
        "AE",
        "MSH-9 不支持的事件“A05”（支持 A01、A03、A04、A02、A08、A11、A13、A40）",
    )
    oru = adt("A01", control_id="2").replace("ADT^A01^ADT_A01", "ORU^R01^ORU_R01")
    ack = process_message(oru)
    assert (ack.code, ack.text) == ("AE", "MSH-9 不支持的消息类型“ORU”（只接收 ADT）")


@pytest.mark.django_db
def test_bytes_that_are_not_hl7_are_AR_and_kept(depts):
    ack = process_message(b"GET / HTTP/1.1\r\n\r\n")
    assert (ack.code, ack.status) == ("AR", "failed")
    assert ack.text == "MSH 不是 HL7 v2 消息：第一段必须是 MSH"
    assert segments(ack)["MSA"][0][:3] == ["MSA", "AR", ""]
    letter = HL7Message.objects.get()
    assert letter.control_id.startswith("sha1:") and letter.raw == "GET / HTTP/1.1\r\n\r\n"
    # The same garbage again is the same dead letter, attempted twice.
    process_message(b"GET / HTTP/1.1\r\n\r\n")
    assert HL7Message.objects.get().attempts == 2


@pytest.mark.django_db
def test_bytes_that_do_not_decode_as_declared_are_AR_and_never_applied(depts):
    wrong = adt("A01", control_id="GB-1", name="欧阳^娜娜", charset="UNICODE UTF-8")
    ack = process_message(wrong.encode("gb18030"))
    assert ack.code == "AR"
    assert ack.text.startswith("MSH-18 按字符集“UNICODE UTF-8”无法解码")
    assert Patient.objects.count() == 0
    # Retrying the stored (lossy) text can never apply garbled names.
    letter = HL7Message.objects.get()
    assert Processor().retry(letter).code == "AR"
    assert Patient.objects.count() == 0


@pytest.mark.django_db
def test_gb18030_message_is_decoded_and_acknowledged_in_gb18030_P4(depts):
    message = adt("A01", control_id="GB-2", name="欧阳^娜娜", charset="GB18030",
                  address="北京市朝阳区望京街10号")  # fmt: skip
    ack = process_message(message.encode("gb18030"))
    assert ack.code == "AA"
    patient = Patient.objects.get()
    assert (patient.name, patient.address) == ("欧阳娜娜", "北京市朝阳区望京街10号")
    assert ack.payload.decode("gb18030") == ack.hl7
    failed = process_message(adt("A01", control_id="GB-3", department="无此科", charset="GBK")
                             .encode("gb18030"))  # fmt: skip
    assert failed.payload.decode("gb18030").split("\r")[1] == (
        "MSA|AE|GB-3|PV1-3 科室“无此科”不存在（请先导入科室表，或检查科室编码/名称）")  # fmt: skip


# --- group commit (S4) ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bad_message_in_a_batch_fails_alone_and_leaves_no_partial_write_S4(depts):
    batch = [
        adt("A01", control_id="G1", patient_no="P1", visit_no="Z1"),
        adt("A01", control_id="G2", patient_no="P2", visit_no="Z2", department="NOPE"),
        adt("A01", control_id="G3", patient_no="P3", visit_no="Z3"),
        adt("A03", control_id="G4", patient_no="P1", visit_no="Z1", discharged="20260305100000",
            disposition="1"),
        b"\x00garbage",
    ]  # fmt: skip
    acks = Processor().process_batch(batch)
    assert [a.code for a in acks] == ["AA", "AE", "AA", "AA", "AR"]
    assert sorted(Patient.objects.values_list("patient_no", flat=True)) == ["P1", "P3"]
    assert Visit.objects.get(visit_no="Z1").discharged_at == at(2026, 3, 5, 10)
    garbage = HL7Message.objects.get(ack_code="AR").control_id
    assert dict(HL7Message.objects.values_list("control_id", "status")) == {
        "G1": "applied", "G2": "failed", "G3": "applied", "G4": "applied", garbage: "failed",
    }  # fmt: skip


@pytest.mark.django_db
def test_a_batch_gives_the_same_rows_as_one_by_one(depts):
    messages = [
        adt("A01", control_id=f"S{i}", patient_no=f"P{i % 3}", visit_no=f"Z{i}",
            phones=f"1380000000{i}", department="XNK" if i % 2 else "GK")
        for i in range(6)
    ] + [adt("A08", control_id="S9", patient_no="P0", visit_no="Z0", department="XNK")]  # fmt: skip
    Processor().process_batch(messages)
    batched = _state()
    for model in (PatientEvent, Diagnosis, Visit, PatientPhone, Patient, HL7Message):
        model.objects.all().delete()
    processor = Processor()
    for message in messages:
        processor.process(message)
    assert _state() == batched


def _state():
    return (
        sorted(Patient.objects.values_list("patient_no", "name")),
        sorted(
            (p.patient.patient_no, p.number, p.is_preferred) for p in PatientPhone.objects.all()
        ),
        sorted(Visit.objects.values_list("visit_no", "patient__patient_no", "department__code")),
        sorted(PatientEvent.objects.values_list("patient__patient_no", "kind")),
        sorted(HL7Message.objects.values_list("control_id", "status")),
    )


@pytest.mark.django_db
def test_a_database_failure_is_AR_resend_and_stores_nothing_S4(depts, monkeypatch):
    from django.db import OperationalError
    from django.db.backends.utils import CursorWrapper

    process_message(adt("A01", control_id="1"))
    before, logged = counts(), HL7Message.objects.count()
    real_execute = CursorWrapper.execute

    def failing(self, sql, params=None):
        if sql.startswith('UPDATE "patients_visit"'):
            raise OperationalError("server closed the connection unexpectedly")
        return real_execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", failing)
    ack = process_message(adt("A03", control_id="2", discharged="20260310093000", disposition="1"))
    assert (ack.code, ack.status, ack.message_id) == ("AR", "", None)
    assert ack.text == "系统暂时无法保存消息，请稍后重发"
    assert (counts(), HL7Message.objects.count()) == (before, logged)
    monkeypatch.undo()
    # The sender resends once the database is back: applied.
    ack = process_message(adt("A03", control_id="2", discharged="20260310093000", disposition="1"))
    assert (ack.code, ack.status) == ("AA", "applied")


@pytest.mark.django_db
def test_a02_transfer_moves_the_visit_and_is_a_department_event_P5(depts):
    assert process_message(adt("A01", control_id="1")).code == "AA"
    assert process_message(adt("A02", control_id="2", department="GK")).code == "AA"
    assert Visit.objects.get().department == depts["ortho"]
    event = PatientEvent.objects.get()
    assert (event.kind, event.detail) == (
        "department_changed",
        {"from": depts["cardio"].pk, "to": depts["ortho"].pk},
    )


@pytest.mark.django_db
def test_data_sent_under_a_merged_patient_id_reaches_the_survivor_P5(depts):
    assert (
        process_message(adt("A01", control_id="1", patient_no="P-OLD", visit_no="Z1")).code == "AA"
    )
    assert (
        process_message(adt("A01", control_id="2", patient_no="P-NEW", visit_no="Z2")).code == "AA"
    )
    assert (
        process_message(adt("A40", control_id="3", patient_no="P-NEW", prior="P-OLD")).code == "AA"
    )
    assert (
        process_message(adt("A01", control_id="4", patient_no="P-OLD", visit_no="Z3")).code == "AA"
    )
    assert Visit.objects.get(visit_no="Z3").patient.patient_no == "P-NEW"
    assert Patient.objects.get(patient_no="P-OLD").visits.count() == 0
