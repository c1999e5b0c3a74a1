"""P4.2, S4, S5: one HL7 message → one transaction → one acknowledgement.

``process_message(raw)`` is the whole behaviour without the network: the listener, the retry
button and the tests call it (or ``Processor.process_batch``, its group-commit form).

Rules:
- AA only after the transaction holding the message's log row *and* its data has committed.
- A control id already applied (same sending application and facility) is acknowledged AA, not
  applied again, and logged as its own row with status "duplicate".
- Bytes that are not an HL7 message → AR; a message we understand but cannot apply (missing
  PID-3, unknown department, a field that fails §9 validation, an unsupported event) → AE. Both
  carry the Chinese reason in MSA-3 and ERR, and the message is kept as a dead letter (status
  failed) — written in its own (sub)transaction after the data's was rolled back, so a failed
  message never leaves a partial write.
- The HIS resending a failed control id is processed again on the same log row (attempts + 1).
- When even the dead letter cannot be written (database down) the answer is AR "please resend":
  HL7 uses AR for "not processed for reasons unrelated to its content"; nothing is lost because
  the sender still holds the message.

Group commit: the listener hands over every message waiting at that moment; they share one
transaction, each inside its own savepoint, so one commit (one WAL flush) serves many messages
while each stays all-or-nothing. Every ACK still waits for that commit. If the shared
transaction fails as a whole, each message is redone in a transaction of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F
from django.utils import timezone

from careloop.intake.choices import MessageStatus
from careloop.intake.hl7.mapping import (
    CANCEL_ADMIT,
    CANCEL_DISCHARGE,
    LOCATION,
    MERGE,
    UPSERT,
    Plan,
    plan_message,
)
from careloop.intake.hl7.parse import (
    CODEC_LABEL,
    MAX_MESSAGE,
    OVERSIZE,
    Header,
    HL7Error,
    build_ack,
    decode,
    digest,
    encode_ack,
    header_of,
    loose_header,
    lossy_text,
    parse,
)
from careloop.intake.models import HL7Message
from careloop.intake.rows import LABELS
from careloop.intake.upsert import Resolver, apply_rows
from careloop.patients.choices import Source
from careloop.patients.models import Patient, Visit
from careloop.patients.services import (
    PatientServiceError,
    cancel_admission,
    cancel_discharge,
    merge_patients,
    record_death,
)

logger = logging.getLogger("careloop.intake.hl7")

KEPT = (MessageStatus.APPLIED, MessageStatus.FAILED, MessageStatus.DISCARDED)  # unique per key


@dataclass
class Ack:
    code: str  # AA | AE | AR
    text: str  # MSA-3
    status: str  # the log row's status; "" when nothing could be stored
    message_id: int | None
    hl7: str  # the ACK message, segments joined by CR
    payload: bytes  # hl7 encoded in the message's character set (without MLLP framing)


@dataclass
class Prepared:
    """Everything the pure stage learned about one message before the database is touched."""

    text: str
    codec: str
    header: Header
    key: tuple[str, str, str]  # (sending app, sending facility, control id)
    received_at: dt.datetime
    plan: Plan | None = None
    error: HL7Error | None = None
    patient_no: str = ""
    visit_no: str = ""
    extra: dict = field(default_factory=dict)


class _Failed(Exception):
    """Rolls back one message's savepoint and carries the reason to the dead letter."""

    def __init__(self, error: HL7Error):
        self.error = error
        super().__init__(error.reason)


class _GroupFallback(Exception):
    """Rolls a group back so its messages are processed one by one."""


class ListenerResolver(Resolver):
    """The upsert's department/staff lookups kept for the listener's lifetime (one query pair
    per refresh instead of per message): reloaded when a message names a department we do not
    know — it may have been added since — and every ``max_age`` seconds for staff changes."""

    def __init__(self, max_age: float = 300.0):
        self.max_age = max_age
        self.refresh()

    def refresh(self) -> None:
        Resolver.__init__(self)
        self.loaded_at = time.monotonic()

    def refresh_if_old(self) -> None:
        if time.monotonic() - self.loaded_at > self.max_age:
            self.refresh()


class Processor:
    """Processes messages against the database; one per thread (it caches the resolver)."""

    def __init__(self, resolver: ListenerResolver | None = None):
        self._resolver = resolver
        self.tz = ZoneInfo(settings.TIME_ZONE)

    @property
    def resolver(self) -> ListenerResolver:
        if self._resolver is None:
            self._resolver = ListenerResolver()
        else:
            self._resolver.refresh_if_old()
        return self._resolver

    # --- the pure stage -------------------------------------------------------------------

    def prepare(self, raw: bytes | str) -> Prepared:
        received = timezone.now()
        if raw == OVERSIZE:
            error = HL7Error(
                "AR", [("", f"消息超过 {MAX_MESSAGE // 1024 // 1024} MB 上限，未接收")]
            )
            text = "（消息过长，内容未保存）"
            return self._rejected(text, "utf-8", Header(), error, received)
        try:
            text, codec = decode(raw)
        except HL7Error as error:
            text = lossy_text(raw)
            return self._rejected(text, "utf-8", loose_header(text), error, received)
        try:
            message = parse(text, codec)
            header = header_of(message)
        except HL7Error as error:
            return self._rejected(text, codec, loose_header(text), error, received)
        if not header.control_id:
            error = HL7Error("AR", [("MSH-10", "缺少消息控制号")], "101")
            return self._rejected(text, codec, header, error, received)
        prepared = Prepared(text, codec, header, _key(header, text), received)
        try:
            plan = plan_message(message, header, self.tz, timezone.localdate())
        except HL7Error as error:
            prepared.error = error
            pid = message.first("PID")
            prepared.patient_no = pid.get(3) if pid else ""
            pv1 = message.first("PV1")
            prepared.visit_no = pv1.get(19) if pv1 else ""
            return prepared
        except Exception as exc:  # a mapping bug must not take the listener down (S4)
            logger.exception("HL7 mapping failed for %s", header.control_id)
            prepared.error = _internal(exc)
            return prepared
        prepared.plan = plan
        prepared.patient_no = plan.row.patient_no if plan.row else plan.patient_no
        prepared.visit_no = plan.row.visit_no if plan.row else plan.visit_no
        return prepared

    def _rejected(self, text, codec, header, error, received) -> Prepared:
        return Prepared(text, codec, header, _key(header, text), received, error=error)

    # --- the database stage ---------------------------------------------------------------

    def process(self, raw: bytes | str) -> Ack:
        return self.process_batch([raw])[0]

    def process_batch(self, raws: list[bytes | str]) -> list[Ack]:
        """ACKs for ``raws`` in order, returned only once their transaction has committed."""
        prepared = [self._safe_prepare(raw) for raw in raws]
        return self._commit(prepared)

    def retry(self, message: HL7Message) -> Ack:
        """A person retries a dead letter: its stored text is processed again on its own row."""
        prepared = self._safe_prepare(message.raw)
        prepared.extra["target"] = message.pk
        return self._commit([prepared])[0]

    def _safe_prepare(self, raw) -> Prepared:
        try:
            return self.prepare(raw)
        except Exception as exc:
            logger.exception("HL7 message could not be prepared")
            text = lossy_text(raw)
            header = loose_header(text)
            return Prepared(
                text, "utf-8", header, _key(header, text), timezone.now(), error=_internal(exc)
            )

    def _commit(self, prepared: list[Prepared]) -> list[Ack]:
        _heal_connection()
        try:
            with transaction.atomic():
                acks = self._handle_in_order(prepared)
            return acks
        except Exception:
            logger.exception("HL7: a transaction of %d message(s) failed", len(prepared))
            self._resolver = None  # a stale department id may be the cause
        if len(prepared) == 1:
            return [_unavailable(prepared[0])]
        acks = []
        for p in prepared:
            _heal_connection()
            try:
                with transaction.atomic():
                    acks.append(self._handle(p))
            except Exception:
                logger.exception("HL7 message %s could not be processed", p.key[2])
                acks.append(_unavailable(p))
        return acks

    def _handle_in_order(self, prepared: list[Prepared]) -> list[Ack]:
        """Each message in arrival order; consecutive plain upserts of different patients and
        visits are applied together (one ``apply_rows`` call, one insert of their log rows) —
        the same rows sequential processing would write, with a fraction of the queries."""
        acks: list[Ack | None] = [None] * len(prepared)
        run: list[int] = []
        seen: set = set()

        def flush():
            if len(run) > 1:
                grouped = self._apply_group([prepared[i] for i in run])
                if grouped is not None:
                    for i, ack in zip(run, grouped, strict=True):
                        acks[i] = ack
                    run.clear()
                    seen.clear()
                    return
            for i in run:  # one by one: a single message, or a group that did not go through
                acks[i] = self._handle(prepared[i])
            run.clear()
            seen.clear()

        for i, p in enumerate(prepared):
            marks = self._group_marks(p)
            if marks is None:
                flush()
                acks[i] = self._handle(p)
                continue
            if seen & marks:
                flush()
            run.append(i)
            seen |= marks
        flush()
        return acks

    def _group_marks(self, p: Prepared) -> set | None:
        """What a message touches, if it may join a group: a plain upsert whose department is
        known. Two messages sharing a mark (patient, visit or control id) are never grouped,
        so the second sees the first's result as it would one by one."""
        plan = p.plan
        if p.error is not None or p.extra or plan is None or plan.action != UPSERT:
            return None
        if plan.death_notice or self.resolver.department(plan.row.department) is None:
            return None
        row = plan.row
        return {("p", row.patient_no), ("v", row.visit_type, row.visit_no), ("k", *p.key)}

    def _apply_group(self, run: list[Prepared]) -> list[Ack] | None:
        """Apply a group in one savepoint, or return None to have it done one by one (a
        control id seen before — the log's unique constraint says so without a query — a row
        the upsert refuses, any database conflict)."""
        try:
            with transaction.atomic():
                for p in run:
                    self._link_staff(p.plan)
                logged = HL7Message.objects.bulk_create(
                    [self._row(p, MessageStatus.APPLIED, "AA") for p in run]
                )
                rows = [(i, p.plan.row) for i, p in enumerate(run)]
                outcomes = apply_rows(rows, Source.HL7, self.resolver)
                if any(outcome.status == "failed" for outcome in outcomes.values()):
                    raise _GroupFallback
        except (_GroupFallback, IntegrityError, DataError):
            return None
        return [
            _ack(p, "AA", "", MessageStatus.APPLIED, row.pk)
            for p, row in zip(run, logged, strict=True)
        ]

    def _handle(self, p: Prepared) -> Ack:
        if p.extra.get("target"):
            target = HL7Message.objects.filter(pk=p.extra["target"]).first()
            if target is None or target.status != MessageStatus.FAILED:
                return _ack(p, "AE", "该消息已不是失败状态，未重试", "", None)
            return self._reprocess(p, target)
        if p.error is not None:
            return self._store_failed(p, p.error)
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    row = self._log(p, MessageStatus.APPLIED, "AA")  # IntegrityError if known
                    self._execute(p.plan)
                return _ack(p, "AA", "", MessageStatus.APPLIED, row.pk)
            except IntegrityError:
                existing = _existing(p.key)
                if existing is None:
                    continue  # a data race with another writer (same new patient): try again
                if existing.status == MessageStatus.FAILED:
                    return self._reprocess(p, existing)
                return self._duplicate(p, existing)
            except _Failed as failed:
                return self._store_failed(p, failed.error)
        return self._store_failed(p, HL7Error("AE", [("", "数据冲突，已重试三次仍未成功")]))

    def _reprocess(self, p: Prepared, row: HL7Message) -> Ack:
        """A failed message again (resent by the HIS, or retried by a person)."""
        if p.error is not None:
            return self._update_failed(p, row, p.error)
        try:
            with transaction.atomic():
                claimed = HL7Message.objects.filter(pk=row.pk, status=MessageStatus.FAILED).update(
                    status=MessageStatus.APPLIED,
                    ack_code="AA",
                    error="",
                    raw=p.text,
                    processed_at=timezone.now(),
                    attempts=F("attempts") + 1,
                    patient_no=p.patient_no[:64],
                    visit_no=p.visit_no[:64],
                )
                if not claimed:  # retried or discarded meanwhile by someone else
                    return self._duplicate(p, HL7Message.objects.get(pk=row.pk))
                self._execute(p.plan)
            return _ack(p, "AA", "", MessageStatus.APPLIED, row.pk)
        except _Failed as failed:
            return self._update_failed(p, row, failed.error)

    def _store_failed(self, p: Prepared, error: HL7Error) -> Ack:
        try:
            with transaction.atomic():
                row = self._log(p, MessageStatus.FAILED, error.ack_code, error.reason)
            return _ack(p, error.ack_code, error.reason, MessageStatus.FAILED, row.pk, error)
        except IntegrityError:
            existing = _existing(p.key)
            if existing is None:
                raise
            if existing.status == MessageStatus.FAILED:
                return self._update_failed(p, existing, error)
            return self._duplicate(p, existing)

    def _update_failed(self, p: Prepared, row: HL7Message, error: HL7Error) -> Ack:
        HL7Message.objects.filter(pk=row.pk).update(
            raw=p.text,
            ack_code=error.ack_code,
            error=error.reason,
            processed_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
        return _ack(p, error.ack_code, error.reason, MessageStatus.FAILED, row.pk, error)

    def _duplicate(self, p: Prepared, existing: HL7Message) -> Ack:
        note = (
            f"重复的消息控制号（已于记录 #{existing.pk} {existing.get_status_display()}），未再处理"
        )
        row = self._log(p, MessageStatus.DUPLICATE, "AA", note)
        return _ack(p, "AA", "重复消息，未再次处理", MessageStatus.DUPLICATE, row.pk)

    def _log(self, p: Prepared, status: str, ack_code: str, error: str = "") -> HL7Message:
        row = self._row(p, status, ack_code, error)
        row.save(force_insert=True)
        return row

    def _row(self, p: Prepared, status: str, ack_code: str, error: str = "") -> HL7Message:
        app, facility, control_id = p.key
        return HL7Message(
            control_id=control_id[:64],
            sending_app=app[:64],
            sending_facility=facility[:64],
            message_type=p.header.type_label[:16],
            charset=(p.header.charset or CODEC_LABEL.get(p.codec, p.codec))[:16],
            raw=p.text,
            status=status,
            ack_code=ack_code,
            error=error,
            patient_no=p.patient_no[:64],
            visit_no=p.visit_no[:64],
            received_at=p.received_at,
            processed_at=timezone.now(),
        )

    def _execute(self, plan: Plan) -> None:
        """Apply the plan; any problem raises _Failed so the savepoint rolls back."""
        try:
            if plan.action == UPSERT:
                self._upsert(plan)
            elif plan.action == CANCEL_ADMIT:
                cancel_admission(self._visit(plan), source=Source.HL7, occurred_at=plan.occurred_at)
            elif plan.action == CANCEL_DISCHARGE:
                cancel_discharge(self._visit(plan), source=Source.HL7, occurred_at=plan.occurred_at)
            elif plan.action == MERGE:
                for survivor_no, prior_no in plan.merges:
                    survivor = _patient(survivor_no, "PID-3", "存活患者")
                    prior = _patient(prior_no, "MRG-1", "被合并患者")
                    merge_patients(prior, survivor, source=Source.HL7, occurred_at=plan.occurred_at)
        except PatientServiceError as exc:
            raise _Failed(HL7Error("AE", [("", str(exc))], "207")) from None
        except DataError:
            raise _Failed(
                HL7Error("AE", [("", "数据超出数据库字段的长度或格式（请检查各字段长度）")], "102")
            ) from None
        except (_Failed, IntegrityError, OperationalError, InterfaceError):
            raise  # conflicts are retried; a lost database fails the transaction (AR, resend)
        except Exception as exc:  # a bug: keep the message as a dead letter to retry after a fix
            logger.exception("HL7 message could not be applied")
            raise _Failed(_internal(exc)) from None

    def _upsert(self, plan: Plan) -> None:
        row, resolver = plan.row, self.resolver
        if resolver.department(row.department) is None:
            resolver.refresh()  # a department added since the listener started
            if resolver.department(row.department) is None:
                raise _Failed(
                    HL7Error(
                        "AE",
                        [
                            (
                                "PV1-3",
                                f"科室“{row.department}”不存在（请先导入科室表，或检查科室编码/名称）",
                            )
                        ],
                        "103",
                    )
                )
        for column, staff_id in plan.staff_ids.items():
            # The name first (it is what the visit shows); the staff number when only it matches.
            if (
                staff_id
                and resolver.person(getattr(row, column)) is None
                and resolver.person(staff_id)
            ):
                setattr(row, column, staff_id)
        outcome = apply_rows([(0, row)], Source.HL7, resolver)[0]
        if outcome.status == "failed":
            problems = [
                (LOCATION.get(col, ""), f"{LABELS.get(col, col)}：{reason}")
                for col, _value, reason in outcome.problems
            ]
            raise _Failed(HL7Error("AE", problems, "103"))
        if plan.death_notice:
            patient = Patient.objects.get(patient_no=row.patient_no)
            visit = Visit.objects.filter(pk=outcome.visit_id).first()
            record_death(patient, source=Source.HL7, at=plan.death_at, visit=visit)

    def _link_staff(self, plan: Plan) -> None:
        # The HIS name first (it is what the visit shows); the staff number when only it matches.
        row, resolver = plan.row, self.resolver
        for column, staff_id in plan.staff_ids.items():
            if (
                staff_id
                and resolver.person(getattr(row, column)) is None
                and resolver.person(staff_id)
            ):
                setattr(row, column, staff_id)

    def _visit(self, plan: Plan) -> Visit:
        visits = Visit.objects.select_related("patient").filter(visit_no=plan.visit_no)
        if plan.visit_type:
            visits = visits.filter(visit_type=plan.visit_type)
        found = list(visits[:2])
        if not found:
            raise _Failed(HL7Error("AE", [("PV1-19", f"就诊“{plan.visit_no}”不存在")], "204"))
        if len(found) > 1:
            raise _Failed(
                HL7Error(
                    "AE",
                    [("PV1-2", f"就诊号“{plan.visit_no}”对应多种就诊类型，请填写 PV1-2")],
                    "101",
                )
            )
        visit = found[0]
        owner = visit.patient
        if (
            owner.patient_no != plan.patient_no
            and not Patient.objects.filter(patient_no=plan.patient_no, merged_into=owner).exists()
        ):
            raise _Failed(
                HL7Error(
                    "AE",
                    [
                        (
                            "PID-3",
                            f"就诊“{plan.visit_no}”属于患者 {owner.patient_no}，与 PID-3“{plan.patient_no}”不符",
                        )
                    ],
                    "204",
                )
            )
        return visit


def process_message(raw: bytes | str, *, processor: Processor | None = None) -> Ack:
    """P4.2: one HL7 message (the MLLP payload, bytes or text) → its ACK, after commit."""
    return (processor or Processor()).process(raw)


def _key(header: Header, text: str) -> tuple[str, str, str]:
    return (header.sending_app, header.sending_facility, header.control_id or digest(text))


def _existing(key) -> HL7Message | None:
    app, facility, control_id = key
    return (
        HL7Message.objects.filter(
            sending_app=app[:64],
            sending_facility=facility[:64],
            control_id=control_id[:64],
            status__in=KEPT,
        )
        .order_by("pk")
        .first()
    )


def _patient(patient_no: str, location: str, label: str) -> Patient:
    patient = Patient.objects.filter(patient_no=patient_no).first()
    if patient is None:
        raise _Failed(HL7Error("AE", [(location, f"{label}“{patient_no}”不存在")], "204"))
    return patient


def _internal(exc: Exception) -> HL7Error:
    return HL7Error(
        "AE", [("", f"内部错误（{type(exc).__name__}），消息已保存为死信，修复后可重试")], "207"
    )


def _ack(p: Prepared, code, text, status, message_id, error: HL7Error | None = None) -> Ack:
    problems = error.problems if error else []
    hl7_text = build_ack(
        p.header,
        code,
        text,
        errors=problems,
        hl7_code=error.hl7_code if error else "0",
        tz=ZoneInfo(settings.TIME_ZONE),
    )
    return Ack(code, text, status, message_id, hl7_text, encode_ack(hl7_text, p.codec))


def _unavailable(p: Prepared) -> Ack:
    error = HL7Error("AR", [("", "系统暂时无法保存消息，请稍后重发")], "207")
    return _ack(p, "AR", error.reason, "", None, error)


def _heal_connection() -> None:
    # A long-lived listener thread keeps its connection (no connect per message); one that
    # broke (database restarted) is dropped so the next query reconnects.
    # Inside a caller's transaction (a test, the retry view) the caller owns the connection.
    if connection.in_atomic_block or connection.connection is None:
        return
    if connection.errors_occurred:
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()
