"""Roster CSV files: reading, validation with row numbers, and student ids.

Columns (header row required, any order, case-insensitive):

    student_ref   the program's own reference for the student (never leaves this file)
    payee         the student's wallet, 0x-address; mixed case must be a valid checksum
    course        the course id (a whole number)
    milestone     registration | completion

``studentId = keccak256(programSalt ‖ normalised student_ref)``: the reference is NFKC
normalised, trimmed, inner whitespace collapsed and case-folded, so ``" Olena  K-17 "``
and ``"olena k-17"`` are one student.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from eth_utils import is_address, is_checksum_address, keccak, to_checksum_address

from itgen_chain.attestations import Attestation, Milestone
from itgen_chain.exceptions import RosterError, RowError

COLUMNS = ("student_ref", "payee", "course", "milestone")
ZERO_ADDRESS = "0x" + "00" * 20


def normalise_reference(reference: str) -> str:
    """The canonical form of a student reference."""
    text = unicodedata.normalize("NFKC", reference)
    return re.sub(r"\s+", " ", text).strip().casefold()


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
    if not is_address(value) and not (value.startswith("0x") and len(value) == 42):
        raise RowError(row, "payee", f"{value!r} is not a 0x-address of 40 hex digits")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise RowError(row, "payee", f"{value} has a wrong checksum (mistyped?)")
    if not is_address(value):
        raise RowError(row, "payee", f"{value!r} is not a valid address")
    if value.lower() == ZERO_ADDRESS:
        raise RowError(row, "payee", "the zero address cannot receive a scholarship")
    return to_checksum_address(value)


def read_roster(path: Path, salt: bytes) -> list[RosterRow]:
    """Reads and checks every row; raises RosterError naming every bad row at once."""
    rows, errors = parse_roster(path, salt)
    if errors:
        raise RosterError(str(path), errors)
    return rows


def parse_roster(path: Path, salt: bytes) -> tuple[list[RosterRow], list[RowError]]:
    """The valid rows and the errors of the others, so that checks against the chain can
    add theirs and every bad row is reported at once. A missing column is raised at once."""
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[bytes, Milestone], int] = {}
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
        missing = [column for column in COLUMNS if column not in header]
        if missing:
            raise RosterError(
                str(path), [RowError(1, "header", f"missing column(s) {', '.join(missing)}")]
            )
        for number, record in enumerate(reader, start=2):
            values = {column: (record.get(header[column]) or "").strip() for column in COLUMNS}
            try:
                rows.append(_parse_row(number, values, salt, seen))
            except RowError as error:
                errors.append(error)
    return rows, errors


def _parse_row(number: int, values: dict[str, str], salt: bytes, seen: dict) -> RosterRow:
    if not values["student_ref"]:
        raise RowError(number, "student_ref", "empty")
    payee = parse_payee(values["payee"], number)
    if not values["course"].isdigit():
        raise RowError(
            number, "course", f"{values['course']!r} is not a course id (a whole number)"
        )
    try:
        milestone = Milestone.parse(values["milestone"])
    except KeyError:
        raise RowError(
            number, "milestone", f"{values['milestone']!r} is not registration or completion"
        ) from None
    sid = student_id(salt, values["student_ref"])
    if (sid, milestone) in seen:
        raise RowError(
            number,
            "student_ref",
            f"student repeated for {milestone.name.lower()} (first on row {seen[(sid, milestone)]})",
        )
    seen[(sid, milestone)] = number
    return RosterRow(number, Attestation(sid, payee, int(values["course"]), milestone))
