"""S4/S5 for HL7, property-based: random bytes and mutated ADT messages never make
``process_message()`` raise, never leave a partial write, and always get AA, AE or AR.

For every input: when the answer is AE or AR, no patient, phone, visit, diagnosis or event row
changed, and exactly one dead letter was written (or the existing one for that control id was
attempted again). When it is AA, the message is logged as applied or duplicate.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from careloop.intake.hl7 import samples
from careloop.intake.hl7.parse import HL7Error, decode, parse
from careloop.intake.hl7.processing import Processor
from careloop.intake.models import HL7Message
from careloop.patients.models import Diagnosis, Patient, PatientEvent, PatientPhone, Visit

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run and database: failures reproduce
    database=None,  # …so there is nothing to remember between runs (no .hypothesis/ folder)
)

_fresh = itertools.count()
EVENTS = ["A01", "A03", "A04", "A08", "A11", "A13", "A40"]
# Text a HIS could plausibly put in a field, plus the characters that break parsers.
NASTY = st.sampled_from(
    ["|", "^", "~", "\\", "&", "\r", "\n", "\x0b", "\x1c", '""', "\\X41\\", "\\F\\", "MSH|",
     "张", "欧阳", "\ufffd", "\x00", " ", "99999999999999999999", "2026", "I10", "X"]
)  # fmt: skip
TEXT = st.one_of(st.text(max_size=80), st.lists(NASTY, max_size=6).map("".join))


def _snapshot():
    return (
        Patient.objects.count(),
        PatientPhone.objects.count(),
        Visit.objects.count(),
        Diagnosis.objects.count(),
        PatientEvent.objects.count(),
        list(Patient.objects.order_by("pk").values_list("name", "is_deceased", "merged_into")),
        list(Visit.objects.order_by("pk").values_list("discharged_at", "status", "department")),
    )


def _log_state():
    return HL7Message.objects.count(), sum(HL7Message.objects.values_list("attempts", flat=True))


def _check(processor: Processor, raw: bytes | str) -> None:
    before, (rows, attempts) = _snapshot(), _log_state()
    ack = processor.process(raw)  # must not raise
    assert ack.code in ("AA", "AE", "AR")
    assert ack.status in ("applied", "duplicate", "failed"), "the dead letter must be stored"
    assert ack.payload.startswith(b"MSH|") and b"\rMSA|" + ack.code.encode() in ack.payload
    after_rows, after_attempts = _log_state()
    if ack.code == "AA":
        assert ack.status in ("applied", "duplicate")
        if ack.status == "applied":
            assert HL7Message.objects.get(pk=ack.message_id).status == "applied"
    else:
        assert ack.status == "failed"
        assert _snapshot() == before, "a failed message changed patient data"
        assert (after_rows, after_attempts) in ((rows + 1, attempts + 1), (rows, attempts + 1))
        assert HL7Message.objects.get(pk=ack.message_id).status == "failed"


@pytest.fixture
def processor(org):
    from careloop.org.models import Department

    Department.objects.create(code="MZ", name="门诊", kind="specialist")
    processor = Processor()
    for event, extra in (
        ("A01", {}),
        ("A03", {"discharged": "20260310093000", "disposition": "1"}),
    ):
        processor.process(samples.adt(event, control_id=f"SEED-{event}", **extra))
    processor.process(samples.adt("A01", control_id="SEED-2", patient_no="P0002", visit_no="Z2"))
    return processor


# --- pure stage -----------------------------------------------------------------------------


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=400))
def test_decode_and_parse_fail_only_with_an_hl7_error(raw):
    try:
        text, codec = decode(raw)
        parse(text, codec)
    except HL7Error as error:
        assert error.ack_code == "AR" and error.reason


# --- whole processing -----------------------------------------------------------------------


@pytest.mark.django_db
@PROPERTY
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_random_input_never_raises_nor_writes_patient_data_S4(processor, raw):
    _check(processor, raw)


@st.composite
def mutated_messages(draw):
    event = draw(st.sampled_from(EVENTS))
    # Mostly fresh control ids, sometimes one already applied (a duplicate) or an odd one.
    choice = draw(st.integers(0, 9))
    control_id = {9: "SEED-A01", 8: draw(st.text(min_size=1, max_size=12))}.get(
        choice, f"H{next(_fresh)}"
    )
    fields = {
        "control_id": control_id,
        "patient_no": draw(st.sampled_from(["P0001", "P0002", "P0003", ""])),
        "visit_no": draw(st.sampled_from(["Z0001", "Z2", "Z9", ""])),
        "department": draw(st.sampled_from(["XNK", "GK", "MZ", "NOPE", ""])),
        "patient_class": draw(st.sampled_from(["I", "O", "E", "X", ""])),
    }
    # The declared character set and the real encoding agree, except now and then.
    fields["charset"], encoding = draw(
        st.sampled_from(
            [("UNICODE UTF-8", "utf-8"), ("GB18030", "gb18030"), ("GBK", "gb18030"),
             ("", "utf-8"), ("", "gb18030"), ("UNICODE UTF-8", "utf-8"),
             ("GBK", "utf-8"), ("EBCDIC", "utf-8")]
        )
    )  # fmt: skip
    if event == "A40":
        fields["prior"] = draw(st.sampled_from(["P0002", "P0001", "P0003", ""]))
    if event == "A03":
        fields["discharged"] = draw(st.sampled_from(["20260310093000", "2026", ""]))
        fields["disposition"] = draw(st.sampled_from(["1", "5", "7", ""]))
    for name in draw(st.lists(st.sampled_from(["name", "birth", "sex", "phones", "address",
                                                "doctor", "admitted", "id_number"]),
                              max_size=3, unique=True)):  # fmt: skip
        fields[name] = draw(TEXT)
    message = samples.adt(event, **fields)
    # Then damage it: cut, insert, drop or repeat a segment — mostly after MSH, so that the
    # damage reaches the mapping and the database rather than stopping at the header.
    header = message.index("\r") + 1
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["cut", "insert", "drop", "swap"]))
        if not message:
            break
        start = 0 if draw(st.integers(0, 4)) == 4 else min(header, len(message))
        at = draw(st.integers(start, len(message)))
        if kind == "cut":
            message = message[:at] + message[at + draw(st.integers(1, 20)) :]
        elif kind == "insert":
            message = message[:at] + draw(TEXT) + message[at:]
        else:
            segments = message.split("\r")
            i = draw(st.integers(0, len(segments) - 1))
            if kind == "drop":
                del segments[i]
            else:
                segments.insert(draw(st.integers(0, len(segments))), segments[i])
            message = "\r".join(segments)
    return message.encode(encoding, "replace")


@pytest.mark.django_db
@PROPERTY
@given(raw=mutated_messages())
def test_mutated_messages_are_applied_whole_or_not_at_all_S4(processor, raw):
    assume(raw)
    _check(processor, raw)


@pytest.mark.django_db
@PROPERTY
@given(batch=st.lists(mutated_messages(), min_size=2, max_size=6))
def test_a_batch_of_mutated_messages_answers_each_alone_S4(processor, batch):
    acks = processor.process_batch(batch)
    assert len(acks) == len(batch)
    assert all(a.code in ("AA", "AE", "AR") and a.status for a in acks)
    for ack in acks:
        row = HL7Message.objects.get(pk=ack.message_id)
        assert row.status == ack.status or (ack.status == "failed" and row.status == "applied")
