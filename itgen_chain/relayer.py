"""The charity's relayer: checks students' claims against the chain, journals the accepted
ones, and submits them in batches from a funded account (students hold no BNB for gas).

A claim is accepted only if the chain would pay it now: its reservation is open, the claim
key signed it, the deadline has not passed, the payee can receive, and the program is open.
Accepted claims are written to a journal (one JSON line each, flushed and fsynced) before
the student is answered, so a kill -9 loses none; on start the journal's claims whose
reservation is still open are submitted again. Nobody is paid twice: the escrow pays a
reservation once, and a batch skips a claim already paid (ClaimSkipped).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from itgen_chain.amounts import format_tokens
from itgen_chain.console import Echo, quiet
from itgen_chain.reservations import Claim, claim_signer

# About 40,000 gas a claim in a batch: 100 stay far under BNB Chain's 2^24 cap.
CLAIM_BATCH = 100


@dataclass(frozen=True)
class Answer:
    """What the student's page is told: accepted (and will be paid) or refused, in words."""

    accepted: bool
    message: str
    amount: str = ""

    def as_json(self) -> dict[str, Any]:
        status = "accepted" if self.accepted else "refused"
        return {"status": status, "message": self.message, "amount": self.amount}


class ClaimDesk:
    """Checks, journals and submits claims for one escrow."""

    def __init__(self, program: Any, journal: Path) -> None:
        from ape import chain

        self.program = program
        self.chain_id = chain.chain_id
        self.web3 = chain.provider.web3
        self.escrow = self.web3.eth.contract(program.escrow.address, abi=program.payouts.abi)
        self.journal = journal
        self.lock = threading.Lock()
        self.pending: dict[tuple[bytes, int], Claim] = {}
        journal.parent.mkdir(parents=True, exist_ok=True)
        for claim in self._journalled():
            if self._open(claim):
                self.pending[(claim.student_id, int(claim.milestone))] = claim

    @classmethod
    def for_escrow(cls, program: Any) -> ClaimDesk:
        from itgen_chain.config import settings
        from itgen_chain.watch import chain_key

        folder = settings().work_folder / "claims"
        return cls(program, folder / f"{chain_key()}-{program.escrow.address}.jsonl")

    # ------------------------------------------------------------------ checking

    def _open(self, claim: Claim) -> bool:
        reserved = self.escrow.functions.reservation(claim.student_id, int(claim.milestone)).call()
        return int(reserved[0], 16) != 0

    def check(self, claim: Claim) -> Answer:
        """Whether the chain would pay `claim` now, in words the student understands."""
        functions = self.escrow.functions
        key = (claim.student_id, int(claim.milestone))
        if key in self.pending:
            return Answer(True, "Your claim is accepted and waits for the next batch.")
        claim_key, amount, _, _ = functions.reservation(*key).call()
        shown = format_tokens(amount, self.program.decimals)
        if int(claim_key, 16) == 0:
            return Answer(
                False,
                "This link has nothing to claim: it was claimed already, or cancelled "
                "(ask your registrar for a new link).",
            )
        try:
            signer = claim_signer(claim, self.chain_id, self.escrow.address)
        except ValueError as error:
            return Answer(False, f"The claim's signature is malformed: {error}.")
        if signer.lower() != claim_key.lower():
            return Answer(
                False, "The claim was not signed with this link's key: open the link again."
            )
        now = self.web3.eth.get_block("latest")["timestamp"]
        if claim.deadline < now:
            return Answer(False, "The claim expired before it arrived: claim again from the link.")
        forbidden = {
            "0x" + "00" * 20,
            self.escrow.address.lower(),
            self.program.token.address.lower(),
        }
        if claim.payee.lower() in forbidden:
            return Answer(False, f"{claim.payee} cannot receive a scholarship: give your wallet.")
        if functions.paused().call():
            return Answer(False, "The program is paused: try again later.")
        if now > functions.programEnd().call():
            return Answer(False, "The program has ended: claims are closed.")
        return Answer(True, f"Accepted: {shown} tokens will be paid to {claim.payee}.", shown)

    def reservation(self, student_id: bytes, milestone: int) -> dict[str, Any]:
        """What the claim page shows: the course and amount reserved, and whether it is open."""
        claim_key, amount, _, course = self.escrow.functions.reservation(
            student_id, milestone
        ).call()
        if int(claim_key, 16) == 0:
            return {"open": False, "message": "Nothing to claim: claimed already, or cancelled."}
        return {
            "open": True,
            "course": course,
            "amount": format_tokens(amount, self.program.decimals),
        }

    def accept(self, claim: Claim) -> Answer:
        """Checks `claim`; an accepted one is journalled before the answer is given."""
        answer = self.check(claim)
        key = (claim.student_id, int(claim.milestone))
        if answer.accepted:
            with self.lock:
                if key not in self.pending:
                    self._write({"accepted": claim.as_json(), "at": int(time.time())})
                    self.pending[key] = claim
        return answer

    # ------------------------------------------------------------------ submitting

    def submit(self, account: Any, echo: Echo = quiet, batch_size: int = CLAIM_BATCH) -> int:
        """Submits the pending claims in batches; returns how many were paid."""
        with self.lock:
            claims = list(self.pending.values())
        paid = 0
        for start in range(0, len(claims), batch_size):
            batch = [c for c in claims[start : start + batch_size] if self._open(c)]
            if batch:
                receipt = self.program.send(
                    f"paying {len(batch)} claim(s)",
                    self.program.escrow.claimBatch,
                    [c.as_tuple() for c in batch],
                    sender=account,
                )
                released = len(receipt.events.filter(self.program.escrow.ScholarshipReleased))
                paid += released
                self._write({"sent": receipt.txn_hash, "claims": len(batch), "paid": released})
                echo(f"paid {released} claim(s) in {receipt.txn_hash}")
            with self.lock:
                for claim in claims[start : start + batch_size]:
                    self.pending.pop((claim.student_id, int(claim.milestone)), None)
        return paid

    # ------------------------------------------------------------------ journal

    def _write(self, entry: dict[str, Any]) -> None:
        with self.journal.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _journalled(self) -> Iterable[Claim]:
        if not self.journal.exists():
            return
        for line in self.journal.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a kill mid-write: its student was not answered
            if "accepted" in entry:
                yield Claim.from_json(entry["accepted"])


def read_claims(path: Path) -> list[Claim]:
    """Claims carried by hand: a JSON list, or one JSON claim per line; ValueError naming
    the item that is wrong."""
    text = path.read_text(encoding="utf-8").strip()
    items = (
        json.loads(text)
        if text.startswith("[")
        else [json.loads(x) for x in text.splitlines() if x.strip()]
    )
    claims = []
    for number, item in enumerate(items, start=1):
        try:
            claims.append(Claim.from_json(item))
        except ValueError as error:
            raise ValueError(f"{path}: claim {number}: {error}") from None
    return claims


def payee_is_contract(web3: Any, payee: str) -> bool:
    return len(web3.eth.get_code(to_checksum_address(payee))) > 0
