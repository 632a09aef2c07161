"""Roster CSV files: reading, validation with row numbers, and student ids.

Columns (header row required, any order, case-insensitive), separated by commas,
semicolons (Excel's default in Ukrainian and most European locales) or tabs, detected from
the header or given with ``--delimiter``; the file must be UTF-8 text (Excel: "CSV UTF-8"):

    student_ref   the program's own reference for the student (never leaves this file)
    payee         the student's wallet, 0x-address; mixed case must be a valid checksum
    course        the course id (ASCII digits)
    milestone     registration | completion

Rows whose every cell is empty (Excel's trailing ``,,,``) are ignored.

``studentId = keccak256(programSalt ‖ normalised student_ref)``. The reference rule, so that
one person is one id however the reference was typed:

1. NFKC normalisation and case folding, repeated until the text no longer changes
   (``casefold`` after NFKC can leave pairs apart that a second round joins);
2. default-ignorable code points removed (zero-width space and joiners, soft hyphen, word
   joiner, byte-order mark, variation selectors);
3. every dash (hyphen, en and em dash, minus sign, ...) becomes ``-`` and every apostrophe
   (``'`` U+0027, ``’`` U+2019, ``ʼ`` U+02BC, ``‘``, ``ʹ``, ``′``, backtick, acute) becomes
   ``'``;
4. whitespace runs become one space, and the ends are trimmed.

A reference that mixes letters of two scripts (a Cyrillic ``А`` inside a Latin code), holds
digits other than ASCII ``0-9``, or pairs digits with letters that all look Latin but are
not (a code typed on a Cyrillic keyboard) is refused with its row number: it cannot be told
apart from another student's reference by eye. Programs that issue codes can also require a
pattern (``--reference-pattern``, a regular expression the normalised reference must match
whole). No message ever quotes a reference.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from eth_utils import is_address, is_checksum_address, keccak, to_checksum_address

from itgen_chain.attestations import Attestation, Milestone
from itgen_chain.exceptions import RosterError, RowError

COLUMNS = ("student_ref", "payee", "course", "milestone")
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
ZERO_ADDRESS = "0x" + "00" * 20
MAX_COURSE_ID = 2**256 - 1

APOSTROPHES = "'\u2019\u02bc\u2018\u02b9\u2032\u0060\u00b4\uff07\u02bb\u055a"
# Dash punctuation is found by category (Pd); these dash-like signs are not in it.
OTHER_DASHES = "\u2212\u2043\ufe63\uff0d\u02d7"
# Default-ignorable code points that are not format characters (category Cf).
OTHER_IGNORABLES = set("\u034f\u115f\u1160\u3164\uffa0") | {
    chr(c) for c in (*range(0x180B, 0x1810), *range(0xFE00, 0xFE10))
}
# Cyrillic and Greek letters that look like Latin ones, after case folding.
LATIN_LOOKALIKES = set("авекмнорстухіјѕԁаԛԝеһ") | set("αβεικμνορτυχ")


def _is_ignorable(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or char in OTHER_IGNORABLES


def _unify(char: str) -> str:
    if char in APOSTROPHES:
        return "'"
    if unicodedata.category(char) == "Pd" or char in OTHER_DASHES:
        return "-"
    return char


def normalise_reference(reference: str) -> str:
    """The canonical form of a student reference (the rule in this module's docstring)."""
    text = reference
    while True:
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    text = "".join(_unify(char) for char in text if not _is_ignorable(char))
    return re.sub(r"\s+", " ", text).strip()


def _script(char: str) -> str:
    """The script of a letter, from its Unicode name (LATIN, CYRILLIC, GREEK, ...)."""
    return unicodedata.name(char, "UNKNOWN").split(" ")[0]


def reference_problem(normalised: str) -> str | None:
    """Why a normalised reference is ambiguous, in words that do not quote it; or None."""
    letters = [char for char in normalised if char.isalpha()]
    scripts = sorted({_script(char) for char in letters})
    if len(scripts) > 1:
        return f"mixes {' and '.join(s.title() for s in scripts)} letters (a look-alike?)"
    for position, char in enumerate(normalised, start=1):
        if unicodedata.category(char) == "Nd" and not "0" <= char <= "9":
            return f"character {position} is a digit other than ASCII 0-9"
    if (
        letters
        and scripts[0] != "LATIN"
        and any(char.isdigit() for char in normalised)
        and all(char in LATIN_LOOKALIKES for char in letters)
    ):
        return (
            f"a code whose {scripts[0].title()} letters all look Latin (typed on another keyboard?)"
        )
    return None


def student_id(salt: bytes, reference: str) -> bytes:
    """``keccak256(salt ‖ normalised reference)``: 32 bytes, no personal data."""
    return keccak(salt + normalise_reference(reference).encode("utf-8"))


@dataclass(frozen=True)
class RosterRow:
    """A valid row: its number in the file (header is row 1) and its attestation."""

    row: int
    attestation: Attestation


def parse_payee(text: str, row: int) -> str:
    value = text.strip()
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        # Quote the value only when it looks like hex: a reference in the wrong column
        # must not reach the terminal.
        shown = f"{value!r} is" if re.fullmatch(r"0x[0-9a-fA-F]*", value) else "the value is"
        raise RowError(row, "payee", f"{shown} not a 0x-address of 40 hex digits")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise RowError(row, "payee", f"{value} has a wrong checksum (mistyped?)")
    if not is_address(value):
        raise RowError(row, "payee", f"{value} is not a valid address")
    if value.lower() == ZERO_ADDRESS:
        raise RowError(row, "payee", "the zero address cannot receive a scholarship")
    return to_checksum_address(value)


def read_roster(
    path: Path, salt: bytes, *, pattern: str | None = None, delimiter: str | None = None
) -> list[RosterRow]:
    """Reads and checks every row; raises RosterError naming every bad row at once."""
    rows, errors = parse_roster(path, salt, pattern=pattern, delimiter=delimiter)
    if errors:
        raise RosterError(str(path), errors)
    return rows


def _text(path: Path) -> str:
    """The file as text; a file that is not UTF-8 text is refused with what it seems to be."""
    data = Path(path).read_bytes()
    if b"\x00" in data[:4096]:
        raise RosterError(str(path), [RowError(1, "file", "not a text file (it holds NUL bytes)")])
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
        names = {name.strip().lower() for name in header.split(delimiter)}
        if set(COLUMNS) <= names:
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


def parse_roster(
    path: Path, salt: bytes, *, pattern: str | None = None, delimiter: str | None = None
) -> tuple[list[RosterRow], list[RowError]]:
    """The valid rows and the errors of the others, so that checks against the chain can
    add theirs and every bad row is reported at once. A file that cannot be read as a
    roster (not text, no header) is raised at once."""
    text = _text(path)
    header = text.splitlines()[0] if text else ""
    delimiter = delimiter or _delimiter(path, header)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = [column for column in COLUMNS if column not in columns]
    if missing:
        raise RosterError(
            str(path), [RowError(1, "header", f"missing column(s) {', '.join(missing)}")]
        )
    compiled = re.compile(pattern) if pattern else None
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[bytes, Milestone], int] = {}
    for record in reader:
        number = reader.line_num
        cells = [value for value in record.values() if isinstance(value, str)]
        if not any(cell.strip() for cell in cells):
            continue  # a blank row, or Excel's trailing ,,,
        values = {column: (record.get(columns[column]) or "").strip() for column in COLUMNS}
        try:
            rows.append(_parse_row(number, values, salt, seen, compiled))
        except RowError as error:
            errors.append(error)
    return rows, errors


def _parse_row(
    number: int, values: dict[str, str], salt: bytes, seen: dict, pattern: re.Pattern | None
) -> RosterRow:
    reference = normalise_reference(values["student_ref"])
    if not reference:
        raise RowError(number, "student_ref", "empty")
    if problem := reference_problem(reference):
        raise RowError(number, "student_ref", problem)
    if pattern is not None and not pattern.fullmatch(reference):
        raise RowError(number, "student_ref", "does not match the program's reference pattern")
    payee = parse_payee(values["payee"], number)
    course = values["course"]
    if not re.fullmatch(r"[0-9]+", course) or int(course) > MAX_COURSE_ID:
        raise RowError(number, "course", "not a course id (ASCII digits 0-9, below 2^256)")
    try:
        milestone = Milestone.parse(values["milestone"])
    except KeyError:
        raise RowError(number, "milestone", "neither registration nor completion") from None
    sid = keccak(salt + reference.encode("utf-8"))
    if (sid, milestone) in seen:
        raise RowError(
            number,
            "student_ref",
            f"student repeated for {milestone.name.lower()} (first on row {seen[(sid, milestone)]})",
        )
    seen[(sid, milestone)] = number
    return RosterRow(number, Attestation(sid, payee, int(course), milestone))
