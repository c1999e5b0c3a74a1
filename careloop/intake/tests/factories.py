"""Helpers for the §9 visit-import tests: files in every accepted shape, the command, dumps.

Two kinds of dump:
- ``raw_tables()`` reads every patient-data table with raw SQL, ids, timestamps and ciphertext
  included: "nothing was written" means this is byte-for-byte the same.
- ``natural_dump()`` reads the same tables by natural keys (patient number, visit type and
  number, department code), decrypted, without surrogate ids or write timestamps: "the same
  state" for two runs into different databases (PostgreSQL sequences are never rolled back).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import openpyxl
from django.core.management import call_command
from django.db import connection

from careloop.patients.models import Diagnosis, Patient, PatientEvent, PatientPhone, Visit

# §9 columns in file order: (Chinese header, English header).
COLUMNS = [
    ("病历号", "patient_id"),
    ("姓名", "name"),
    ("性别", "sex"),
    ("出生日期", "birth_date"),
    ("联系电话", "phone"),
    ("身份证号", "id_number"),
    ("家庭住址", "address"),
    ("就诊类型", "visit_type"),
    ("住院号", "visit_no"),
    ("科室", "department"),
    ("初诊", "first_visit"),
    ("入院时间", "admitted_at"),
    ("出院时间", "discharged_at"),
    ("就诊时间", "visit_at"),
    ("出院诊断", "diagnosis"),
    ("诊断编码", "icd10"),
    ("离院方式", "disposition"),
    ("欠费清理", "cleared_out"),
    ("主管医生", "attending_doctor"),
    ("责任护士", "responsible_nurse"),
    ("总费用", "total_cost"),
    ("特殊病人", "special"),
    ("慢病", "chronic"),
    ("流失", "lost"),
    ("医疗纠纷", "dispute"),
    ("拒访", "refused"),
]
HEADERS_ZH = [zh for zh, _en in COLUMNS]
HEADERS_EN = [en for _zh, en in COLUMNS]

# Valid GB 11643 numbers (check characters computed by hand: 7·4+9·2+10·0+… mod 11).
ID_ZHANG = "11010519491231002X"
ID_LI = "440524188001010014"

# The four rows every import test starts from (values as a HIS export writes them).
BASE_ROWS = [
    {
        "patient_id": "P0001", "name": "张三", "sex": "男", "birth_date": "1949-12-31",
        "phone": "+86 138 1234 5678;0571-87654321", "id_number": ID_ZHANG,
        "address": "浙江省杭州市西湖区文三路100号", "visit_type": "住院", "visit_no": "Z2024001",
        "department": "XNK", "first_visit": "", "admitted_at": "2024-05-01 08:30",
        "discharged_at": "2024-05-10 10:00", "visit_at": "", "diagnosis": "急性心肌梗死;高血压",
        "icd10": "I21.9;I10", "disposition": "1", "cleared_out": "否",
        "attending_doctor": "王医生", "responsible_nurse": "赵护士",
        "total_cost": "12,345.60元", "special": "否", "chronic": "是", "lost": "",
        "dispute": "否", "refused": "否",
    },
    {
        "patient_id": "P0002", "name": "李四", "sex": "2", "birth_date": "1980/01/01",
        "phone": "13900001111 13700002222", "id_number": ID_LI,
        "address": "广东省汕头市潮阳区", "visit_type": "住院", "visit_no": "Z2024002",
        "department": "骨科病区", "first_visit": "", "admitted_at": "2024/05/03 14:00",
        "discharged_at": "2024/05/20 09:15", "visit_at": "", "diagnosis": "股骨颈骨折",
        "icd10": "S72.0", "disposition": "医嘱转院", "cleared_out": "是",
        "attending_doctor": "", "responsible_nurse": "", "total_cost": "8000",
        "special": "是", "chronic": "否", "lost": "", "dispute": "是", "refused": "否",
    },
    {
        "patient_id": "P0001", "name": "张三", "sex": "男", "birth_date": "1949-12-31",
        "phone": "+86 138 1234 5678;0571-87654321", "id_number": ID_ZHANG,
        "address": "浙江省杭州市西湖区文三路100号", "visit_type": "门诊", "visit_no": "M2024101",
        "department": "心血管内科病区", "first_visit": "是", "admitted_at": "",
        "discharged_at": "", "visit_at": "2024-06-01 09:00", "diagnosis": "高血压",
        "icd10": "I10", "disposition": "", "cleared_out": "否", "attending_doctor": "",
        "responsible_nurse": "", "total_cost": "", "special": "否", "chronic": "是",
        "lost": "否", "dispute": "否", "refused": "否",
    },
    {
        "patient_id": "P0003", "name": "王五", "sex": "未知", "birth_date": "",
        "phone": "", "id_number": "", "address": "", "visit_type": "住院",
        "visit_no": "Z2024003", "department": "GK", "first_visit": "",
        "admitted_at": "2024-05-05 22:00", "discharged_at": "2024-05-07 03:40", "visit_at": "",
        "diagnosis": "多发伤", "icd10": "T07", "disposition": "死亡", "cleared_out": "",
        "attending_doctor": "", "responsible_nurse": "", "total_cost": "56,000.00",
        "special": "否", "chronic": "否", "lost": "", "dispute": "否", "refused": "否",
    },
]  # fmt: skip


def base_rows() -> list[dict]:
    return [dict(r) for r in BASE_ROWS]


def table(rows: list[dict], headers: list[str] = HEADERS_ZH) -> list[list]:
    """Header row + data rows; ``headers`` may be any case or language, in §9 column order."""
    return [list(headers)] + [[r.get(en, "") for en in HEADERS_EN] for r in rows]


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def run_command(path, *args, capsys=None) -> tuple[int, str, str]:
    """`careloop import visits FILE ARGS` in process → (exit status, stdout, stderr)."""
    code = 0
    try:
        call_command("import", "visits", str(path), *args)
    except SystemExit as exc:
        code = exc.code
    if capsys is None:
        return code, "", ""
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# Parents first; deleting goes the other way.
PATIENT_TABLES = [Patient, PatientPhone, Visit, Diagnosis, PatientEvent]


def raw_tables() -> dict[str, list[tuple]]:
    """Every row of every patient-data table as stored (ciphertext, ids, timestamps)."""
    dump = {}
    with connection.cursor() as cursor:
        for model in PATIENT_TABLES:
            name = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {name} ORDER BY id")  # our own table names
            dump[model._meta.db_table] = [tuple(row) for row in cursor.fetchall()]
    return dump


def natural_dump() -> dict[str, list[tuple]]:
    """The patient-data tables by natural keys, decrypted, without ids or write timestamps."""
    patients = sorted(
        Patient.objects.values_list(
            "patient_no", "name", "sex", "birth_date", "birth_date_estimated", "id_number",
            "address", "is_deceased", "deceased_at", "do_not_contact", "open_dispute",
            "privacy_sensitive", "merged_into__patient_no",
        )
    )  # fmt: skip
    phones = sorted(
        PatientPhone.objects.values_list(
            "patient__patient_no", "position", "number", "owner", "is_preferred"
        )
    )
    visits = sorted(
        Visit.objects.values_list(
            "visit_type", "visit_no", "patient__patient_no", "department__code",
            "attending_doctor__username", "attending_doctor_name",
            "responsible_nurse__username", "responsible_nurse_name", "admitted_at",
            "discharged_at", "visit_at", "disposition", "cleared_out", "total_cost",
            "first_visit", "lost", "special", "chronic", "status", "source",
        )
    )  # fmt: skip
    diagnoses = sorted(
        Diagnosis.objects.values_list(
            "visit__visit_type", "visit__visit_no", "position", "code", "text", "is_principal"
        )
    )
    events = sorted(
        (
            patient_no,
            (visit_type, visit_no) if visit_no is not None else None,
            kind,
            occurred_at if kind == "death" else None,  # the others are stamped "now"
            repr(sorted(detail.items())),
            source,
        )
        for patient_no, visit_type, visit_no, kind, occurred_at, detail, source in (
            PatientEvent.objects.values_list(
                "patient__patient_no", "visit__visit_type", "visit__visit_no", "kind",
                "occurred_at", "detail", "source",
            )
        )
    )  # fmt: skip
    return {
        "patients": patients,
        "phones": phones,
        "visits": visits,
        "diagnoses": diagnoses,
        "events": events,
    }


def delete_patient_data() -> None:
    """Empty the patient tables, children first (Visit → Patient is PROTECT).

    Plain DELETE statements: the ORM's delete() would load every row and write an audit event
    for each of them (S2 signals), which for 30,000 visits costs more than the import itself.
    """
    from careloop.followup.models import FollowUpTask, TaskEvent
    from careloop.patients.models import VisitChange

    with connection.cursor() as cursor:
        for model in (TaskEvent, FollowUpTask, VisitChange):  # what the planner keeps per visit
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        for model in reversed(PATIENT_TABLES):  # events, diagnoses, visits, phones, patients
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def many_rows(n: int, *, seed: int = 3, departments=("XNK", "GK")) -> list[list]:
    """``n`` distinct valid visits (English headers) over ~n/3 patients, every patient's own
    data the same on each of its rows; one visit in 97 ends in death (P5 events)."""
    rng = random.Random(seed)
    patients = max(n // 3, 1)
    family = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"
    given = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英"
    rows = [list(HEADERS_EN)]
    for i in range(n):
        p = rng.randrange(patients)
        prng = random.Random(p)  # the patient's own data depends on the patient only
        name = family[p % len(family)] + given[prng.randrange(len(given))]
        sex = "男" if p % 2 else "女"
        birth = (
            f"{1930 + prng.randrange(80)}-{1 + prng.randrange(12):02d}-{1 + prng.randrange(28):02d}"
        )
        phone = f"1{prng.choice('3589')}{prng.randrange(10**9):09d}"
        if p % 5 == 0:
            phone += f";0571-{prng.randrange(10**8):08d}"
        day = 1 + i % 28
        month = 1 + (i // 28) % 12
        inpatient = i % 4 != 3
        death = i % 97 == 0
        row = {
            "patient_id": f"P{p:06d}",
            "name": name,
            "sex": sex,
            "birth_date": birth,
            "phone": phone,
            "address": f"浙江省杭州市第{p}街道{prng.randrange(300)}号",
            "visit_type": "住院" if inpatient else "门诊",
            "visit_no": f"{'Z' if inpatient else 'M'}{i:07d}",
            "department": departments[i % len(departments)],
            "first_visit": "" if inpatient else rng.choice("是否"),
            "admitted_at": f"2024-{month:02d}-{day:02d} 08:{i % 60:02d}" if inpatient else "",
            "discharged_at": f"2024-{month:02d}-{day:02d} 17:{i % 60:02d}" if inpatient else "",
            "visit_at": "" if inpatient else f"2024-{month:02d}-{day:02d} 10:{i % 60:02d}",
            "diagnosis": "高血压;2型糖尿病" if i % 3 == 0 else "股骨颈骨折",
            "icd10": "I10;E11.9" if i % 3 == 0 else "S72.0",
            "disposition": ("5" if death else rng.choice("12349")) if inpatient else "",
            "total_cost": f"{rng.randrange(100, 99999)}.{rng.randrange(100):02d}",
            "chronic": "是" if i % 3 == 0 else "否",
            "dispute": "否",
            "refused": "否",
        }
        rows.append([row.get(en, "") for en in HEADERS_EN])
    return rows
