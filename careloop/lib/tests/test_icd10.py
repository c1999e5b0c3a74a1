import pytest

from careloop.lib.icd10 import ICD10Error, parse_codes

DEFAULT_E5 = "A50-A64, B20-B24, O04"


@pytest.mark.parametrize(
    "code,expected",
    [
        ("A50", True),
        ("A51.0", True),
        ("a64", True),
        ("A65", False),
        ("A49.9", False),
        ("B20", True),
        ("B24.X01", True),
        ("B25", False),
        ("O04", True),
        ("O04.9", True),
        ("O03", False),
        ("O05", False),
        ("", False),
        ("not a code", False),
    ],
)
def test_default_privacy_list_E5(code, expected):
    assert parse_codes(DEFAULT_E5).matches(code) is expected


def test_subdivision_entry_matches_by_prefix():
    codes = parse_codes("O04.1；I10")
    assert codes.matches("O04.1") and codes.matches("O04.15")
    assert not codes.matches("O04.2")
    assert codes.matches("I10.x05")


def test_ranges_with_chinese_dashes_and_spaces():
    codes = parse_codes("A50 – A64，B20至B24")
    assert codes.matches("A60") and codes.matches("B22") and not codes.matches("B25")


@pytest.mark.parametrize("bad", ["A64-A50", "XYZ", "A5-A6", "A50.1-A52"])
def test_bad_entries_are_named(bad):
    with pytest.raises(ICD10Error) as err:
        parse_codes(bad)
    assert "“" in str(err.value)


def test_empty_list_matches_nothing():
    assert not parse_codes("")
    assert not parse_codes("").matches("A50")
