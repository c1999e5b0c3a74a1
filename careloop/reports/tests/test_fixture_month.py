"""R1/R5 on the hand-built fixture month (issue 7): every cell of ``department_figures`` for
both departments against values computed by hand from the task table in ``conftest.py``, and
every drill-down returning exactly the tasks counted.

Hand computation (October 2026, looked at on 2026-11-05):

  cell            心内 (cardio)                                   骨科 (ortho)
  出院人数         15 task visits + D1 + D2 = 17                    10 task visits + D7 = 11
  completed       C01–C09, C24 = 10                                O01–O04 = 4
  unreachable     C10 C11 = 2                                      O05 = 1
  overdue         C12 C13 C14 = 3                                  O09 = 1
  due             10 + 2 + 3 = 15                                  4 + 1 + 1 = 6
  excluded        C16 (E4 death) C17 (E6) = 2 — not due            O06 O07 (E4 deaths) = 2 — not due
  on_time         all completed but C05 (late) C08 (early) = 8      O01 O03 O04 = 3 (O02 late)
  phone           C01 C02 C03 C06 C07 C08 C24 = 7                  O01 O02 O04 = 3
  home_visit      C04 C05 = 2                                      O03 = 1
  other_channel   C09 (sms) = 1                                    0
  回访率           10/15 = 66.67                                    4/6 = 66.67 (50.00 if deaths
                                                                    were due)
  回访成功率        10/12 = 83.33                                    4/5 = 80.00
  及时率           8/10 = 80.00                                     3/4 = 75.00
  电话率 / 上门率   7/10 = 70.00 / 2/10 = 20.00                      3/4 = 75.00 / 1/4 = 25.00

  ratings vg g f p → top-two (top box)
  服务态度 attitude  4 3 1 0 → 7/8 = 87.50 (4/8 = 50.00)          1 1 0 1 → 2/3 = 66.67 (33.33)
  出院指导 guidance  2 3 1 1 → 5/7 = 71.43 (2/7 = 28.57)          1 2 0 0 → 3/3 = 100.00 (33.33)
  技术水平 skill     3 3 1 0 → 6/7 = 85.71 (3/7 = 42.86)          1 1 1 0 → 2/3 = 66.67 (33.33)
  医德医风 ethics    3 3 0 0 → 6/6 = 100.00 (3/6 = 50.00)         1 1 1 0 → 2/3 = 66.67 (33.33)
  总评价 overall     4 3 1 1 → 7/9 = 77.78 (4/9 = 44.44)          1 1 0 1 → 2/3 = 66.67 (33.33)
    cardio 总评价: records C01 vg, C02 g, C03 vg, C04 g, C05 f, C06 vg (the record's, not the
    questionnaire's g), C07 p, C24 vg; C08's record has none; C09 has no record → its
    survey-link answer g. September's C20 and November's C21/C22 (all 差) are not October's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from careloop.reports.definitions import R1_DIMENSIONS, figures_to_dict
from careloop.reports.periods import month
from careloop.reports.queries import department_figures, drill_tasks, drill_visits

OCT = month(2026, 10)
NOW = dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

VG, G, F, P = "very_good", "good", "fair", "poor"

# Counts per department, as computed above.
CELLS = ("discharges", "due", "completed", "unreachable", "overdue", "excluded", "on_time",
         "phone", "home_visit", "other_channel")  # fmt: skip
COUNTS = {
    "cardio": dict(zip(CELLS, (17, 15, 10, 2, 3, 2, 8, 7, 2, 1), strict=True)),
    "ortho": dict(zip(CELLS, (11, 6, 4, 1, 1, 2, 3, 3, 1, 0), strict=True)),
}
RATES = {
    # followup, contact success, on time, phone, home visit
    "cardio": ("66.67", "83.33", "80.00", "70.00", "20.00"),
    "ortho": ("66.67", "80.00", "75.00", "75.00", "25.00"),
}
RATINGS = {
    # dimension: ({very_good, good, fair, poor}, top-two rate, top-box rate)
    "cardio": {
        "attitude": ({VG: 4, G: 3, F: 1, P: 0}, "87.50", "50.00"),
        "guidance": ({VG: 2, G: 3, F: 1, P: 1}, "71.43", "28.57"),
        "skill": ({VG: 3, G: 3, F: 1, P: 0}, "85.71", "42.86"),
        "ethics": ({VG: 3, G: 3, F: 0, P: 0}, "100.00", "50.00"),
        "overall": ({VG: 4, G: 3, F: 1, P: 1}, "77.78", "44.44"),
    },
    "ortho": {
        "attitude": ({VG: 1, G: 1, F: 0, P: 1}, "66.67", "33.33"),
        "guidance": ({VG: 1, G: 2, F: 0, P: 0}, "100.00", "33.33"),
        "skill": ({VG: 1, G: 1, F: 1, P: 0}, "66.67", "33.33"),
        "ethics": ({VG: 1, G: 1, F: 1, P: 0}, "66.67", "33.33"),
        "overall": ({VG: 1, G: 1, F: 0, P: 1}, "66.67", "33.33"),
    },
}

# The tasks behind each number (drill-downs).
DRILL = {
    "cardio": {
        "due": "C01 C02 C03 C04 C05 C06 C07 C08 C09 C24 C10 C11 C12 C13 C14",
        "completed": "C01 C02 C03 C04 C05 C06 C07 C08 C09 C24",
        "unreachable": "C10 C11",
        "overdue": "C12 C13 C14",
        "excluded": "C16 C17",
        "on_time": "C01 C02 C03 C04 C06 C07 C09 C24",
        "phone": "C01 C02 C03 C06 C07 C08 C24",
        "home_visit": "C04 C05",
        "other_channel": "C09",
    },
    "ortho": {
        "due": "O01 O02 O03 O04 O05 O09",
        "completed": "O01 O02 O03 O04",
        "unreachable": "O05",
        "overdue": "O09",
        "excluded": "O06 O07",
        "on_time": "O01 O03 O04",
        "phone": "O01 O02 O04",
        "home_visit": "O03",
        "other_channel": "",
    },
}
DRILL_RATINGS = {
    "cardio": {
        "attitude": {VG: "C01 C02 C05 C09", G: "C03 C04 C06", F: "C07", P: ""},
        "guidance": {VG: "C01 C05", G: "C02 C03 C07", F: "C04", P: "C06"},
        "skill": {VG: "C01 C02 C04", G: "C03 C06 C07", F: "C05", P: ""},
        "ethics": {VG: "C01 C03 C05", G: "C02 C04 C06", F: "", P: ""},
        "overall": {VG: "C01 C03 C06 C24", G: "C02 C04 C09", F: "C05", P: "C07"},
    },
    "ortho": {
        "attitude": {VG: "O01", G: "O02", F: "", P: "O03"},
        "guidance": {VG: "O02", G: "O01 O03", F: "", P: ""},
        "skill": {VG: "O01", G: "O03", F: "O02", P: ""},
        "ethics": {VG: "O01", G: "O02", F: "O03", P: ""},
        "overall": {VG: "O01", G: "O02", F: "", P: "O03"},
    },
}
DISCHARGES = {
    "cardio": "C03 C04 C05 C06 C07 C08 C11 C12 C13 C15 C17 C18 C21 C22 C23 D1 D2",
    "ortho": "O02 O03 O04 O05 O07 O08 O09 O10 O12 O13 D7",
}


def D(text):
    return None if text is None else Decimal(text)


@pytest.fixture
def figures(october):
    with time_machine.travel(NOW, tick=False):
        return department_figures(OCT)


def test_hospital_time_is_shanghai_R5(settings):
    # The month boundaries below are local midnights in this zone.
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert OCT.start_dt().isoformat() == "2026-10-01T00:00:00+08:00"


def test_only_departments_with_numbers_appear_R1(october, figures):
    assert set(figures) == {october.org["cardio"].pk, october.org["ortho"].pk}


@pytest.mark.parametrize("dept", ["cardio", "ortho"])
def test_every_count_of_the_fixture_month_R1(october, figures, dept):
    f = figures[october.org[dept].pk]
    got = {name: getattr(f, name) for name in COUNTS[dept]}
    assert got == COUNTS[dept]


@pytest.mark.parametrize("dept", ["cardio", "ortho"])
def test_every_rate_of_the_fixture_month_R5(october, figures, dept):
    f = figures[october.org[dept].pk]
    got = (f.followup_rate, f.contact_success_rate, f.on_time_rate, f.phone_rate,
           f.home_visit_rate)  # fmt: skip
    assert got == tuple(D(r) for r in RATES[dept])


def test_excluded_deaths_are_not_in_the_denominator_R5(october, figures):
    ortho = figures[october.org["ortho"].pk]
    assert october.tasks["O06"].exclusion == october.tasks["O07"].exclusion == "E4"
    assert (ortho.excluded, ortho.due, ortho.completed) == (2, 6, 4)
    assert ortho.followup_rate == Decimal("66.67")  # 4/6, not 4/8 = 50.00


@pytest.mark.parametrize("dept", ["cardio", "ortho"])
def test_every_rating_cell_top_two_box_R1(october, figures, settings, dept):
    settings.CARELOOP_SATISFACTION_MODE = "top2"
    f = figures[october.org[dept].pk]
    for dim in R1_DIMENSIONS:
        counts, top2, _top = RATINGS[dept][dim]
        assert (dim, f.dimension(dim), f.satisfaction(dim)) == (dim, counts, D(top2))
    counts, top2, _top = RATINGS[dept]["overall"]
    assert f.overall == counts
    assert f.overall_satisfaction() == D(top2)


@pytest.mark.parametrize("dept", ["cardio", "ortho"])
def test_every_rating_cell_top_box_R1(october, figures, settings, dept):
    settings.CARELOOP_SATISFACTION_MODE = "top_box"
    f = figures[october.org[dept].pk]
    for dim in R1_DIMENSIONS:
        counts, _top2, top = RATINGS[dept][dim]
        assert (dim, f.dimension(dim), f.satisfaction(dim)) == (dim, counts, D(top))
    assert f.overall_satisfaction() == D(RATINGS[dept]["overall"][2])


def test_the_whole_figures_of_cardio_R1(october, figures):
    """The same cells as the stored JSON of a snapshot (what R4 and exports read)."""
    data = figures_to_dict(figures[october.org["cardio"].pk])
    ratings = data.pop("ratings")
    assert data == {**COUNTS["cardio"], "overall": RATINGS["cardio"]["overall"][0]}
    assert {d: ratings[d] for d in R1_DIMENSIONS} == {
        d: RATINGS["cardio"][d][0] for d in R1_DIMENSIONS
    }


@pytest.mark.parametrize("dept", ["cardio", "ortho"])
@pytest.mark.parametrize("metric", list(DRILL["cardio"]))
def test_drill_down_lists_exactly_the_tasks_counted_R5(october, figures, dept, metric):
    ids = [october.org[dept].pk]
    with time_machine.travel(NOW, tick=False):
        tasks = list(drill_tasks(OCT, metric, departments=ids))
    assert len(tasks) == COUNTS[dept][metric] == getattr(figures[ids[0]], metric)
    assert october.names(tasks) == set(DRILL[dept][metric].split())


@pytest.mark.parametrize("dept", ["cardio", "ortho"])
@pytest.mark.parametrize("dim", [*R1_DIMENSIONS, "overall"])
def test_drill_down_of_each_rating_R1(october, figures, dept, dim):
    ids = [october.org[dept].pk]
    f = figures[ids[0]]
    counted = f.overall if dim == "overall" else f.dimension(dim)
    for rating, names in DRILL_RATINGS[dept][dim].items():
        if dim == "overall":
            qs = drill_tasks(OCT, "overall", departments=ids, rating=rating, today=NOW.date())
        else:
            qs = drill_tasks(
                OCT, "rating", departments=ids, dimension=dim, rating=rating, today=NOW.date()
            )
        tasks = list(qs)
        assert (rating, len(tasks)) == (rating, counted[rating])
        assert (rating, october.names(tasks)) == (rating, set(names.split()))


@pytest.mark.parametrize("dept", ["cardio", "ortho"])
def test_drill_down_of_discharges_R1(october, figures, dept):
    ids = [october.org[dept].pk]
    visits = list(drill_visits(OCT, departments=ids))
    by_pk = {v.pk: name for name, v in october.visits.items()}
    assert len(visits) == figures[ids[0]].discharges
    assert {by_pk[v.pk] for v in visits} == set(DISCHARGES[dept].split())


def test_outpatient_and_emergency_visits_are_not_discharges_R1(october):
    got = {v.pk for v in drill_visits(OCT)}
    assert october.visits["D5"].pk not in got  # outpatient with a discharge time in October
    assert october.visits["D8"].pk not in got  # emergency, ditto


def test_a_cancelled_admission_is_not_a_discharge_R1(october):
    # P5/A11: an admission cancelled in the HIS (已取消入院) keeps its visit, marked cancelled; it
    # was never a discharge, so 出院人数 must not count it.
    cardio = october.org["cardio"]
    cancelled = october.builder.visit(cardio, discharged="2026-10-15 10:00", status="cancelled")
    figures = department_figures(OCT, departments=[cardio.pk], today=NOW.date())
    assert figures[cardio.pk].discharges == 17
    assert cancelled.pk not in {v.pk for v in drill_visits(OCT, departments=[cardio.pk])}


# --- attribution edges ----------------------------------------------------------------------


def test_late_call_counts_in_the_month_its_window_closed_R5(october):
    sep = month(2026, 9)
    cardio, ortho = october.org["cardio"].pk, october.org["ortho"].pk
    figures = department_figures(sep, today=NOW.date())
    assert october.names(drill_tasks(sep, "completed", today=NOW.date())) == {"C20", "O11"}
    assert (figures[cardio].completed, figures[cardio].on_time) == (1, 0)
    assert figures[cardio].overall == {VG: 0, G: 0, F: 0, P: 1}
    assert figures[cardio].dimension("attitude") == {VG: 0, G: 0, F: 0, P: 1}
    assert (figures[ortho].completed, figures[ortho].home_visit) == (1, 1)
    assert figures[cardio].overall_satisfaction() == Decimal("0.00")  # not None: 1 rating


def test_early_call_counts_in_the_month_it_was_made_R5(october):
    done = october.names(drill_tasks(OCT, "completed", today=NOW.date()))
    assert {"C07", "C08"} <= done  # windows close 11-05 and 11-08; called 10-20 and 10-28
    nov = month(2026, 11)
    later = october.names(drill_tasks(nov, "completed", today=dt.date(2026, 12, 5)))
    assert later == {"C21", "C22", "O12"}


def test_local_midnight_decides_the_month_R5(october):
    """Asia/Shanghai: 10-31 23:30 is October, 11-01 00:10 is November (16:10 UTC on 10-31);
    10-01 00:10 is October although it is still 30 September in UTC."""
    oct_done = october.names(drill_tasks(OCT, "completed", today=NOW.date()))
    assert {"C06", "C24"} <= oct_done
    assert "C22" not in oct_done
    nov = month(2026, 11)
    assert "C22" in october.names(drill_tasks(nov, "completed", today=dt.date(2026, 12, 5)))
    sep = month(2026, 9)
    assert "C24" not in october.names(drill_tasks(sep, "completed", today=NOW.date()))


def test_on_time_compares_the_local_day_R5(october):
    on_time = october.names(drill_tasks(OCT, "on_time", today=NOW.date()))
    assert "C04" in on_time  # 10-18 23:30 local, window to 10-18
    assert "C05" not in on_time  # 10-27 00:10 local (10-26 in UTC), window to 10-26


def test_completion_times_are_stored_as_intended(october):
    # Guard for the fixture itself: the texts were read as hospital time.
    local = timezone.localtime(october.tasks["C22"].completed_at)
    assert (local.date(), local.hour, local.minute) == (dt.date(2026, 11, 1), 0, 10)
    assert october.tasks["C22"].completed_at.astimezone(dt.UTC).date() == dt.date(2026, 10, 31)


def test_open_task_not_yet_due_inside_the_month_R5(october):
    """Looked at on 2026-10-20: C13 (window to 10-31) is not yet due, C12 and C14 are overdue;
    ortho's O09 (window to 10-31) is not yet due either."""
    today = dt.date(2026, 10, 20)
    cardio, ortho = october.org["cardio"].pk, october.org["ortho"].pk
    with time_machine.travel(dt.datetime(2026, 10, 20, 9, 0, tzinfo=NOW.tzinfo), tick=False):
        figures = department_figures(OCT)
        overdue = october.names(drill_tasks(OCT, "overdue"))
        due = october.names(drill_tasks(OCT, "due"))
    assert (figures[cardio].overdue, figures[ortho].overdue) == (2, 0)
    assert overdue == {"C12", "C14"}
    assert "C13" not in due and "O09" not in due
    # the window closes today: still not overdue on its last day
    assert "C13" not in october.names(drill_tasks(OCT, "overdue", today=dt.date(2026, 10, 31)))
    assert "C13" in october.names(drill_tasks(OCT, "overdue", today=dt.date(2026, 11, 1)))
    assert figures[cardio].due == figures[cardio].completed + figures[cardio].unreachable + 2
    assert today < OCT.end


def test_november_tasks_are_not_octobers_R5(october):
    counted = set()
    for metric in DRILL["cardio"]:
        counted |= october.names(drill_tasks(OCT, metric, today=NOW.date()))
    for name in ("C15", "C18", "C19", "C20", "C21", "C22", "C23", "O08", "O10", "O11", "O12",
                 "O13"):  # fmt: skip
        assert name not in counted


def test_a_quarter_is_the_sum_of_its_months_R3(october):
    """No task is counted in two months, none is lost between them: Q4 = Oct + Nov + Dec for
    every count and every rating (looked at on 2027-01-10, when all windows have closed)."""
    from careloop.reports.definitions import total
    from careloop.reports.periods import quarter

    today = dt.date(2027, 1, 10)
    q4 = department_figures(quarter(2026, 4), today=today)
    by_month = [department_figures(m, today=today) for m in quarter(2026, 4).months()]
    for dept in ("cardio", "ortho"):
        pk = october.org[dept].pk
        summed = total(m[pk] for m in by_month if pk in m)
        assert figures_to_dict(q4[pk]) == figures_to_dict(summed)
    # every counted task of Q4 once: all but the cancelled ones and September's late calls
    counted = set()
    for metric in ("due", "excluded"):
        counted |= october.names(drill_tasks(quarter(2026, 4), metric, today=today))
    assert counted == set(october.tasks) - {"C19", "O10", "C20", "O11"}


# --- filters ----------------------------------------------------------------------------------


def test_departments_filter_R1(october):
    ortho = october.org["ortho"].pk
    figures = department_figures(OCT, departments=[ortho], today=NOW.date())
    assert set(figures) == {ortho}
    assert figures[ortho].completed == 4
    assert department_figures(OCT, departments=[], today=NOW.date()) == {}


def test_policy_filter_R1(october):
    other = october.builder.policy("report-other").pk
    cardio, ortho = october.org["cardio"].pk, october.org["ortho"].pk
    figures = department_figures(OCT, policies=[other], today=NOW.date())
    c, o = figures[cardio], figures[ortho]
    assert (c.due, c.completed, c.other_channel, c.on_time, c.phone) == (1, 1, 1, 1, 0)
    assert c.overall == {VG: 0, G: 1, F: 0, P: 0}
    assert c.dimension("attitude") == {VG: 1, G: 0, F: 0, P: 0}
    assert (o.due, o.completed, o.phone, o.on_time) == (1, 1, 1, 1)
    assert o.overall == {VG: 0, G: 0, F: 0, P: 0}
    # 出院人数 is the department's, whatever policy the follow-ups belong to.
    assert (c.discharges, o.discharges) == (17, 11)
    assert october.names(drill_tasks(OCT, "completed", policies=[other], today=NOW.date())) == {
        "C09",
        "O04",
    }
    # blank policy list: every policy
    assert department_figures(OCT, policies=[], today=NOW.date())[cardio].completed == 10


def test_unknown_drill_metric_is_refused_in_chinese_R5(october):
    with pytest.raises(ValueError, match="未知的统计项"):
        drill_tasks(OCT, "discharges")
    with pytest.raises(ValueError, match="未知的统计项"):
        drill_tasks(OCT, "bogus")
    with pytest.raises(ValueError, match="未知的评价"):
        drill_tasks(OCT, "overall", rating="excellent")
    with pytest.raises(ValueError, match="须指定维度和评价"):
        drill_tasks(OCT, "rating", rating="good")
    with pytest.raises(ValueError, match="须指定评价"):
        drill_tasks(OCT, "overall")


def test_one_follow_up_answered_twice_is_rated_once_R1(reports):
    """A task whose patient answered the SMS link and whose call then took the questionnaire
    again has two responses; the follow-up is one 回访人数 and must be one rating per dimension
    (the latest response, as the disposal form reads it: cases.services.disposal)."""
    task = reports.task(
        "cardio", window=("2026-10-05", "2026-10-11"), status="completed",
        completed_at="2026-10-09 10:00",
    )  # fmt: skip
    reports.response(task, channel="sms_link", submitted_at="2026-10-08 20:00", attitude="poor",
                     overall="poor")  # fmt: skip
    reports.response(task, submitted_at="2026-10-09 10:00", attitude="good", overall="good")
    dept = reports.org["cardio"].pk
    f = department_figures(OCT, today=NOW.date())[dept]
    assert f.completed == 1
    assert f.dimension("attitude") == {VG: 0, G: 1, F: 0, P: 0}
    assert f.overall == {VG: 0, G: 1, F: 0, P: 0}
    poor = drill_tasks(OCT, "rating", dimension="attitude", rating="poor", today=NOW.date())
    assert list(poor) == []
