"""Demo patients and visits over the last 120 days, written through the real intake path
(``apply_rows``), with every case the follow-up rules must handle: each disposition including
deaths, stays under 24 hours, open disputes, privacy-sensitive diagnoses (E5), refusals (E6),
patients without a phone, first and repeat outpatient visits in specialist and basic clinics."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from careloop.accounts.models import User
from careloop.accounts.roles import Role
from careloop.intake.rows import VisitRow
from careloop.intake.upsert import Resolver, apply_rows
from careloop.org.choices import DepartmentKind as K
from careloop.org.models import Department
from careloop.patients.choices import Source
from careloop.patients.models import Visit

DAYS = 120
INPATIENTS = 480
OUTPATIENTS = 360

# (ICD-10, text) by department code; the privacy-sensitive ones (E5) are added separately.
DIAGNOSES = {
    "XNK": [
        ("I25.1", "冠状动脉粥样硬化性心脏病"),
        ("I10", "原发性高血压"),
        ("I50.9", "心力衰竭"),
        ("I48", "心房颤动"),
    ],
    "HXK": [("J18.9", "肺炎"), ("J44.1", "慢性阻塞性肺疾病急性加重"), ("J45.9", "支气管哮喘")],
    "XHK": [("K29.7", "胃炎"), ("K80.2", "胆囊结石"), ("K92.2", "消化道出血")],
    "SJNK": [("I63.9", "脑梗死"), ("G40.9", "癫痫"), ("G20", "帕金森病")],
    "GK": [("S72.0", "股骨颈骨折"), ("M17.1", "膝关节骨关节炎"), ("M51.2", "腰椎间盘突出")],
    "PWK": [("K35.8", "急性阑尾炎"), ("K40.9", "腹股沟疝"), ("C18.9", "结肠恶性肿瘤")],
    "SJWK": [("S06.5", "硬膜下血肿"), ("D32.0", "脑膜瘤")],
    "FCK": [("O80", "单胎顺产"), ("D25.9", "子宫平滑肌瘤"), ("O82", "剖宫产")],
    "KFK": [("Z50.1", "康复治疗"), ("I69.3", "脑梗死后遗症")],
}
OUTPATIENT_DIAGNOSES = [("J06.9", "上呼吸道感染"), ("H52.1", "近视"), ("K02.9", "龋病"), ("I10", "原发性高血压"),
                        ("M54.5", "腰痛"), ("L20.9", "特应性皮炎"), ("E11.9", "2型糖尿病")]  # fmt: skip
SENSITIVE = [("A53.9", "梅毒"), ("B20", "HIV 病"), ("O04.9", "医疗性流产")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建文斌宇浩凯鹏辉晨欣怡雪梅琳婷颖佳慧淑珍志海燕晓东"
STREETS = ["解放大道", "中山路", "建设大道", "友谊路", "长江路", "和平街", "光明路", "新华路"]


def _name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_number(rng, birth):
    from careloop.intake.rows import ID_CHECK, ID_WEIGHTS

    body = f"420106{birth:%Y%m%d}{rng.randint(100, 999)}"
    return body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def _staff_name(role, dept_code):
    user = (
        User.objects.filter(groups__name=role, departments__code=dept_code)
        .order_by("username")
        .first()
    )
    return user.full_name if user else ""


def build_patients(seed: int = 2026) -> dict:
    """Create the demo's patients and visits once; a later run adds nothing."""
    if Visit.objects.filter(source=Source.DEMO).exists():
        return {"created": 0}
    rng = random.Random(seed)
    now = timezone.localtime()
    depts = {d.code: d for d in Department.objects.all()}
    wards = [c for c in DIAGNOSES if c in depts]
    clinics = [c for c, d in depts.items() if d.kind in (K.SPECIALIST, K.BASIC)]
    rows: list[VisitRow] = []
    people: list[dict] = []
    for n in range(INPATIENTS + OUTPATIENTS // 2):
        birth = (now - timedelta(days=rng.randint(18 * 365, 90 * 365))).date()
        people.append({
            "patient_no": f"D{100000 + n}",
            "name": _name(rng),
            "sex": rng.choice("12"),
            "birth_date": birth,
            "phones": [] if rng.random() < 0.05 else [f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}"]
            + ([f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}"] if rng.random() < 0.3 else []),
            "id_number": _id_number(rng, birth) if rng.random() < 0.7 else "",
            "address": f"湖北省武汉市江汉区{rng.choice(STREETS)}{rng.randint(1, 300)}号",
            "dispute": rng.random() < 0.02,
            "refused": rng.random() < 0.03,
        })  # fmt: skip
    present = frozenset({"name", "sex", "birth_date", "phone", "id_number", "address", "dispute", "refused",
                         "department", "admitted_at", "discharged_at", "visit_at", "diagnosis", "disposition",
                         "cleared_out", "attending_doctor", "responsible_nurse", "total_cost", "special",
                         "chronic", "first_visit", "lost"})  # fmt: skip
    staff = {
        code: (_staff_name(Role.DOCTOR, code), _staff_name(Role.NURSE, code)) for code in depts
    }
    for n in range(INPATIENTS):
        person = people[n]
        code = rng.choice(wards)
        admitted = now - timedelta(days=rng.uniform(3, DAYS), hours=rng.uniform(0, 12))
        if rng.random() < 0.04:
            stay = timedelta(hours=rng.uniform(3, 23))  # E3: under 24 hours
        else:
            stay = timedelta(days=rng.randint(2, 20), hours=rng.uniform(0, 10))
        discharged = admitted + stay
        if discharged > now - timedelta(hours=1):
            discharged = None  # still in hospital
        disposition = rng.choices(["1", "2", "3", "4", "5", "9"], weights=[84, 4, 4, 3, 3, 2])[0]
        diagnoses = rng.sample(DIAGNOSES[code], k=min(len(DIAGNOSES[code]), rng.choice((1, 2))))
        if rng.random() < 0.03:
            diagnoses.append(rng.choice(SENSITIVE))  # E5 on a secondary diagnosis
        doctor, nurse = staff.get(code, ("", ""))
        rows.append(VisitRow(
            patient_no=person["patient_no"], name=person["name"], visit_type="inpatient", visit_no=f"ZY{200000 + n}",
            department=code, sex=person["sex"], birth_date=person["birth_date"], phones=person["phones"],
            id_number=person["id_number"], address=person["address"], dispute=person["dispute"],
            refused=person["refused"], admitted_at=admitted, discharged_at=discharged,
            disposition=disposition if discharged else "", diagnoses=diagnoses,
            cleared_out=bool(discharged) and rng.random() < 0.02, attending_doctor=doctor, responsible_nurse=nurse,
            total_cost=Decimal(rng.randint(1500, 80000)), special=rng.random() < 0.05, chronic=rng.random() < 0.25,
            present=present,
        ))  # fmt: skip
    for n in range(OUTPATIENTS):
        person = people[
            INPATIENTS + n // 2
        ]  # every outpatient comes twice: a first and a repeat visit
        code = rng.choice(clinics)
        first = n % 2 == 0
        day = now - timedelta(days=rng.uniform(1, DAYS) if first else rng.uniform(0.5, 30))
        visit_at = datetime.combine(
            day.date(), time(rng.randint(8, 16), rng.choice((0, 15, 30, 45))), tzinfo=now.tzinfo
        )
        rows.append(VisitRow(
            patient_no=person["patient_no"], name=person["name"], visit_type="outpatient", visit_no=f"MZ{500000 + n}",
            department=code, sex=person["sex"], birth_date=person["birth_date"], phones=person["phones"],
            id_number=person["id_number"], address=person["address"], dispute=person["dispute"],
            refused=person["refused"], visit_at=visit_at, diagnoses=[rng.choice(OUTPATIENT_DIAGNOSES)],
            first_visit=first, lost=first and rng.random() < 0.1, attending_doctor=staff.get(code, ("", ""))[0],
            total_cost=Decimal(rng.randint(50, 1500)), present=present,
        ))  # fmt: skip
    rows.sort(key=lambda r: r.admitted_at or r.visit_at)
    resolver = Resolver()
    created = 0
    for start in range(0, len(rows), 500):
        with transaction.atomic():
            outcomes = apply_rows(
                list(enumerate(rows[start : start + 500], start=start)), Source.DEMO, resolver
            )
        created += sum(1 for o in outcomes.values() if o.status == "created")
    return {"created": created}


DEMO_POLICIES = ("kf-phone", "discharge-nurse")


def plan_demo() -> dict:
    """F1 and F2 on, as the service centre and the wards would run them, then plan (issue 4)."""
    from careloop.followup.choices import TaskStatus
    from careloop.followup.models import FollowUpTask, Policy
    from careloop.followup.planner import plan
    from careloop.followup.presets import ensure_presets
    from careloop.followup.services import activate_policy

    ensure_presets()
    for policy in Policy.objects.filter(slug__in=DEMO_POLICIES):
        activate_policy(policy)
    summary = plan()
    summary["due"] = FollowUpTask.objects.filter(status=TaskStatus.DUE).count()
    return summary
