"""Students without a wallet: a roster with no payee column is reserved for claim keys, and
each student gets a claim link (reservations.py has the keys and the claim).

The claim sheet is written per run into one folder: ``links.csv`` (roster row, course,
milestone, amount, link), one QR code per student (``qr/row-N.svg``) and ``sheet.html``, a
printable page per batch of the registrar's reservations. Students are named by their row
in the registrar's roster, never by their reference, which no file the tool writes holds. The keys are derived from the
registrar's own signature, so a rerun after a crash writes the same links, and nothing else
stores them: keep the sheet as you would keep cash.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from itgen_chain.amounts import format_tokens
from itgen_chain.attestations import Milestone
from itgen_chain.claims import logs
from itgen_chain.console import Confirm, Echo, ask, quiet
from itgen_chain.exceptions import ItgenError, RosterError, RowError
from itgen_chain.reservations import (
    Link,
    Reservation,
    claim_key_address,
    claim_private_key,
    registrar_seed,
)
from itgen_chain.roster import ParsedRoster

CANCELLED_TOPIC = (
    "0x" + keccak(text="ReservationCancelled(bytes32,address,address,uint8,uint256)").hex()
)
# A batch of 100 reservations costs about 7.3 M gas: well under BNB Chain's 2^24 cap.
RESERVE_BATCH = 100


@dataclass
class LinkRow:
    """One student's link: reserved now, reserved before (a rerun), or already paid."""

    row: int
    student_id: bytes
    course_id: int
    milestone: Milestone
    amount: int
    claim_key: bytes
    state: str  # "reserve", "reserved", "paid"


@dataclass
class LinkPlan:
    rows: list[LinkRow] = field(default_factory=list)

    @property
    def to_reserve(self) -> list[LinkRow]:
        return [r for r in self.rows if r.state == "reserve"]

    @property
    def total(self) -> int:
        return sum(r.amount for r in self.to_reserve)


def cancellations(program: Any, student_ids: Sequence[bytes]) -> dict[tuple[bytes, int], int]:
    """How often each (student, milestone) had a reservation cancelled: the issue number of
    its next claim key."""
    from ape import chain

    wanted = {sid for sid in student_ids}
    if not wanted:
        return {}
    web3 = chain.provider.web3

    def request(method: str, params: list) -> Any:
        return [dict(log) for log in web3.eth.get_logs(params[0])]

    found: dict[tuple[bytes, int], int] = {}
    query = {"address": program.escrow.address, "topics": [CANCELLED_TOPIC]}
    for log in logs(request, query, program.deployment.block, web3.eth.block_number):
        topics = [bytes(t) for t in log["topics"]]
        sid = topics[1]
        if sid in wanted:
            milestone = int.from_bytes(bytes(log["data"])[0:32], "big")
            found[(sid, milestone)] = found.get((sid, milestone), 0) + 1
    return found


def plan(program: Any, parsed: ParsedRoster, path: Path, seed: bytes, registrar: str) -> LinkPlan:
    """Checks every row against the chain (course, provider, amount, allowance, funds) and
    finds the rows reserved before by this registrar's keys; every bad row named at once."""
    escrow = program.escrow
    errors = list(parsed.errors)
    standing = escrow.registrar(registrar)
    if not standing.active:
        raise ItgenError(f"{registrar} is not an active registrar")
    courses = {c: escrow.course(c) for c in {r.attestation.course_id for r in parsed.rows}}
    ids = [r.attestation.student_id for r in parsed.rows]
    taken = escrow.paidMilestones(ids) if ids else []
    issues = cancellations(program, ids)
    reservations = _reservations(program, parsed, taken)
    result = LinkPlan()
    for row, bits in zip(parsed.rows, taken, strict=True):
        att = row.attestation
        registration, completion, active, provider = courses[att.course_id]
        amount = registration if att.milestone == Milestone.REGISTRATION else completion
        if not active:
            errors.append(
                RowError(row.row, "course", f"course {att.course_id} is unknown or inactive")
            )
            continue
        if amount == 0:
            errors.append(
                RowError(
                    row.row,
                    "milestone",
                    f"course {att.course_id} pays nothing on {att.milestone.name.lower()}",
                )
            )
            continue
        if provider != standing.provider:
            errors.append(
                RowError(
                    row.row,
                    "course",
                    f"course {att.course_id} is taught by provider {provider}; registrar "
                    f"{registrar} reserves for provider {standing.provider} only",
                )
            )
            continue
        if att.course_id >= 2**96:
            errors.append(RowError(row.row, "course", "a course id for a link must fit 96 bits"))
            continue
        issue = issues.get((att.student_id, int(att.milestone)), 0)
        key = claim_private_key(seed, att.student_id, att.milestone, issue)
        state = "reserve"
        if bits >> int(att.milestone) & 1:
            claim_key, _, by, _ = reservations[row.row]
            if int(claim_key, 16) == 0:
                state = "paid"
            elif claim_key.lower() == claim_key_address(key).lower():
                state = "reserved"
            else:
                errors.append(
                    RowError(
                        row.row,
                        "student_ref",
                        f"RESERVED FOR ANOTHER CLAIM KEY {claim_key} by registrar {by}: a "
                        "claim-jump, or another registrar's link",
                    )
                )
                continue
        result.rows.append(
            LinkRow(
                row.row, att.student_id, att.course_id,
                att.milestone, amount, key, state,
            )
        )  # fmt: skip
    remaining = standing.allowance - standing.released
    if result.total > remaining:
        errors.append(
            RowError(
                0,
                "total",
                f"{format_tokens(result.total, program.decimals)} tokens exceed the remaining "
                f"allowance {format_tokens(max(remaining, 0), program.decimals)} of {registrar}",
            )
        )
    balance = program.token.balanceOf(escrow)
    if escrow.reservedTotal() + result.total > balance:
        errors.append(
            RowError(0, "total", "the escrow does not hold enough to back these reservations")
        )
    if errors:
        raise RosterError(str(path), sorted(errors, key=lambda e: e.row))
    return result


def _reservations(program: Any, parsed: ParsedRoster, taken: Sequence[int]) -> dict[int, Any]:
    """The reservation of each taken row (a rerun's rows), read in JSON-RPC batches."""
    from itgen_chain.payouts import batched_calls

    functions = program.payouts.w3_escrow.functions
    rows = [
        row
        for row, bits in zip(parsed.rows, taken, strict=True)
        if bits >> int(row.attestation.milestone) & 1
    ]
    calls = [
        functions.reservation(r.attestation.student_id, int(r.attestation.milestone)) for r in rows
    ]
    results = batched_calls(program.payouts.web3, calls) if calls else []
    return {row.row: tuple(result) for row, result in zip(rows, results, strict=True)}


def link_for(program: Any, row: LinkRow, base: str, relayer: str) -> Link:
    from ape import chain

    return Link(
        base, chain.chain_id, program.escrow.address, row.student_id, row.milestone,
        row.claim_key, row.course_id, format_tokens(row.amount, program.decimals), relayer,
    )  # fmt: skip


def write_sheet(program: Any, rows: Sequence[LinkRow], out: Path, base: str, relayer: str) -> Path:
    """links.csv, one QR code per student and a printable sheet.html; returns the folder."""
    import segno

    out.mkdir(parents=True, exist_ok=True)
    (out / "qr").mkdir(exist_ok=True)
    listed = [row for row in rows if row.state != "paid"]
    codes: dict[int, str] = {}  # each link's QR code, made once: the file and the sheet share it
    with (out / "links.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "course", "milestone", "amount", "link"])
        for row in listed:
            url = link_for(program, row, base, relayer).url()
            writer.writerow(
                [row.row, row.course_id, row.milestone.name.lower(),
                 format_tokens(row.amount, program.decimals), url]
            )  # fmt: skip
            codes[row.row] = segno.make(url, error="m").svg_inline(scale=3)
            (out / "qr" / f"row-{row.row}.svg").write_text(codes[row.row], encoding="utf-8")
    pages = []
    for start in range(0, len(listed), RESERVE_BATCH):
        cards = []
        for row in listed[start : start + RESERVE_BATCH]:
            svg = codes[row.row]
            cards.append(
                f"<div class=card><div>{svg}</div><p><b>roster row {row.row}</b><br>"
                f"course {row.course_id}, {row.milestone.name.lower()}: "
                f"{format_tokens(row.amount, program.decimals)}<br>"
                f"<small>Scan, or open the link, and enter your BNB Chain wallet address. "
                f"Відскануйте або відкрийте посилання та введіть адресу свого гаманця BNB Chain."
                f"</small></p></div>"
            )
        pages.append(
            f"<section><h2>batch {start // RESERVE_BATCH + 1}</h2>{''.join(cards)}</section>"
        )
    (out / "sheet.html").write_text(
        "<!doctype html><html lang=uk><meta charset=utf-8><title>claim links</title><style>"
        "section{page-break-after:always}.card{display:inline-block;width:45%;margin:1%;"
        "border:1px solid #999;padding:8px;vertical-align:top}</style><body>"
        f"<h1>Claim links: escrow {program.escrow.address}</h1>{''.join(pages)}</body></html>",
        encoding="utf-8",
    )
    return out


def reserve(
    program: Any,
    parsed: ParsedRoster,
    path: Path,
    account: Any,
    *,
    base: str,
    out: Path,
    relayer: str = "",
    dry_run: bool = False,
    yes: bool = False,
    echo: Echo = quiet,
    confirm: Confirm | None = None,
) -> LinkPlan:
    """Reserves a link roster's rows as the registrar `account`, then writes the claim sheet
    (also for rows reserved by an earlier run, with the same links)."""
    from ape import chain

    seed = registrar_seed(account, program.escrow.address, chain.chain_id)
    result = plan(program, parsed, path, seed, account.address)
    todo = result.to_reserve
    done = sum(1 for r in result.rows if r.state == "reserved")
    echo(
        f"{len(todo)} to reserve for claim links ({format_tokens(result.total, program.decimals)} "
        f"tokens); {done} reserved before, {len(result.rows) - len(todo) - done} already paid"
    )
    if dry_run:
        echo("dry run: nothing sent, no sheet written")
        return result
    if todo:
        ask(
            f"Reserve {format_tokens(result.total, program.decimals)} tokens for claim links?",
            yes,
            confirm,
        )
        for start in range(0, len(todo), RESERVE_BATCH):
            batch = [
                Reservation(
                    r.student_id, claim_key_address(r.claim_key), r.course_id, r.milestone
                ).as_tuple()
                for r in todo[start : start + RESERVE_BATCH]
            ]
            program.send("reserving", program.escrow.reserveBatch, batch, sender=account)
            for r in todo[start : start + RESERVE_BATCH]:
                r.state = "reserved"
        echo(f"reserved {len(todo)} in {-(-len(todo) // RESERVE_BATCH)} transaction(s)")
    folder = write_sheet(program, result.rows, out, base, relayer)
    echo(f"claim sheet: {folder / 'sheet.html'} ({folder / 'links.csv'}); keep it safe")
    return result
