"""Deterministic §9 visit rows for the import benchmark: CSV (UTF-8) and XLSX, Chinese headers.

Framework-free (no Django): the orchestrator writes the files before any database exists. One
seeded pass writes every file at once; the smaller files are prefixes of the full one, so the
50k-row file really is the first quarter of the 200k-row file.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import random
from pathlib import Path

HEADERS = [
    "病历号", "姓名", "性别", "出生日期", "联系电话", "身份证号", "家庭住址", "就诊类型",
    "住院号/门诊号", "科室", "初诊", "入院时间", "出院时间", "就诊时间", "出院诊断", "诊断编码",
    "离院方式", "欠费清理", "主管医生", "责任护士", "总费用", "特殊病人", "慢病", "流失",
    "医疗纠纷", "拒访",
]  # fmt: skip
DATETIME_COLUMNS = {"入院时间", "出院时间", "就诊时间"}

# (code, name, kind) — created in every scratch database before the import.
DEPARTMENTS = [
    ("BQ01", "心血管内科病区", "inpatient"),
    ("BQ02", "呼吸内科病区", "inpatient"),
    ("BQ03", "消化内科病区", "inpatient"),
    ("BQ04", "神经内科病区", "inpatient"),
    ("BQ05", "内分泌科病区", "inpatient"),
    ("BQ06", "普通外科病区", "inpatient"),
    ("BQ07", "骨科病区", "inpatient"),
    ("BQ08", "泌尿外科病区", "inpatient"),
    ("BQ09", "妇产科病区", "inpatient"),
    ("BQ10", "儿科病区", "inpatient"),
    ("MZ01", "心内科门诊", "specialist"),
    ("MZ02", "呼吸科门诊", "specialist"),
    ("MZ03", "消化科门诊", "specialist"),
    ("MZ04", "神经科门诊", "specialist"),
    ("MZ05", "内分泌科门诊", "specialist"),
    ("MZ06", "普外科门诊", "basic"),
    ("MZ07", "骨科门诊", "basic"),
    ("MZ08", "皮肤科门诊", "basic"),
    ("MZ09", "眼科门诊", "basic"),
    ("JZ01", "急诊科", "emergency"),
]
WARDS = [name for _c, name, kind in DEPARTMENTS if kind == "inpatient"]
CLINICS = [name for _c, name, kind in DEPARTMENTS if kind in ("specialist", "basic")]
EMERGENCY = [name for _c, name, kind in DEPARTMENTS if kind == "emergency"]

DIAGNOSES = [
    ("I10", "原发性高血压"), ("E11.9", "2型糖尿病"), ("I25.1", "动脉粥样硬化性心脏病"),
    ("J18.9", "肺炎"), ("J44.1", "慢性阻塞性肺病伴急性加重"), ("K29.7", "胃炎"),
    ("K80.2", "胆囊结石不伴胆囊炎"), ("K35.8", "急性阑尾炎"), ("I63.9", "脑梗死"),
    ("I48", "心房颤动"), ("N20.0", "肾结石"), ("M51.2", "腰椎间盘突出"),
    ("S72.0", "股骨颈骨折"), ("O80", "单胎顺产"), ("J06.9", "急性上呼吸道感染"),
    ("L20.9", "特应性皮炎"), ("H25.9", "老年性白内障"), ("C34.9", "支气管或肺恶性肿瘤"),
    ("E78.5", "高脂血症"), ("N39.0", "泌尿道感染"), ("K21.0", "胃食管反流病伴食管炎"),
    ("I50.9", "心力衰竭"), ("J45.9", "哮喘"), ("R51", "头痛"),
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂兰玉珍建国志红霞文斌辉鹏飞宇浩然欣怡子涵梓萱"
CITIES = [
    ("北京市", ["朝阳区", "海淀区", "东城区", "西城区"]),
    ("上海市", ["浦东新区", "徐汇区", "静安区"]),
    ("广州市", ["天河区", "越秀区", "海珠区"]),
    ("武汉市", ["江岸区", "武昌区", "洪山区"]),
    ("成都市", ["锦江区", "武侯区", "青羊区"]),
]
REGIONS = ["110105", "110108", "310115", "440106", "420102", "510107", "330106"]
ROADS = ["建设路", "人民路", "解放大道", "中山路", "长江路", "和平街", "学院路"]
DISPOSITIONS = [("医嘱离院", 85), ("医嘱转院", 4), ("医嘱转社区/乡镇卫生院", 3), ("非医嘱离院", 5),
                ("死亡", 1), ("其他", 2)]  # fmt: skip
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
END = dt.datetime(2026, 6, 30, 18, 0)  # fixed, so the files never depend on the day they are made


def _id_number(rng: random.Random, birth: dt.date) -> str:
    body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK[total % 11]


def _patients(rng: random.Random, count: int) -> list[tuple]:
    people = []
    for k in range(count):
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randint(0, 34000))
        phones = [f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"]
        if rng.random() < 0.3:
            phones.append(f"0{rng.randint(10, 29)}-{rng.randint(6000_0000, 8999_9999)}")
        city, districts = rng.choice(CITIES)
        address = (
            f"{city}{rng.choice(districts)}{rng.choice(ROADS)}{rng.randint(1, 300)}号"
            f"{rng.randint(1, 12)}栋{rng.randint(1, 30)}{rng.randint(1, 4):02d}室"
        )
        people.append(
            (
                f"{800_000_000 + k}",  # 病历号
                rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                rng.choice("男女"),
                birth,
                ";".join(phones),
                _id_number(rng, birth) if rng.random() < 0.8 else "",
                address,
                "是" if rng.random() < 0.01 else "否",  # 医疗纠纷
                "是" if rng.random() < 0.03 else "否",  # 拒访
            )
        )
    return people


def rows(n: int, seed: int = 2026):
    """Yield ``n`` rows as lists of cell values (datetimes stay datetimes; CSV formats them)."""
    rng = random.Random(seed)
    distinct = max(1, round(n * 0.75))  # ~150k patients for 200k visits: a quarter are repeats
    people = _patients(rng, distinct)
    order = list(range(distinct)) + [rng.randrange(distinct) for _ in range(n - distinct)]
    rng.shuffle(order)
    dispositions = [d for d, _w in DISPOSITIONS]
    weights = [w for _d, w in DISPOSITIONS]
    for i, k in enumerate(order):
        patient_no, name, sex, birth, phones, id_number, address, dispute, refused = people[k]
        start = END - dt.timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        start = start.replace(second=0, microsecond=0)
        picks = rng.sample(DIAGNOSES, 2 if rng.random() < 0.15 else 1)
        kind = rng.random()
        admitted = discharged = visit_at = None
        if kind < 0.4:
            visit_type, visit_no, dept = "住院", f"ZY{i + 1:08d}", rng.choice(WARDS)
            admitted = start
            if rng.random() < 0.95:
                discharged = start + dt.timedelta(minutes=rng.randint(6 * 60, 20 * 24 * 60))
                disposition = rng.choices(dispositions, weights)[0]
            else:
                disposition = ""  # still in hospital
            cost = rng.randint(300_000, 8_000_000) / 100
            first_visit, doctor = "", rng.choice(SURNAMES) + rng.choice(GIVEN) + "医生"
            nurse = rng.choice(SURNAMES) + rng.choice(GIVEN) + "护士"
        else:
            emergency = kind > 0.95
            visit_type = "急诊" if emergency else "门诊"
            visit_no = f"MZ{i + 1:010d}"
            dept = EMERGENCY[0] if emergency else rng.choice(CLINICS)
            visit_at, disposition = start, ""
            cost = rng.randint(2_000, 150_000) / 100
            first_visit = "是" if rng.random() < 0.4 else "否"
            doctor, nurse = rng.choice(SURNAMES) + rng.choice(GIVEN) + "医生", ""
        yield [
            patient_no, name, sex, birth, phones, id_number, address, visit_type, visit_no, dept,
            first_visit, admitted, discharged, visit_at,
            ";".join(text for _c, text in picks), ";".join(code for code, _t in picks),
            disposition, "是" if rng.random() < 0.01 else "否", doctor, nurse, cost,
            "是" if rng.random() < 0.02 else "否", "是" if rng.random() < 0.1 else "否",
            "是" if visit_type == "门诊" and rng.random() < 0.05 else "否", dispute, refused,
        ]  # fmt: skip


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    return value


def write_files(n: int, csv_targets: dict[int, Path], xlsx_targets: dict[int, Path]) -> None:
    """Write the first ``k`` rows to ``csv_targets[k]`` / ``xlsx_targets[k]`` (k ≤ n), in one pass.

    XLSX cells are typed as an HIS export types them: dates and times as Excel dates, the cost
    as a number, everything else (numbers with leading zeros, phones) as text.
    """
    import xlsxwriter

    writers, books = {}, {}
    with contextlib.ExitStack() as stack:
        for k, path in csv_targets.items():
            fh = stack.enter_context(open(path, "w", encoding="utf-8", newline=""))
            writers[k] = csv.writer(fh)
            writers[k].writerow(HEADERS)
        for k, path in xlsx_targets.items():
            book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
            stack.callback(book.close)
            sheet = book.add_worksheet("就诊")
            formats = (book.add_format({"num_format": "yyyy-mm-dd"}),
                       book.add_format({"num_format": "yyyy-mm-dd hh:mm"}))  # fmt: skip
            sheet.write_row(0, 0, HEADERS)
            books[k] = (book, sheet, formats)
        for i, row in enumerate(rows(n)):
            text = None
            for k, writer in writers.items():
                if i < k:
                    text = text or [_text(v) for v in row]
                    writer.writerow(text)
            for k, (_book, sheet, (date_fmt, time_fmt)) in books.items():
                if i >= k:
                    continue
                r = i + 1
                for c, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    if isinstance(value, dt.datetime):
                        sheet.write_datetime(r, c, value, time_fmt)
                    elif isinstance(value, dt.date):
                        sheet.write_datetime(r, c, value, date_fmt)
                    elif isinstance(value, float):
                        sheet.write_number(r, c, value)
                    else:
                        sheet.write_string(r, c, value)


def main() -> None:
    """`python -m bench.import_data JSON`: the orchestrator writes the files in a subprocess so
    that its own peak RSS (which Linux hands down to every child it starts) stays small."""
    import json
    import sys

    spec = json.loads(sys.argv[1])
    write_files(
        spec["n"],
        {int(k): Path(v) for k, v in spec["csv"].items()},
        {int(k): Path(v) for k, v in spec["xlsx"].items()},
    )


if __name__ == "__main__":
    main()
