"""A client over a deployed ScholarshipEscrow: checks before sending, batching, resume.

The plan is made from the chain: every row is checked against the course table, the
registrar's standing and the escrow's balance, and rows already paid are skipped. Every
batch is simulated with ``eth_call`` before it is signed, and journalled before it is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from itgen_chain import claims
from itgen_chain.amounts import format_time, format_tokens
from itgen_chain.attestations import Attestation, Milestone, SignedAttestation
from itgen_chain.claims import ClaimJump
from itgen_chain.compiled import escrow_abi
from itgen_chain.exceptions import (
    ItgenError,
    NodeUnavailable,
    NothingSent,
    ProgramEnded,
    ProgramPaused,
    RejectedTransaction,
    RosterError,
    RowError,
    WouldRevert,
)
from itgen_chain.journal import Journal
from itgen_chain.retrying import is_connection_error
from itgen_chain.reverts import explain
from itgen_chain.roster import RosterRow

RPC_BATCH = 200
PAID_CHUNK = 1_000
# BNB Chain refuses any transaction above 2^24 gas (EIP-7825, BEP-652, mainnet since
# 2026-04-28). A batch is cut so that its estimate stays under this share of the cap, and
# its gas limit (estimate + 20%) under the cap itself.
TX_GAS_CAP = 2**24
BATCH_GAS_TARGET = int(TX_GAS_CAP * 0.8)


@dataclass
class Item:
    """A row that will be paid, with its amount; `signed` when relayed."""

    row: int
    attestation: Attestation
    amount: int
    signed: SignedAttestation | None = None
    registrar: str = ""

    def as_call_argument(self) -> tuple:
        return self.signed.as_tuple() if self.signed else self.attestation.as_tuple()


@dataclass
class Plan:
    to_send: list[Item] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    # Rows the chain skipped when their batch was mined: paid meanwhile by another transaction
    # (another registrar, or someone who submitted a copied signature first).
    skipped_on_chain: list[int] = field(default_factory=list)
    # Rows found paid that the chain shows paid to another payee, course or registrar.
    claim_jumps: list[ClaimJump | claims.ReservedJump] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(item.amount for item in self.to_send)

    def batches(self, size: int) -> list[list[Item]]:
        return [self.to_send[i : i + size] for i in range(0, len(self.to_send), size)]


def batched_calls(web3: Any, calls: Sequence[Any]) -> list[Any]:
    """Many contract reads in JSON-RPC batches (one round trip per RPC_BATCH reads)."""
    results: list[Any] = []
    for start in range(0, len(calls), RPC_BATCH):
        with web3.batch_requests() as batch:
            for call in calls[start : start + RPC_BATCH]:
                batch.add(call)
            results.extend(batch.execute())
    return results


class Payouts:
    """The program client's payouts (``Program.payouts``): plan a roster or a signed file
    against the chain, fit batches under the gas cap, send them with a journal, settle an
    interrupted run, find claim-jumps."""

    def __init__(
        self, escrow: Any, token: Any, provider: Any, decimals: int = 18, start_block: int = 0
    ) -> None:
        self.escrow = escrow
        self.start_block = start_block
        self.token = token
        self.provider = provider
        self.decimals = decimals
        self.web3 = provider.web3
        self.abi = escrow_abi(escrow.contract_type)
        self.w3_escrow = self.web3.eth.contract(escrow.address, abi=self.abi)

    # ------------------------------------------------------------------ planning

    def plan(
        self,
        path: str,
        rows: Sequence[RosterRow],
        registrars: Callable[[int], str] | str,
        signed: dict[int, SignedAttestation] | None = None,
        errors: Sequence[RowError] = (),
    ) -> Plan:
        """Checks every row against the chain; raises RosterError listing every bad row,
        with `errors` already found in the file."""
        errors = list(errors)
        courses = self._courses({row.attestation.course_id for row in rows})
        paid = self._paid([row.attestation for row in rows])
        forbidden = {self.escrow.address.lower(), self.token.address.lower()}
        plan = Plan()
        spend: dict[str, int] = {}
        providers: dict[str, int] = {}
        found_paid = []
        for row, is_paid in zip(rows, paid, strict=True):
            att = row.attestation
            registrar = registrars if isinstance(registrars, str) else registrars(row.row)
            registration, completion, active, provider = courses[att.course_id]
            amount = registration if att.milestone == Milestone.REGISTRATION else completion
            if registrar not in providers:
                providers[registrar] = self.escrow.registrar(registrar).provider
            if att.payee.lower() in forbidden:
                errors.append(
                    RowError(row.row, "payee", "the escrow or the token cannot be a payee")
                )
            elif not active:
                errors.append(
                    RowError(row.row, "course", f"course {att.course_id} is unknown or inactive")
                )
            elif amount == 0:
                errors.append(
                    RowError(
                        row.row,
                        "milestone",
                        f"course {att.course_id} pays nothing on {att.milestone.name.lower()}",
                    )
                )
            elif provider != providers[registrar]:
                errors.append(
                    RowError(
                        row.row,
                        "course",
                        f"course {att.course_id} is taught by provider {provider}; registrar "
                        f"{registrar} attests for provider {providers[registrar]} only",
                    )
                )
            elif is_paid:
                plan.skipped.append(row.row)
                found_paid.append((row.row, att, registrar))
            else:
                spend[registrar] = spend.get(registrar, 0) + amount
                plan.to_send.append(
                    Item(row.row, att, amount, (signed or {}).get(row.row), registrar)
                )
        errors.extend(self._check_registrars(spend))
        balance = self.token.balanceOf(self.escrow)
        if plan.total > balance:
            errors.append(
                RowError(
                    0,
                    "total",
                    f"{self._tokens(plan.total)} tokens needed, the escrow holds "
                    f"{self._tokens(balance)}",
                )
            )
        if errors:
            raise RosterError(path, sorted(errors, key=lambda e: e.row))
        plan.claim_jumps = self.claim_jumps(found_paid)
        return plan

    def claim_jumps(
        self, rows: Sequence[tuple[int, Attestation, str]]
    ) -> list[ClaimJump | claims.ReservedJump]:
        """The rows (number, attestation, registrar) found paid whose release event shows
        another payee, course or registrar (claims.py)."""
        from itgen_chain.indexer import rpc

        if not rows:
            return []
        head = self.web3.eth.block_number
        ids = [attestation.student_id for _, attestation, _ in rows]
        paid = claims.releases(rpc(self.provider), self.escrow.address, ids, self.start_block, head)
        jumps: list[ClaimJump | claims.ReservedJump] = list(claims.compare(rows, paid))
        unreleased = [r for r in rows if (r[1].student_id, int(r[1].milestone)) not in paid]
        calls = [
            self.w3_escrow.functions.reservation(a.student_id, int(a.milestone))
            for _, a, _ in unreleased
        ]
        for (number, _, registrar), reserved in zip(
            unreleased, batched_calls(self.web3, calls) if calls else [], strict=True
        ):
            claim_key, _, by, _ = reserved
            if int(claim_key, 16) and by.lower() != registrar.lower():
                jumps.append(claims.ReservedJump(number, by, claim_key))
        return jumps

    def _courses(self, ids: set[int]) -> dict[int, tuple[int, int, bool, int]]:
        ordered = sorted(ids)
        results = batched_calls(self.web3, [self.w3_escrow.functions.course(i) for i in ordered])
        return {i: tuple(r) for i, r in zip(ordered, results, strict=True)}

    def _paid(self, attestations: Sequence[Attestation]) -> list[bool]:
        """Whether each (student, milestone) is paid: one eth_call per PAID_CHUNK students."""
        from eth_abi import decode

        paid: list[bool] = []
        calldata = self.calldata("paidMilestones")
        for start in range(0, len(attestations), PAID_CHUNK):
            chunk = attestations[start : start + PAID_CHUNK]
            call = {"to": self.escrow.address, "data": calldata([a.student_id for a in chunk])}
            [bits] = decode(["uint256[]"], bytes(self.web3.eth.call(call)))
            paid.extend(bool(b >> int(a.milestone) & 1) for a, b in zip(chunk, bits, strict=True))
        return paid

    def _check_registrars(self, spend: dict[str, int]) -> Iterator[RowError]:
        if not spend:
            return
        now = self.provider.get_block("latest").timestamp
        # The program's state refuses the whole roster: one line, not a row.
        if self.escrow.paused():
            raise ProgramPaused()
        if now > (end := self.escrow.programEnd()):
            raise ProgramEnded(format_time(end))
        for registrar, total in spend.items():
            standing = self.escrow.registrar(registrar)
            allowance, released, expiry, active = (
                standing.allowance,
                standing.released,
                standing.expiry,
                standing.active,
            )
            if not active:
                yield RowError(0, "registrar", f"{registrar} is not an active registrar")
            elif now > expiry:
                yield RowError(0, "registrar", f"{registrar} expired at {format_time(expiry)}")
            elif released + total > allowance:
                yield RowError(
                    0,
                    "total",
                    f"{self._tokens(total)} tokens exceed the remaining allowance "
                    f"{self._tokens(max(allowance - released, 0))} of {registrar}",
                )

    def _tokens(self, base_units: int) -> str:
        return format_tokens(base_units, self.decimals)

    # ------------------------------------------------------------------ sending

    def settle(self, journal: Journal, wait: float = 60.0) -> int:
        """Settles what an interrupted run left in flight; returns how many it settled."""
        settled = 0
        for entry in journal.unsettled():
            receipt = self._receipt(entry["hash"])
            status = None
            if receipt is None:
                nonce = self.web3.eth.get_transaction_count(entry["sender"])
                if nonce <= entry["nonce"]:
                    try:
                        self._broadcast(bytes.fromhex(entry["raw"]))
                    except RejectedTransaction as error:
                        # Refused for good while its nonce is unused: it was never mined
                        # and never will be; give it up and plan again from the chain.
                        status = f"rejected: {error.reason}"
                    else:
                        receipt = self._wait(entry["hash"], wait)
            if status is None:
                mined = receipt is not None and receipt["status"] == 1
                status = "mined" if mined else "dropped-or-failed"
            journal.append(event="settled", hash=entry["hash"], status=status)
            settled += 1
        return settled

    def send(
        self,
        plan: Plan,
        sender: Any,
        journal: Journal,
        batch_size: int,
        by_sig: bool,
        legacy_gas: bool,
        progress: Callable[[int], None] = lambda n: None,
        echo: Callable[[str], None] = lambda line: None,
    ) -> list[str]:
        """Simulates, journals, sends and waits for each batch in turn, one line each;
        returns the transaction hashes."""
        hashes: list[str] = []
        method = self.escrow.attestBatchBySig if by_sig else self.escrow.attestBatch
        for batch, gas in self.fit(plan, batch_size, by_sig, sender):
            arguments = [item.as_call_argument() for item in batch]
            nonce = self.web3.eth.get_transaction_count(sender.address, "pending")
            fees: dict[str, Any] = {"nonce": nonce, "gas": min(gas * 6 // 5, TX_GAS_CAP)}
            if legacy_gas:
                fees.update(type=0, gas_price=self.web3.eth.gas_price)
            txn = method.as_transaction(arguments, sender=sender, **fees)
            signed = sender.sign_transaction(txn)
            raw = signed.serialize_transaction()
            tx_hash = "0x" + _keccak(raw).hex()
            journal.append(
                event="sending",
                hash=tx_hash,
                nonce=nonce,
                sender=sender.address,
                raw=raw.hex(),
                items=[
                    [item.attestation.student_id.hex(), int(item.attestation.milestone)]
                    for item in batch
                ],
            )
            try:
                self._broadcast(raw)
            except RejectedTransaction as error:
                journal.append(event="settled", hash=tx_hash, status=f"rejected: {error.reason}")
                raise ItgenError(
                    f"the node refused transaction {tx_hash}: {error.reason}; nothing of this "
                    "batch was paid"
                ) from None
            receipt = self._wait(tx_hash, 120)
            if receipt is None or receipt["status"] != 1:
                raise ItgenError(
                    f"transaction {tx_hash} failed or was not mined; run again to resume"
                )
            journal.append(event="settled", hash=tx_hash, status="mined")
            echo(
                f"batch {len(hashes) + 1}: {len(batch)} attestation(s) in {tx_hash} "
                f"(block {receipt['blockNumber']}, {receipt['gasUsed']:,} gas)"
            )
            skipped = [batch[i] for i in self.skipped_indices(receipt)]
            plan.skipped_on_chain.extend(item.row for item in skipped)
            plan.claim_jumps += self.claim_jumps(
                [(item.row, item.attestation, item.registrar or sender.address) for item in skipped]
            )
            hashes.append(tx_hash)
            progress(len(batch))
        return hashes

    def skipped_indices(self, receipt: Any) -> list[int]:
        """The batch indices the escrow skipped as already paid, from a receipt's events."""
        from web3.logs import DISCARD

        events = self.w3_escrow.events.AttestationSkipped().process_receipt(receipt, errors=DISCARD)
        return [event.args.index for event in events]

    def fit(
        self, plan: Plan, batch_size: int, by_sig: bool, sender: Any
    ) -> Iterator[tuple[list[Item], int]]:
        """The plan's batches of at most `batch_size`, each cut in halves until its gas
        estimate is under BATCH_GAS_TARGET, with that estimate. Each estimate simulates the
        batch: a revert is explained in words and nothing is sent."""
        function = self.calldata("attestBatchBySig" if by_sig else "attestBatch")
        queue = plan.batches(batch_size)
        while queue:
            batch = queue.pop(0)
            arguments = [item.as_call_argument() for item in batch]
            gas, refusal = self.estimate(function, arguments, sender)
            if gas is not None and gas <= BATCH_GAS_TARGET:
                yield batch, gas
            elif len(batch) > 1:
                half = len(batch) // 2
                queue[0:0] = [batch[:half], batch[half:]]
            else:
                raise NothingSent(
                    f"row {batch[0].row} would fail even alone ({refusal or f'{gas:,} gas'})"
                )

    def calldata(self, name: str) -> Callable[[list], str]:
        """A maker of `name`'s calldata by eth-abi directly: web3's own encoder walks every
        value through its formatters, 0.14 s a batch of 100 (14 s in a 10,000-row dry run)."""
        from eth_abi import encode
        from eth_utils import function_abi_to_4byte_selector, get_abi_input_types

        abi: Any = next(item for item in self.abi if item.get("name") == name)
        selector, types = function_abi_to_4byte_selector(abi), get_abi_input_types(abi)
        return lambda arguments: "0x" + (selector + encode(types, [arguments])).hex()

    def estimate(self, function: Any, arguments: list, sender: Any) -> tuple[int | None, str]:
        """The batch's gas through eth_estimateGas (which runs it), or None and the node's
        words when it gives no reason of the escrow's, as when the batch would pass the
        node's gas cap. A revert with the escrow's reason is explained in words and nothing
        is sent."""
        try:
            call = {"from": sender.address, "to": self.escrow.address, "data": function(arguments)}
            return self.web3.eth.estimate_gas(call), ""
        except Exception as error:  # web3's ContractLogicError, or the node's own refusal
            if is_connection_error(error):
                raise
            reason = explain(error, self.abi, self.decimals)
            if reason is None:
                return None, str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise WouldRevert("the batch", reason) from None

    def _broadcast(self, raw: bytes) -> None:
        """Sends signed bytes; "already known" is fine; a refusal raises RejectedTransaction."""
        try:
            self.web3.eth.send_raw_transaction(raw)
        except Exception as error:
            if is_connection_error(error):
                raise
            text = str(error).lower()
            if "already known" in text or "nonce too low" in text or "already imported" in text:
                return
            raise RejectedTransaction(str(error).strip().splitlines()[0]) from error

    def _receipt(self, tx_hash: str) -> Any:
        try:
            return self.web3.eth.get_transaction_receipt(tx_hash)
        except Exception as error:
            if is_connection_error(error):
                raise
            return None

    def _wait(self, tx_hash: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (receipt := self._receipt(tx_hash)) is not None:
                return receipt
            time.sleep(0.05)
        return None


def _keccak(data: bytes) -> bytes:
    from eth_utils import keccak

    return keccak(data)


def guard_node(resume: str) -> Callable:
    """Turns a lost node into NodeUnavailable naming the command that resumes."""

    def wrap(function: Callable) -> Callable:
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception as error:
                if is_connection_error(error):
                    raise NodeUnavailable(type(error).__name__, resume) from error
                raise

        return inner

    return wrap
