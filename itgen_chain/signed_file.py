"""The file a registrar signs and a relayer submits: self-describing EIP-712.

    {
      "format": "itgen-chain/signed-attestations/2",
      "registrar": "0x...",                       the signer, as the registrar said
      "primaryType": "Attestation",
      "types": {"EIP712Domain": [...], "Attestation": [...]},
      "domain": {"name", "version", "chainId", "verifyingContract"},
      "attestations": [
        {"row": 2,                                 the roster's row
         "message": {"studentId", "payee", "courseId", "milestone": 0 or 1, "epoch",
                     "deadline"},
         "signature": "0x" r ‖ s ‖ v (65 bytes, v 27 or 28, low s)}
      ]
    }

Each entry with ``types``, ``primaryType`` and ``domain`` is the typed data a wallet signs
with ``eth_signTypedData_v4``, so any EIP-712 tool can verify it. Reading accepts exactly
what the contract accepts and names each refused row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address

from itgen_chain.attestations import (
    ATTESTATION_TYPES,
    EIP712_DOMAIN_TYPE,
    SECP256K1_HALF_N,
    Attestation,
    Milestone,
    SignedAttestation,
    domain,
    recover,
)
from itgen_chain.exceptions import ItgenError, RowError

FORMAT = "itgen-chain/signed-attestations/2"


def document(
    items: Iterable[tuple[int, SignedAttestation]], registrar: str, chain_id: int, escrow: str
) -> dict[str, Any]:
    """The file's content for `items` (row, signed attestation) signed by `registrar`."""
    return {
        "format": FORMAT,
        "registrar": registrar,
        "primaryType": "Attestation",
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, **ATTESTATION_TYPES},
        "domain": domain(chain_id, escrow),
        "attestations": [entry(row, item) for row, item in items],
    }


def entry(row: int, item: SignedAttestation) -> dict[str, Any]:
    return {
        "row": row,
        "message": {
            "studentId": "0x" + item.attestation.student_id.hex(),
            "payee": item.attestation.payee,
            "courseId": item.attestation.course_id,
            "milestone": int(item.attestation.milestone),
            "epoch": item.epoch,
            "deadline": item.deadline,
        },
        "signature": "0x" + item.signature.hex(),
    }


def write(
    path: Path,
    items: Iterable[tuple[int, SignedAttestation]],
    registrar: str,
    chain_id: int,
    escrow: str,
) -> int:
    """Writes the file as `items` come (one line an attestation, never the whole file in
    memory: 100,000 rows are 40 MB of JSON), under a temporary name renamed at the end, so
    that an interrupted run leaves no partial file; returns how many were written."""
    head = json.dumps(document([], registrar, chain_id, escrow), indent=1)
    opening = head[: head.rindex("[]")] + "["
    written = 0
    partial = Path(path).with_name(Path(path).name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(opening)
        for row, item in items:
            handle.write(("\n  " if written == 0 else ",\n  ") + json.dumps(entry(row, item)))
            written += 1
        handle.write("\n ]\n}\n")
    partial.replace(path)
    return written


def read(
    path: Path, chain_id: int, escrow: str
) -> tuple[list[tuple[int, SignedAttestation, str]], list[RowError]]:
    """Each valid entry as (row, signed attestation, the address it recovers to), and a
    RowError for every entry the contract would refuse on its form alone."""
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ItgenError(f"{path} is not a signed-attestations JSON file ({error})") from None
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
        raise ItgenError(f"{path} is not a {FORMAT} file; ask the registrar to sign again")
    expected = domain(chain_id, escrow)
    if (
        loaded.get("domain") != expected
        or loaded.get("types", {}).get("Attestation") != (ATTESTATION_TYPES["Attestation"])
    ):
        theirs = loaded.get("domain") or {}
        raise ItgenError(
            f"{path} was signed for chain {theirs.get('chainId')} escrow "
            f"{theirs.get('verifyingContract')} (or other typed data), not chain {chain_id} "
            f"escrow {escrow}"
        )
    entries, errors = [], []
    rows: set[int] = set()
    pairs: dict[tuple[bytes, int], int] = {}
    for position, entry in enumerate(loaded.get("attestations") or []):
        row = entry.get("row") if isinstance(entry, dict) else None
        if not isinstance(row, int) or isinstance(row, bool) or row < 1:
            errors.append(RowError(0, "row", f"entry {position} has no valid row number"))
            continue
        if row in rows:
            errors.append(RowError(row, "row", "row number repeated in the file"))
            continue
        rows.add(row)
        try:
            item = _item(entry)
        except RowError as error:
            errors.append(RowError(row, error.field, error.reason))
            continue
        pair = (item.attestation.student_id, int(item.attestation.milestone))
        if pair in pairs:
            errors.append(
                RowError(row, "message", f"student and milestone repeated (row {pairs[pair]})")
            )
            continue
        pairs[pair] = row
        try:
            signer = recover(item, chain_id, escrow)
        except ValueError as error:
            errors.append(RowError(row, "signature", str(error)))
            continue
        entries.append((row, item, signer))
    return entries, errors


def _item(entry: dict[str, Any]) -> SignedAttestation:
    """One entry as the contract would take it; RowError(0, field, reason) otherwise."""
    message = entry.get("message")
    if not isinstance(message, dict):
        raise RowError(0, "message", "missing")
    student = _hex(message.get("studentId"), 32, "studentId")
    payee = message.get("payee")
    if not isinstance(payee, str) or not is_address(payee):
        raise RowError(0, "payee", "not an address")
    course = _uint(message.get("courseId"), 256, "courseId")
    milestone = message.get("milestone")
    if isinstance(milestone, str) and milestone.strip().lower() in ("registration", "completion"):
        milestone = int(Milestone.parse(milestone))
    if milestone not in (0, 1) or isinstance(milestone, bool):
        raise RowError(0, "milestone", "must be 0 (registration) or 1 (completion)")
    epoch = _uint(message.get("epoch"), 16, "epoch")
    deadline = _uint(message.get("deadline"), 256, "deadline")
    signature = _hex(entry.get("signature"), 65, "signature")
    if signature[64] not in (27, 28):
        raise RowError(0, "signature", f"v is {signature[64]}; the escrow takes 27 or 28 only")
    if int.from_bytes(signature[32:64], "big") > SECP256K1_HALF_N:
        raise RowError(0, "signature", "malleable (high s); the escrow refuses it")
    attestation = Attestation(student, to_checksum_address(payee), course, Milestone(milestone))
    return SignedAttestation(attestation, epoch, deadline, signature)


def _hex(value: Any, size: int, field: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RowError(0, field, f"must be 0x and {size} bytes of hex")
    try:
        data = bytes.fromhex(value[2:])
    except ValueError:
        raise RowError(0, field, "not hex") from None
    if len(data) != size:
        raise RowError(0, field, f"is {len(data)} bytes, not {size}")
    return data


def _uint(value: Any, bits: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise RowError(0, field, f"must be a whole number below 2^{bits}")
    return value
