"""P3 masking and normalisation, as tables of cases."""

import pytest

from careloop.lib.masking import (
    mask_address,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("010-6512 3456", "01065123456"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_phone_P3(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("01065123456", "010****3456"),
        ("", ""),
    ],
)
def test_mask_phone_P3(raw, expected):
    assert mask_phone(raw) == expected


def test_mask_id_number_P3():
    assert mask_id_number("420106199001011234") == "4201**********1234"
    assert mask_id_number("42010619900101123x") == "4201**********123X"
    assert normalize_id_number(" 4201 0619 9001 0112 3x ") == "42010619900101123X"


def test_mask_name_and_address():
    assert mask_name("张三") == "张*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_address("湖北省武汉市江汉区解放大道1号") == "湖北省武汉市********"
