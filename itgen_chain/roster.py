"""Roster CSV files: reading, validation with row numbers, and student ids.

Columns (header row required, any order, case-insensitive), separated by commas,
semicolons (Excel's default in Ukrainian and most European locales) or tabs, detected from
the header or given with ``--delimiter``; the file must be UTF-8 text (Excel: "CSV UTF-8"):

    student_ref   the program's own reference for the student (never leaves this file)
    payee         the student's wallet, 0x-address; mixed case must be a valid checksum
    course        the course id (ASCII digits)
    milestone     registration | completion

Rows whose every cell is empty (Excel's trailing ``,,,``) are ignored.

``studentId = keccak256(programSalt ‖ key(student_ref))``. The reference rule, so that one
person is one id however the reference was typed. It has editions: ids depend on it, so a
program keeps the edition it was deployed with (``reference_rule`` in its deployment record;
records written before the second edition carry none and keep the first).

Second edition (programs deployed since 2026-11):

1. the numero sign ``№`` is kept as it is (NFKC would turn it into Latin ``No``, and
   ``Олена №17`` would mix scripts);
2. apostrophes of every form are dropped, not unified: ``'`` ``’`` ``ʼ`` ``‘`` ``‛`` ``‚``
   ``"`` ``“`` ``”`` ``ʹ`` ``′`` backtick, acute and their full-width forms; Ukrainian
   writes the apostrophe four common ways, and the name is the same without it;
3. NFKC normalisation and case folding, repeated until the text no longer changes;
4. combining marks left after NFKC are removed: a stress mark (``Мар'я́на``) or the dot of a
   Turkish capital ``İ`` is not part of the name, while ``й`` and ``ї`` stay whole (NFKC
   composes them); dotless ``ı`` folds to ``i`` (``Yılmaz`` is ``YILMAZ``);
5. every Default_Ignorable code point is removed, from the Unicode property itself (not only
   format characters): zero-width and joiners, soft hyphen, variation selectors
   (U+E0100...), Khmer U+17B4, the unassigned U+2065, Hangul fillers;
6. every dash becomes ``-``; whitespace runs become one space, the ends are trimmed;
7. the key that is hashed folds letters that look Latin to Latin (``АВ-12`` typed on a
   Cyrillic keyboard is ``AB-12``): references that look the same are one student.

Refused, with the row number and never the reference: letters of two scripts (a Cyrillic
``А`` inside a Latin code), digits other than ASCII ``0-9``, and symbols that show as blank
or not at all (U+2800 Braille blank, private-use and unassigned code points, controls).
All-Cyrillic codes (``К-17``, ``АВ-12``) and ``№`` are accepted.

First edition (earlier programs): NFKC and case folding repeated, format characters and a
short list of other ignorables removed, dashes and eleven apostrophes unified to ``-`` and
``'``, whitespace collapsed; a code whose Cyrillic letters all look Latin is refused.

Programs that issue codes can also require a pattern: ``--reference-pattern``, or
``reference_pattern`` for the program in the ``itgen:`` config (a regular expression the
normalised reference must match whole). No message ever quotes a reference.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import regex
from eth_utils import keccak, to_checksum_address

from itgen_chain.attestations import Attestation, Milestone
from itgen_chain.exceptions import RosterError, RowError

COLUMNS = ("student_ref", "payee", "course", "milestone")
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
ZERO_ADDRESS = "0x" + "00" * 20
MAX_COURSE_ID = 2**256 - 1

LATEST_RULE = 2

# --- First edition (kept unchanged: ids of programs deployed with it depend on it). ---
APOSTROPHES = "'\u2019\u02bc\u2018\u02b9\u2032\u0060\u00b4\uff07\u02bb\u055a"
# Dash punctuation is found by category (Pd); these dash-like signs are not in it.
OTHER_DASHES = "\u2212\u2043\ufe63\uff0d\u02d7"
# Default-ignorable code points that are not format characters (category Cf).
OTHER_IGNORABLES = set("\u034f\u115f\u1160\u3164\uffa0") | {
    chr(c) for c in (*range(0x180B, 0x1810), *range(0xFE00, 0xFE10))
}
# Cyrillic and Greek letters that look like Latin ones, after case folding.
LATIN_LOOKALIKES = set("авекмнорстухіјѕԁаԛԝеһ") | set("αβεικμνορτυχ")

# --- Second edition. ---
# Every apostrophe and quotation mark a name can be typed with, dropped.
APOSTROPHES_2 = APOSTROPHES + '"\u201b\u201a\u201c\u201d\u201e\u201f\u2033\u02c8\u02bd\ua78c\uff02'
NUMERO = "\u2116"
IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
# Symbols that show as nothing without being spaces or ignorable.
BLANKS = {"\u2800", "\ufffc", "\U0001d159"}
# What each letter that looks Latin (after case folding) becomes in the hashed key.
TO_LATIN = str.maketrans("авекмнорстухіјѕԁԛԝһαβεικμνορτυχ", "abekmhopctyxijsdqwhabeikmvoptux")
SCRIPTS = ("Latin", "Cyrillic", "Greek", "Armenian", "Georgian", "Hebrew", "Arabic", "Han")
SCRIPT_PATTERNS = {name: regex.compile(rf"\p{{Script={name}}}") for name in SCRIPTS}


def _is_ignorable(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or char in OTHER_IGNORABLES


def _unify(char: str) -> str:
    if char in APOSTROPHES:
        return "'"
    if unicodedata.category(char) == "Pd" or char in OTHER_DASHES:
        return "-"
    return char


def _fold(text: str) -> str:
    """NFKC and case folding, repeated until the text no longer changes."""
    while True:
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            return text
        text = folded


def _normalise_1(reference: str) -> str:
    text = "".join(_unify(char) for char in _fold(reference) if not _is_ignorable(char))
    return re.sub(r"\s+", " ", text).strip()


ASCII_APOSTROPHES = str.maketrans("", "", "'\"`")


def _normalise_2(reference: str) -> str:
    if reference.isascii():  # the common case, and the same result: NFKC leaves ASCII alone
        return " ".join(reference.translate(ASCII_APOSTROPHES).lower().split())
    return _normalise_2_general(reference)


def _normalise_2_general(reference: str) -> str:
    text = reference
    while True:  # each step can make work for another; the result is a fixed point
        step = "".join(char for char in text if char not in APOSTROPHES_2)
        step = NUMERO.join(_fold(part) for part in step.split(NUMERO))  # NFKC: № to "No"
        step = "".join(
            char
            for char in step
            if unicodedata.category(char) not in ("Mn", "Me") and char not in APOSTROPHES_2
        )
        step = IGNORABLE.sub("", step).replace("\u0131", "i")
        step = "".join(
            "-" if unicodedata.category(char) == "Pd" or char in OTHER_DASHES else char
            for char in step
        )
        step = re.sub(r"\s+", " ", step).strip()
        if step == text:
            return text
        text = step


def normalise_reference(reference: str, rule: int = LATEST_RULE) -> str:
    """The canonical form of a student reference under edition `rule` (this module's
    docstring); what a reference pattern is matched against."""
    if rule == 1:
        return _normalise_1(reference)
    if rule == 2:
        return _normalise_2(reference)
    raise ValueError(f"unknown reference rule edition {rule}")


def reference_key(reference: str, rule: int = LATEST_RULE) -> str:
    """What is hashed into the student id: the canonical form, and under the second
    edition with letters that look Latin folded to Latin."""
    normalised = normalise_reference(reference, rule)
    return normalised if rule == 1 else normalised.translate(TO_LATIN)


def _script(char: str) -> str:
    """The script of a letter, from its Unicode name (LATIN, CYRILLIC, GREEK, ...)."""
    return unicodedata.name(char, "UNKNOWN").split(" ")[0]


def _script_2(char: str) -> str:
    """The script of a letter, from the Unicode Script property."""
    for name, pattern in SCRIPT_PATTERNS.items():
        if pattern.match(char):
            return name.upper()
    return _script(char)


def reference_problem(normalised: str, rule: int = LATEST_RULE) -> str | None:
    """Why a normalised reference is ambiguous, in words that do not quote it; or None."""
    if rule >= 2 and normalised.isascii():  # one script, ASCII digits: only controls to find
        for position, char in enumerate(normalised, start=1):
            if not char.isprintable():
                return f"character {position} shows as blank or not at all"
        return None
    for position, char in enumerate(normalised, start=1):
        if rule >= 2 and (char in BLANKS or unicodedata.category(char) in ("Co", "Cn", "Cc", "Cs")):
            return f"character {position} shows as blank or not at all"
    letters = [char for char in normalised if char.isalpha()]
    scripts = sorted({(_script if rule == 1 else _script_2)(char) for char in letters})
    if len(scripts) > 1:
        return f"mixes {' and '.join(s.title() for s in scripts)} letters (a look-alike?)"
    for position, char in enumerate(normalised, start=1):
        if unicodedata.category(char) == "Nd" and not "0" <= char <= "9":
            return f"character {position} is a digit other than ASCII 0-9"
    if (
        rule == 1
        and letters
        and scripts[0] != "LATIN"
        and any(char.isdigit() for char in normalised)
        and all(char in LATIN_LOOKALIKES for char in letters)
    ):
        return (
            f"a code whose {scripts[0].title()} letters all look Latin (typed on another keyboard?)"
        )
    return None


def student_id(salt: bytes, reference: str, rule: int = LATEST_RULE) -> bytes:
    """``keccak256(salt ‖ key(reference))``: 32 bytes, no personal data."""
    return keccak(salt + reference_key(reference, rule).encode("utf-8"))


@dataclass(frozen=True)
class RosterRow:
    """A valid row: its number in the file (header is row 1) and its attestation."""

    row: int
    attestation: Attestation


# The payee of a link roster's rows (no payee column): the student names it when claiming.
NO_PAYEE = "0x0000000000000000000000000000000000000000"


def parse_payee(text: str, row: int) -> str:
    value = text.strip()
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        # Quote the value only when it looks like hex: a reference in the wrong column
        # must not reach the terminal.
        shown = f"{value!r} is" if re.fullmatch(r"0x[0-9a-fA-F]*", value) else "the value is"
        raise RowError(row, "payee", f"{shown} not a 0x-address of 40 hex digits")
    checksummed = to_checksum_address(value)  # one hash a row: 100,000-row rosters
    mixed_case = value != value.lower() and value[2:] != value[2:].upper()
    if mixed_case and value != checksummed:
        raise RowError(row, "payee", f"{value} has a wrong checksum (mistyped?)")
    if value.lower() == ZERO_ADDRESS:
        raise RowError(row, "payee", "the zero address cannot receive a scholarship")
    return checksummed


def column_name(name: str) -> str:
    """A header cell as the column it names: what a person sees, whatever the case, the
    surrounding spaces or the invisible characters."""
    return IGNORABLE.sub("", unicodedata.normalize("NFKC", name)).strip().casefold()


def header_columns(path: Path, names: list[str], known: tuple[str, ...]) -> tuple[dict, list]:
    """Each known column's position in the header, and the header cells naming no known
    column. Two cells that name one column are refused: a hidden or far-right ``Payee ``
    must never decide over the ``payee`` a person sees."""
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        positions.setdefault(column_name(name), []).append(position)
    twice = [
        RowError(
            1,
            "header",
            f"column {name} appears {len(at)} times (columns "
            f"{', '.join(map(str, at))}): delete all but one",
        )
        for name, at in positions.items()
        if name in known and len(at) > 1
    ]
    if twice:
        raise RosterError(str(path), twice)
    unknown = [name.strip() for name in names if name.strip() and column_name(name) not in known]
    return {name: at[0] - 1 for name, at in positions.items() if name in known}, unknown


@dataclass
class ParsedRoster:
    """The valid rows, the errors of the others and the header cells that were ignored."""

    rows: list[RosterRow]
    errors: list[RowError]
    ignored: list[str]
    # No payee column: the students get claim links (reservations), see links.py; each
    # row's attestation then carries NO_PAYEE.
    links: bool = False


def read_roster(
    path: Path,
    salt: bytes,
    *,
    pattern: str | None = None,
    delimiter: str | None = None,
    rule: int = LATEST_RULE,
) -> list[RosterRow]:
    """Reads and checks every row; raises RosterError naming every bad row at once."""
    parsed = parse_roster(path, salt, pattern=pattern, delimiter=delimiter, rule=rule)
    if parsed.errors:
        raise RosterError(str(path), parsed.errors)
    return parsed.rows


def _text(path: Path) -> str:
    """The file as text: UTF-8, or UTF-16 with its byte-order mark (Excel's "Unicode Text");
    anything else is refused with what it seems to be."""
    data = Path(path).read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise RosterError(
                str(path), [RowError(1, "file", "UTF-16 text with a broken character")]
            ) from None
    if b"\x00" in data[:4096]:
        sample = data[:4096]
        utf16 = sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4
        reason = (
            'UTF-16 text without a byte-order mark: save it as "CSV UTF-8" and run again'
            if utf16
            else "not a text file (it holds NUL bytes)"
        )
        raise RosterError(str(path), [RowError(1, "file", reason)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterError(
            str(path),
            [
                RowError(
                    data.count(b"\n", 0, error.start) + 1,
                    "file",
                    "not UTF-8 text (saved as Windows-1251 or Latin-1?): "
                    'save it as "CSV UTF-8" and run again',
                )
            ],
        ) from None


def _delimiter(path: Path, header: str) -> str:
    """The delimiter that splits the header into the expected columns."""
    for delimiter in DELIMITERS:
        names = {column_name(name) for name in header.split(delimiter)}
        # A link roster (links.py) has every column but the payee.
        if set(COLUMNS) - {"payee"} <= names:
            return delimiter
    raise RosterError(
        str(path),
        [
            RowError(
                1,
                "header",
                f"expected the columns {', '.join(COLUMNS)} separated by commas, semicolons "
                "or tabs",
            )
        ],
    )


def _split_by(path: Path, text: str, delimiter: str | None) -> str:
    return delimiter or _delimiter(path, text.splitlines()[0] if text else "")


def is_link_roster(path: Path, delimiter: str | None = None) -> bool:
    """Whether the roster names every column but the payee: its students get claim links
    (links.py). A file that cannot be read as a roster is raised as parse_roster does."""
    text = _text(path)
    header = next(
        csv.reader(io.StringIO(text, newline=""), delimiter=_split_by(path, text, delimiter)), []
    )
    columns, _ = header_columns(path, header, COLUMNS)
    return [column for column in COLUMNS if column not in columns] == ["payee"]


def parse_roster(
    path: Path,
    salt: bytes,
    *,
    pattern: str | None = None,
    delimiter: str | None = None,
    rule: int = LATEST_RULE,
) -> ParsedRoster:
    """The valid rows and the errors of the others, so that checks against the chain can
    add theirs and every bad row is reported at once. A file that cannot be read as a
    roster (not text, no header, a column named twice) is raised at once."""
    text = _text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_split_by(path, text, delimiter))
    columns, ignored = header_columns(path, next(reader, []), COLUMNS)
    missing = [column for column in COLUMNS if column not in columns]
    links = missing == ["payee"]
    if missing and not links:
        raise RosterError(
            str(path), [RowError(1, "header", f"missing column(s) {', '.join(missing)}")]
        )
    compiled = re.compile(pattern) if pattern else None
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[bytes, Milestone], int] = {}
    for record in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # a blank row, or Excel's trailing ,,,
        values = {
            column: (record[at] if at < len(record) else "").strip()
            for column, at in columns.items()
        }
        try:
            rows.append(_parse_row(number, values, salt, seen, compiled, rule))
        except RowError as error:
            errors.append(error)
    return ParsedRoster(rows, errors, ignored, links)


def _parse_row(
    number: int,
    values: dict[str, str],
    salt: bytes,
    seen: dict,
    pattern: re.Pattern | None,
    rule: int,
) -> RosterRow:
    reference = normalise_reference(values["student_ref"], rule)
    if not reference:
        raise RowError(number, "student_ref", "empty")
    if problem := reference_problem(reference, rule):
        raise RowError(number, "student_ref", problem)
    if pattern is not None and not pattern.fullmatch(reference):
        raise RowError(number, "student_ref", "does not match the program's reference pattern")
    payee = parse_payee(values["payee"], number) if "payee" in values else NO_PAYEE
    course = values["course"]
    if not re.fullmatch(r"[0-9]+", course) or int(course) > MAX_COURSE_ID:
        raise RowError(number, "course", "not a course id (ASCII digits 0-9, below 2^256)")
    try:
        milestone = Milestone.parse(values["milestone"])
    except KeyError:
        raise RowError(number, "milestone", "neither registration nor completion") from None
    sid = keccak(salt + (reference if rule == 1 else reference.translate(TO_LATIN)).encode())
    if (sid, milestone) in seen:
        raise RowError(
            number,
            "student_ref",
            f"student repeated for {milestone.name.lower()} (first on row {seen[(sid, milestone)]})",
        )
    seen[(sid, milestone)] = number
    return RosterRow(number, Attestation(sid, payee, int(course), milestone))
