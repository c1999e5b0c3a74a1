"""The fictional demo hospital, modelled on seed 002 (客服中心 with 内科组/外科组/急诊组 in the
内科楼, 外科楼 and 门急诊楼). Idempotent: running it again adds what is missing and changes
nothing else; passwords are set only for accounts it creates (or with reset_passwords)."""

from __future__ import annotations

import random
import secrets
import string
from dataclasses import dataclass, field
from datetime import time, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from careloop.accounts.models import User
from careloop.accounts.roles import Role, sync_role_groups
from careloop.org.choices import DepartmentKind as K
from careloop.org.models import Campus, Department, RosterEntry, ShiftPattern, Team

CAMPUSES = [("ZY", "总院", "示范市健康路 1 号"), ("DY", "东院", "示范市东湖路 88 号")]

# code, name, kind, campus, building
DEPARTMENTS = [
    ("XNK", "心血管内科病区", K.INPATIENT, "ZY", "内科楼"),
    ("HXK", "呼吸内科病区", K.INPATIENT, "ZY", "内科楼"),
    ("XHK", "消化内科病区", K.INPATIENT, "ZY", "内科楼"),
    ("SJNK", "神经内科病区", K.INPATIENT, "ZY", "内科楼"),
    ("GK", "骨科病区", K.INPATIENT, "ZY", "外科楼"),
    ("PWK", "普外科病区", K.INPATIENT, "ZY", "外科楼"),
    ("SJWK", "神经外科病区", K.INPATIENT, "ZY", "外科楼"),
    ("FCK", "妇产科病区", K.INPATIENT, "ZY", "外科楼"),
    ("KFK", "康复医学科病区", K.INPATIENT, "DY", "康复楼"),
    ("MZ-XNK", "心血管内科门诊", K.SPECIALIST, "ZY", "门急诊楼"),
    ("MZ-GK", "骨科门诊", K.SPECIALIST, "ZY", "门急诊楼"),
    ("MZ-YK", "眼科门诊", K.SPECIALIST, "ZY", "门急诊楼"),
    ("MZ-KQ", "口腔科门诊", K.SPECIALIST, "ZY", "门急诊楼"),
    ("MZ-NK", "内科门诊", K.BASIC, "ZY", "门急诊楼"),
    ("MZ-WK", "外科门诊", K.BASIC, "ZY", "门急诊楼"),
    ("MZ-QK", "全科医学门诊", K.BASIC, "DY", "门诊楼"),
    ("JZK", "急诊科", K.EMERGENCY, "ZY", "门急诊楼"),
    ("YWK", "医务科", K.FUNCTIONAL, "ZY", "行政楼"),
    ("HLB", "护理部", K.FUNCTIONAL, "ZY", "行政楼"),
    ("KFZX", "客服中心", K.FUNCTIONAL, "ZY", "内科楼"),
]

# seed 002: 内科一楼大厅 (内科组), 外科楼一楼大厅 (外科组), 门急诊 (急诊组)
TEAMS = [
    ("NKZ", "内科组", "内科楼一楼大厅客服中心总台"),
    ("WKZ", "外科组", "外科楼一楼大厅客服中心"),
    ("JZZ", "急诊组", "门急诊楼客服中心"),
]
SHIFTS = [
    ("ZAO", "早班", time(7, 30), time(15, 30)),
    ("ZHONG", "中班", time(15, 30), time(23, 0)),
    ("YE", "夜班", time(23, 0), time(7, 30)),
    ("BAI", "白班", time(8, 0), time(17, 0)),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建华文斌宇浩凯鹏辉晨欣怡雪梅琳婷颖佳慧淑珍志强海燕晓东子涵思远梓萱一鸣"


@dataclass
class DemoAccount:
    username: str
    name: str
    roles: list[str]
    departments: list[str]
    password: str | None = None  # set only when it was (re)set by this run


@dataclass
class DemoResult:
    accounts: list[DemoAccount] = field(default_factory=list)
    created_departments: int = 0
    created_users: int = 0
    created_roster: int = 0


def strong_password(rng: secrets.SystemRandom | random.Random | None = None) -> str:
    """12 characters with all four classes (S1 needs three)."""
    rng = rng or secrets.SystemRandom()
    pools = [string.ascii_uppercase, string.ascii_lowercase, string.digits, "!@#%^*-_=+"]
    chars = [rng.choice(p) for p in pools] + [rng.choice("".join(pools)) for _ in range(8)]
    rng.shuffle(chars)
    return "".join(chars)


def _accounts_plan() -> list[tuple[str, list[str], list[str]]]:
    """(username, roles, department codes) for every demo account."""
    plan: list[tuple[str, list[str], list[str]]] = []
    wards = [d for d in DEPARTMENTS if d[2] == K.INPATIENT]
    for code, _name, _k, _c, _b in wards:
        slug = code.lower()
        plan += [
            (f"nurse.{slug}", [Role.NURSE], [code]),
            (f"nurse2.{slug}", [Role.NURSE], [code]),
            (f"doctor.{slug}", [Role.DOCTOR], [code]),
            (f"headnurse.{slug}", [Role.HEAD_NURSE], [code]),
            (f"head.{slug}", [Role.DEPT_HEAD], [code]),
        ]
    for code, _name, kind, _c, _b in DEPARTMENTS:
        if kind in (K.SPECIALIST, K.BASIC, K.EMERGENCY):
            plan.append((f"doctor.{code.lower()}", [Role.DOCTOR], [code]))
    plan += [
        ("agent1", [Role.AGENT], ["KFZX"]),
        ("agent2", [Role.AGENT], ["KFZX"]),
        ("agent3", [Role.AGENT], ["KFZX"]),
        ("supervisor", [Role.SUPERVISOR], ["KFZX"]),
        ("consultant1", [Role.CONSULTANT], ["KFZX"]),
        ("consultant2", [Role.CONSULTANT], ["KFZX"]),
        ("medaffairs", [Role.MEDICAL_AFFAIRS], ["YWK"]),
        ("nursingdept", [Role.NURSING_DEPT], ["HLB"]),
        ("leader", [Role.LEADERSHIP], []),
        ("sysadmin", [Role.SYSADMIN], []),
        ("secadmin", [Role.SECADMIN], []),
        ("auditor", [Role.AUDITOR], []),
        ("his.client", [Role.HIS_CLIENT], []),
    ]
    for team_code, _n, _l in TEAMS:
        slug = team_code.lower()
        plan.append((f"dispatcher.{slug}", [Role.DISPATCHER], ["KFZX"]))
        plan += [(f"porter{i}.{slug}", [Role.PORTER], ["KFZX"]) for i in (1, 2, 3)]
    return plan


@transaction.atomic
def build_demo(
    seed: int = 2026, password: str | None = None, reset_passwords: bool = False
) -> DemoResult:
    rng = random.Random(seed)
    result = DemoResult()
    sync_role_groups()
    campuses = {}
    for code, name, address in CAMPUSES:
        campuses[code], _ = _code_or_name(Campus, code, name, {"address": address})
    depts = {}
    for code, name, kind, campus, building in DEPARTMENTS:
        depts[code], created = _code_or_name(
            Department, code, name, {"kind": kind, "campus": campuses[campus], "building": building}
        )
        result.created_departments += created
    teams = {}
    for code, name, location in TEAMS:
        teams[code], _ = _code_or_name(
            Team, code, name, {"department": depts["KFZX"], "location": location}
        )
    shifts = {}
    for code, name, start, end in SHIFTS:
        shifts[code], _ = ShiftPattern.objects.get_or_create(
            code=code, defaults={"name": name, "start": start, "end": end}
        )

    groups = {g.name: g for g in Group.objects.all()}
    used_names = set(User.objects.values_list("full_name", flat=True))
    for index, (username, roles, dept_codes) in enumerate(_accounts_plan(), start=1):
        user = User.objects.filter(username=username).first()
        new_password = None
        if user is None:
            name = _unique_name(rng, used_names)
            user = User(
                username=username,
                full_name=name,
                staff_no=f"D{index:04d}",
                title=str(Role(roles[0]).label),
            )
            new_password = password or strong_password()
            user.set_password(new_password)
            user.phone = f"139{rng.randint(10000000, 99999999)}"
            user.save()
            user.groups.set([groups[r] for r in roles])
            user.departments.set([depts[c] for c in dept_codes])
            result.created_users += 1
        elif reset_passwords:
            new_password = password or strong_password()
            user.set_password(new_password)
            user.save()
        result.accounts.append(
            DemoAccount(
                username,
                user.full_name,
                [str(Role(r).label) for r in roles],
                dept_codes,
                new_password,
            )
        )
        team_code = (
            username.rsplit(".", 1)[-1].upper()
            if username.startswith(("porter", "dispatcher"))
            else None
        )
        if team_code in teams:
            teams[team_code].members.add(user)

    result.created_roster = _roster(depts, teams, shifts)
    return result


def _code_or_name(model, code: str, name: str, defaults: dict):
    """An existing row with the code, or else with the name (a hospital's own import), or a new one."""
    found = model.objects.filter(code=code).first() or model.objects.filter(name=name).first()
    if found is not None:
        return found, False
    return model.objects.create(code=code, name=name, **defaults), True


def _unique_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if name not in used:
            used.add(name)
            return name


def _roster(depts, teams, shifts) -> int:
    """Two weeks from today: porters and dispatchers rotate 早/中/夜 in their group; ward nurses
    白班/夜班; follow-up agents 白班 on working days."""
    today = timezone.localdate()
    wanted = []
    for team in teams.values():
        members = list(team.members.order_by("username"))
        for day in range(14):
            date = today + timedelta(days=day)
            for i, member in enumerate(members):
                shift = shifts[("ZAO", "ZHONG", "YE")[(i + day) % 3]]
                wanted.append(
                    RosterEntry(
                        date=date, shift=shift, staff=member, department=depts["KFZX"], team=team
                    )
                )
    for _code, dept in depts.items():
        if dept.kind != K.INPATIENT:
            continue
        nurses = list(
            User.objects.filter(departments=dept, groups__name=Role.NURSE).order_by("username")
        )
        for day in range(14):
            date = today + timedelta(days=day)
            for i, nurse in enumerate(nurses):
                shift = shifts["BAI" if (i + day) % 2 == 0 else "YE"]
                wanted.append(RosterEntry(date=date, shift=shift, staff=nurse, department=dept))
    # Follow-up agents work the day shift on working days (F6), so the planner has someone on
    # duty to share the pool's tasks out to (F12).
    from careloop.calendars.services import get_calendar

    calendar = get_calendar()
    agents = list(User.objects.filter(groups__name=Role.AGENT, is_active=True).order_by("username"))
    for day in range(14):
        date = today + timedelta(days=day)
        if calendar.is_workday(date):
            for agent in agents:
                wanted.append(
                    RosterEntry(
                        date=date, shift=shifts["BAI"], staff=agent, department=depts["KFZX"]
                    )
                )
    existing = set(
        RosterEntry.objects.filter(date__gte=today).values_list("date", "shift_id", "staff_id")
    )
    new = [e for e in wanted if (e.date, e.shift_id, e.staff_id) not in existing]
    for entry in new:
        entry.save()  # save() rather than bulk_create: the audit trail records each entry
    return len(new)
