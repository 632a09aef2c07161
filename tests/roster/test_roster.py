"""The roster rules, pure: one person one id, files as people make them, no reference in
any message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from itgen_chain.exceptions import RosterError
from itgen_chain.roster import (
    normalise_reference,
    parse_roster,
    read_roster,
    reference_key,
    student_id,
)

SALT = b"program salt"
WALLET = "0x8ba1f109551bD432803012645Ac136ddd64DBA72"
HEADER = "student_ref,payee,course,milestone"

# Each pair is one person typed two ways: both must give one studentId.
SAME_PERSON = [
    ("Мар'яна Коваль", "Мар\u2019яна Коваль"),  # apostrophe U+0027 / U+2019
    ("Мар'яна Коваль", "Мар\u02bcяна Коваль"),  # U+02BC, the Ukrainian apostrophe letter
    ("UA-2025-00017", "UA\u20132025\u201300017"),  # en dash
    ("UA-2025-00017", "UA\u22122025-00017"),  # minus sign
    ("UA-2025-00017", "UA-2025-\u200b00017"),  # zero-width space
    ("UA-2025-00017", "UA-2025-\u00ad00017"),  # soft hyphen
    ("UA-2025-00017", "\ufeffUA-2025-00017"),  # byte-order mark
    ("\u0390", "\u03aa\u0301"),  # a case pair one round of NFKC + casefold leaves apart
    (" Olena  K-17 ", "olena k-17"),
    ("ＵＡ-２０２５", "UA-2025"),  # full-width forms
]


@pytest.mark.parametrize(("one", "other"), SAME_PERSON)
def test_one_person_typed_two_ways_is_one_reference(one, other):
    assert normalise_reference(one) == normalise_reference(other)


def test_normalisation_is_stable():
    for one, other in SAME_PERSON:
        once = normalise_reference(one)
        assert normalise_reference(once) == once
        assert normalise_reference(other) == once


def write(tmp_path, text: str, name: str = "r.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def errors_of(path, **options):
    with pytest.raises(RosterError) as caught:
        read_roster(path, SALT, **options)
    return caught.value


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("U\u0410-2025-00017", "mixes Cyrillic and Latin letters"),  # Cyrillic А in a code
        ("UA-\u0662\u0660\u0662\u0665", "digit other than ASCII"),  # Arabic-Indic digits
    ],
)
def test_an_ambiguous_reference_is_refused_without_quoting_it(tmp_path, reference, reason):
    path = write(tmp_path, f"{HEADER}\n{reference},{WALLET},1,registration\n")
    error = errors_of(path)
    assert [(e.row, e.field) for e in error.errors] == [(2, "student_ref")]
    assert reason in str(error)
    assert reference not in str(error) and normalise_reference(reference) not in str(error)


def test_a_ukrainian_name_with_an_apostrophe_is_accepted(tmp_path):
    path = write(tmp_path, f"{HEADER}\nМар’яна Коваль,{WALLET},1,registration\n")
    assert len(read_roster(path, SALT)) == 1


def test_the_same_student_typed_two_ways_in_one_file_is_caught(tmp_path):
    path = write(
        tmp_path,
        f"{HEADER}\nМар'яна,{WALLET},1,registration\nМар\u2019яна,{WALLET},1,registration\n",
    )
    assert [(e.row, e.field) for e in errors_of(path).errors] == [(3, "student_ref")]


def test_reference_pattern_refuses_what_does_not_match(tmp_path):
    path = write(
        tmp_path, f"{HEADER}\nUA-2025-00017,{WALLET},1,registration\nOlena,{WALLET},1,completion\n"
    )
    error = errors_of(path, pattern=r"ua-\d{4}-\d{5}")
    assert [(e.row, e.field) for e in error.errors] == [(3, "student_ref")]
    assert "reference pattern" in str(error)


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_the_delimiter_is_detected(tmp_path, delimiter):
    text = f"{HEADER}\nUA-1,{WALLET},1,registration\n".replace(",", delimiter)
    assert len(read_roster(write(tmp_path, text), SALT)) == 1


def test_the_delimiter_can_be_given(tmp_path):
    text = f"{HEADER}\nUA-1,{WALLET},1,registration\n".replace(",", ";")
    assert len(read_roster(write(tmp_path, text), SALT, delimiter=";")) == 1


def test_blank_rows_and_excels_trailing_commas_are_ignored(tmp_path):
    text = f"{HEADER}\nUA-1,{WALLET},1,registration\n,,,\n\n , , ,\n,,,\n"
    assert len(read_roster(write(tmp_path, text), SALT)) == 1


def test_a_latin1_file_is_refused_as_not_utf8(tmp_path):
    path = write(tmp_path, f"{HEADER}\nJosé,{WALLET},1,registration\n", encoding="latin-1")
    error = errors_of(path)
    assert [(e.row, e.field) for e in error.errors] == [(2, "file")]
    assert "not UTF-8 text" in str(error) and "José" not in str(error)


def test_a_binary_file_is_refused_as_not_text(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    assert "not a text file" in str(errors_of(path))


def test_a_header_without_the_columns_says_which_are_expected(tmp_path):
    path = write(tmp_path, "name|wallet\nx|y\n")
    assert "expected the columns student_ref, payee, course, milestone" in str(errors_of(path))


@pytest.mark.parametrize("course", ["\u0661", "\u00b9", "2" + "0" * 90, "-1", "1.0", "one"])
def test_a_course_id_is_ascii_digits_below_2_to_the_256(tmp_path, course):
    path = write(tmp_path, f"{HEADER}\nUA-1,{WALLET},{course},registration\n")
    assert [(e.row, e.field) for e in errors_of(path).errors] == [(2, "course")]


def test_swapped_columns_never_print_the_reference(tmp_path):
    path = write(tmp_path, f"payee,student_ref,course,milestone\nOlena-Secret-17,{WALLET},1,x\n")
    path2 = write(
        tmp_path,
        f"{HEADER}\n{WALLET},Olena-Secret-17,Olena-Secret-17,Olena-Secret-17\n",
        name="swapped.csv",
    )
    for each in (path, path2):
        errors = parse_roster(each, SALT).errors
        assert errors and all("secret" not in str(e).lower() for e in errors)


# The second edition: each spelling one person was seen typed two ways with.
SAME_PERSON_2 = [
    ("Yılmaz", "YILMAZ"),  # Turkish dotless i
    ("İlker", "ilker"),  # Turkish dotted capital I
    ("Мар'я́на", "Мар'яна"),  # a stress mark
    ("Мар\u201bяна", "Мар'яна"),  # U+201B
    ("Мар\u201aяна", "Мар'яна"),  # U+201A
    ('Мар"яна', "Мар'яна"),  # the double quote, a common slip
    ("Мар\u00b4яна", "Мар'яна"),  # the acute accent (NFKC makes it a space and a mark)
    ("Марʼяна", "Маряна"),  # an apostrophe dropped, not unified
    ("UA-17\u2800", "UA-17"),  # U+2800 is refused, see below; here the ignorables:
    ("UA-17\U000e0100", "UA-17"),  # a variation selector supplement
    ("UA-17\u17b4", "UA-17"),  # Khmer vowel inherent Aq
    ("UA-17\u2065", "UA-17"),  # an unassigned default-ignorable
    ("\u0410\u0412-12", "AB-12"),  # a code typed on a Cyrillic keyboard is the Latin code
]


@pytest.mark.parametrize(("one", "other"), SAME_PERSON_2[:8] + SAME_PERSON_2[9:])
def test_second_edition_one_person_is_one_id(one, other):
    assert student_id(SALT, one) == student_id(SALT, other)
    assert reference_key(reference_key(one)) == reference_key(one)


@pytest.mark.parametrize("reference", ["Олена №17", "К-17", "АВ-12", "Марʼяна Коваль", "ʼА-1"])
def test_second_edition_accepts_common_ukrainian_references(tmp_path, reference):
    path = write(tmp_path, f"{HEADER}\n{reference},{WALLET},1,registration\n")
    assert len(read_roster(path, SALT)) == 1


def test_the_numero_sign_is_kept_not_made_latin():
    assert normalise_reference("Олена №17") == "олена №17"


@pytest.mark.parametrize("blank", ["\u2800", "\ue000", "\U0001d159"])
def test_second_edition_refuses_blank_symbols(tmp_path, blank):
    path = write(tmp_path, f"{HEADER}\nUA-17{blank},{WALLET},1,registration\n")
    assert "shows as blank or not at all" in str(errors_of(path))


def test_the_first_edition_is_kept_for_programs_deployed_with_it(tmp_path):
    # Ids already paid under the first edition must not change: a program keeps its rule.
    assert normalise_reference("Мар\u2019яна", rule=1) == "мар'яна"
    assert student_id(SALT, "Мар'яна", rule=1) != student_id(SALT, "Мар'яна", rule=2)
    path = write(tmp_path, f"{HEADER}\n\u0410\u0412-2025,{WALLET},1,registration\n")
    with pytest.raises(RosterError, match="all look Latin"):
        read_roster(path, SALT, rule=1)
    assert len(read_roster(path, SALT, rule=2)) == 1


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("student_ref,payee,course,milestone,Payee ", "payee"),  # far right, trailing space
        ("student_ref,PAYEE,course,milestone,payee\u200b", "payee"),  # a zero-width space
        ("student_ref,payee,course,milestone,Course", "course"),
        ("Milestone,student_ref,payee,course,milestone", "milestone"),
    ],
)
def test_a_column_named_twice_is_refused(tmp_path, header, column):
    path = write(tmp_path, f"{header}\nUA-1,{WALLET},1,registration,{WALLET}\n")
    error = errors_of(path)
    assert [(e.row, e.field) for e in error.errors] == [(1, "header")]
    assert f"column {column} appears 2 times" in str(error)


def test_unknown_columns_are_listed(tmp_path):
    path = write(tmp_path, f"{HEADER},name,Email\nUA-1,{WALLET},1,registration,x,y\n")
    parsed = parse_roster(path, SALT)
    assert parsed.ignored == ["name", "Email"] and len(parsed.rows) == 1


def test_a_utf16_roster_with_its_mark_is_read(tmp_path):
    text = f"{HEADER}\nМар'яна,{WALLET},1,registration\n".replace(",", "\t")
    assert len(read_roster(write(tmp_path, text, encoding="utf-16"), SALT)) == 1


def test_a_utf16_roster_without_its_mark_is_named_as_such(tmp_path):
    path = write(tmp_path, f"{HEADER}\nUA-1,{WALLET},1,registration\n", encoding="utf-16-le")
    assert "UTF-16 text without a byte-order mark" in str(errors_of(path))


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_the_ascii_fast_path_is_the_rule_itself(text):
    from itgen_chain.roster import _normalise_2, _normalise_2_general

    assert _normalise_2(text) == _normalise_2_general(text)


@given(st.text())
def test_the_second_edition_is_a_fixed_point(text):
    once = normalise_reference(text)
    assert normalise_reference(once) == once
