"""§9 departments sheet: 科室编码 / code, 科室名称 / name, 类别 / kind, 院区 / campus (optional).

The whole file is checked first; then all good rows are written in one transaction (nothing is
half-written). Re-importing the same file changes nothing.
"""

from __future__ import annotations

from django.db import transaction

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.core.importing import ImportResult
from careloop.lib.tabular import Column, read_table
from careloop.org.choices import KIND_ALIASES, DepartmentKind
from careloop.org.models import Campus, Department

COLUMNS = [
    Column("code", ("科室编码", "编码", "code"), required=True, label="科室编码"),
    Column("name", ("科室名称", "名称", "name"), required=True, label="科室名称"),
    Column("kind", ("类别", "科室类别", "kind"), required=True, label="类别"),
    Column("campus", ("院区", "campus"), label="院区"),
    Column("building", ("楼宇", "building"), label="楼宇"),
]


def parse_kind(text: str) -> str | None:
    value = text.strip().lower()
    if value in {k.value for k in DepartmentKind}:
        return value
    found = KIND_ALIASES.get(value) or KIND_ALIASES.get(text.strip())
    return found.value if found else None


def _unique_text(
    result: ImportResult, number: int, label: str, value: str, limit: int, seen: dict
) -> bool:
    """Required, at most ``limit`` characters, and not repeated in the file."""
    if not value:
        result.error(number, label, value, f"{label}不能为空")
    elif len(value) > limit:
        result.error(number, label, value, f"{label}不能超过 {limit} 个字符")
    elif value in seen:
        result.error(number, label, value, f"与第 {seen[value]} 行的{label}重复")
    else:
        return True
    return False


def import_departments(
    path, *, dry_run: bool = False, strict: bool = False, sheet=None
) -> ImportResult:
    _hm, rows = read_table(path, COLUMNS, sheet)
    result = ImportResult(dry_run=dry_run)
    good: list[tuple[int, dict]] = []
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for number, row in rows:
        code, name = row.get("code", ""), row.get("name", "")
        ok = _unique_text(result, number, "科室编码", code, 32, seen_codes)
        ok = _unique_text(result, number, "科室名称", name, 64, seen_names) and ok
        kind = parse_kind(row.get("kind", ""))
        if kind is None:
            result.error(
                number,
                "类别",
                row.get("kind", ""),
                "类别应为：住院病区、专科门诊、基础门诊、急诊、职能（或 inpatient/specialist/basic/emergency/functional）",
            )
            ok = False
        if ok:
            seen_codes[code] = number
            seen_names[name] = number
            good.append((number, {**row, "kind": kind}))

    # A name already used by a department with another code is a conflict, not a rename.
    existing = {d.code: d for d in Department.objects.select_related("campus")}
    by_name = {d.name: d.code for d in existing.values()}
    checked = []
    for number, row in good:
        owner = by_name.get(row["name"])
        if owner is not None and owner != row["code"] and owner not in seen_codes:
            result.error(number, "科室名称", row["name"], f"该名称已被科室编码 {owner} 使用")
            continue
        checked.append((number, row))
    if dry_run or (strict and result.errors):
        for _number, row in checked:
            _count(result, existing.get(row["code"]), row)
        return result
    with transaction.atomic():
        campuses = {c.name: c for c in Campus.objects.all()} | {
            c.code: c for c in Campus.objects.all()
        }
        for _number, row in checked:
            campus = None
            if row.get("campus"):
                campus = campuses.get(row["campus"])
                if campus is None:
                    campus = Campus.objects.create(code=row["campus"][:32], name=row["campus"][:64])
                    campuses[campus.name] = campus
            dept = existing.get(row["code"])
            status = _count(result, dept, row, campus)
            if status == "created":
                Department.objects.create(
                    code=row["code"],
                    name=row["name"],
                    kind=row["kind"],
                    campus=campus,
                    building=row.get("building", ""),
                )
            elif status == "updated":
                dept.name, dept.kind = row["name"], row["kind"]
                if "campus" in row:
                    dept.campus = campus
                if "building" in row:
                    dept.building = row["building"]
                dept.save()
        record_event(
            Action.IMPORT,
            object_type="org.department",
            object_repr=str(path)[:200],
            message=result.summary(),
        )
    return result


def _count(result: ImportResult, dept, row, campus=None) -> str:
    if dept is None:
        result.created += 1
        return "created"
    same = dept.name == row["name"] and dept.kind == row["kind"]
    if "campus" in row:
        current = dept.campus.name if dept.campus else ""
        same = same and current == (campus.name if campus else row["campus"])
    if "building" in row:
        same = same and dept.building == row["building"]
    if same:
        result.unchanged += 1
        return "unchanged"
    result.updated += 1
    return "updated"
