"""R3: the summary's charts are SVG drawn on the server (offline): valid XML, Chinese labels in
Noto Sans CJK SC, one bar per department, every text escaped, and no division by zero when there
is nothing or only one point to draw."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from careloop.reports import charts

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("font-family") == "Noto Sans CJK SC"
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


def by_class(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{{http://www.w3.org/2000/svg}}{tag}") if e.get("class") == css]


def test_line_chart_has_labels_a_point_per_value_and_breaks_at_gaps_R3():
    labels = ["26年8月", "26年9月", "26年10月"]
    root = parse(
        charts.line_chart(
            labels,
            [("回访率", [Decimal("80.00"), None, Decimal("60.00")]), ("满意率", [50, 75, 100])],
            title="近12个月回访率与满意率",
        )
    )
    words = texts(root)
    assert "近12个月回访率与满意率" in words and "回访率" in words and "满意率" in words
    assert all(label in words for label in labels)
    assert len(by_class(root, "circle", "point")) == 5  # the gap has no point
    lines = by_class(root, "polyline", "series")
    assert len(lines) == 1  # 回访率 is broken into single points; 满意率 is one line of 3
    assert len(lines[0].get("points").split()) == 3


def test_line_chart_single_point_and_no_data_do_not_divide_by_zero_R3():
    one = parse(charts.line_chart(["26年10月"], [("回访率", [Decimal("60.00")])], title="趋势"))
    (point,) = by_class(one, "circle", "point")
    assert float(point.get("cx")) > 0 and float(point.get("cy")) > 0
    for svg in (
        charts.line_chart([], [], title="趋势"),
        charts.line_chart(["26年9月", "26年10月"], [("回访率", [None, None])], title="趋势"),
        charts.line_chart(["26年10月"], [("次数", [0])], title="趋势", unit=""),
    ):
        root = parse(svg)
        assert not by_class(root, "polyline", "series")
    assert "暂无数据" in texts(parse(charts.line_chart([], [], title="趋势")))


def test_bar_chart_draws_one_bar_per_department_R3():
    items = [("心血管内科病区", Decimal("85.71")), ("骨科病区", Decimal("100.00")), ("眼科", None)]
    root = parse(charts.bar_chart(items, title="各科室满意率"))
    bars = by_class(root, "rect", "bar")
    assert len(bars) == 3
    widths = [float(b.get("width")) for b in bars]
    assert widths[1] > widths[0] > 0 and widths[2] == 0  # no data: an empty bar, not 0%
    words = texts(root)
    assert [w for w in words if w in ("心血管内科病区", "骨科病区", "眼科")] == [
        "心血管内科病区", "骨科病区", "眼科",
    ]  # fmt: skip
    assert "85.71%" in words and "100%" in words and "—" in words


def test_bar_chart_of_zeros_or_nothing_R3():
    zeros = parse(charts.bar_chart([("A", 0), ("B", 0)], title="次数", unit=""))
    assert [float(b.get("width")) for b in by_class(zeros, "rect", "bar")] == [0.0, 0.0]
    empty = parse(charts.bar_chart([], title="各科室满意率"))
    assert not by_class(empty, "rect", "bar") and "暂无数据" in texts(empty)


def test_stacked_bar_splits_each_dimension_into_the_four_ratings_R3():
    rows = [
        ("服务态度", {"very_good": 3, "good": 1, "fair": 0, "poor": 0}),
        ("出院指导", {"very_good": 1, "good": 1, "fair": 1, "poor": 1}),
        ("技术水平", {"very_good": 0, "good": 0, "fair": 0, "poor": 0}),
    ]
    root = parse(charts.stacked_bar_chart(rows, title="各维度评价构成"))
    words = texts(root)
    for label in ("服务态度", "出院指导", "技术水平", "很好", "好", "一般", "差", "暂无评价"):
        assert label in words
    segments = by_class(root, "rect", "segment")
    assert [s.get("data-rating") for s in segments] == [
        "very_good", "good", "very_good", "good", "fair", "poor",
    ]  # fmt: skip
    # Each rated row fills the same width (100%).
    first = sum(float(s.get("width")) for s in segments[:2])
    second = sum(float(s.get("width")) for s in segments[2:])
    assert abs(first - second) < 0.5
    assert float(segments[0].get("width")) == 3 * float(segments[1].get("width"))


def test_text_is_escaped_R3():
    nasty = '<script>alert("x")</script> & 科室'
    for svg in (
        charts.bar_chart([(nasty, 50)], title=nasty),
        charts.line_chart([nasty], [(nasty, [1])], title=nasty),
        charts.stacked_bar_chart([(nasty, {"good": 1})], title=nasty),
    ):
        assert "<script>" not in svg
        root = parse(svg)
        assert nasty in texts(root)
        assert root.find("svg:script", NS) is None
