"""The five invariants of DESIGN.md under random sequences of calls.

A ghost model keeps its own books (solmate's BalanceSum handler): every rule predicts from
the model whether the call must succeed and what it pays, makes the call on anvil, and
checks the prediction; the invariants compare the model with the chain after every step.
Each example starts from one deployed, funded escrow (a chain snapshot) and restores it
at the end.

Set-up goes through ape; the steps send and read through web3.py with anvil's unlocked
test accounts, because they run hundreds of times: ape's transaction is about 145 ms and
its checked revert 400 ms on anvil, web3's about a tenth of that.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from shared import DAY
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from itgen_chain.attestations import Attestation, Milestone, sign
from itgen_chain.deployer import Terms
from itgen_chain.reservations import Reservation, claim_key_address, sign_claim

STUDENTS = [bytes([0] * 31 + [n]) for n in range(1, 9)]
PAYEES = [f"0x{0xBEEF0000 + n:040x}" for n in range(1, 9)]
COURSES = [1, 2, 3]
# Course 3 is taught by provider 1; registrars of provider 0 may not touch it.
PROVIDERS = {1: 0, 2: 0, 3: 1}
CLAIM_KEYS = [bytes([0x11] * 31 + [n]) for n in range(1, 4)]
MAX_VALIDITY = 30 * DAY


@dataclass
class RegistrarModel:
    allowance: int = 0
    released: int = 0
    expiry: int = 0
    active: bool = False
    epoch: int = 0
    provider: int = 0
    retired: bool = False


@dataclass
class Model:
    funded: int = 0
    direct: int = 0
    released: int = 0
    reclaimed: int = 0
    paused: bool = False
    program_end: int = 0
    latest_end: int = 0
    registrars: dict[str, RegistrarModel] = field(default_factory=dict)
    courses: dict[int, tuple[int, int, bool]] = field(default_factory=dict)
    # Every (student, milestone) paid or reserved: the chain's isPaid.
    paid: set[tuple[bytes, int]] = field(default_factory=set)
    # Open reservations: (student, milestone) -> (claim key index, amount, registrar, course).
    reserved: dict[tuple[bytes, int], tuple[int, int, str, int]] = field(default_factory=dict)
    reserved_total: int = 0
    # Signatures made earlier and held back: (signer, epoch it was signed in, item, signed).
    held: list[tuple[str, int, int, Attestation, tuple]] = field(default_factory=list)


def web3_contract(contract):
    from ape import chain

    abi = [entry.model_dump(mode="json", by_alias=True) for entry in contract.contract_type.abi]
    return chain.provider.web3.eth.contract(contract.address, abi=abi)


# The slow profile (make property-slow) runs for a quarter of an hour per token flavour:
# no time limit there, since a timeout mid-run reads as a failure.
class Reads:
    """Calls fixed once, sent together as one raw JSON-RPC batch and decoded with eth_abi,
    each answer as web3 gives it (one value, or a tuple; addresses checksummed). web3's own
    batch builds and decodes each call through its middlewares: nine tenths of the run."""

    def __init__(self, web3) -> None:
        self.web3 = web3
        self.calls: list[tuple[str, list]] = []
        self.outputs: list[list[dict]] = []

    def add(self, function) -> None:
        call = {"to": function.address, "data": function._encode_transaction_data()}
        self.calls.append(("eth_call", [call, "latest"]))
        self.outputs.append(function.abi["outputs"])

    def execute(self) -> list:
        from eth_abi import decode
        from eth_utils import get_abi_output_types

        answers = self.web3.provider.make_batch_request(self.calls)
        results = []
        for answer, outputs in zip(answers, self.outputs, strict=True):
            types = get_abi_output_types({"type": "function", "outputs": outputs})
            data = bytes.fromhex(answer["result"][2:])
            values = [
                _as_web3_gives(value, output)
                for value, output in zip(decode(types, data), outputs, strict=True)
            ]
            results.append(values[0] if len(values) == 1 else tuple(values))
        return results


def _as_web3_gives(value, output: dict):
    """A decoded value with its addresses checksummed, as web3 answers a call."""
    if output["type"] == "address":
        return checksummed(value)
    if output["type"] == "address[]":
        return [checksummed(item) for item in value]
    if output["type"] == "tuple":
        return tuple(
            _as_web3_gives(item, part)
            for item, part in zip(value, output["components"], strict=True)
        )
    return value


def checksummed(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


@dataclass
class Env:
    """What the state machine runs against: the test's project, chain, token and accounts,
    and the counter of how often each new path ran."""

    project: Any
    chain: Any
    token: Any
    unit: int
    admin: Any
    donor: Any
    stranger: Any
    registrars: list[Any]
    payees: list[str]
    seen: Counter
    # The escrow every example starts from, its block and the model's books of it.
    escrow: Any = None
    ready_block: int = 0
    model: Any = None


def deploy_funded_escrow(env: Env) -> tuple[Any, Model]:
    """The escrow every example starts from: funded with 2,000, three courses (course 3 of
    provider 1), two registrars with 600 each; and the model's books of it."""
    m = Model()
    m.program_end = env.chain.pending_timestamp + 90 * DAY
    m.latest_end = m.program_end + 60 * DAY
    arguments = Terms(
        env.token.address,
        env.donor.address,
        env.admin.address,
        m.program_end,
        admin_delay=DAY,
        latest_program_end=m.latest_end,
    ).arguments()
    escrow = env.project.ScholarshipEscrow.deploy(*arguments, sender=env.admin)
    env.token.mint(env.donor, 10**6 * env.unit, sender=env.donor)
    env.token.approve(escrow, 0, sender=env.donor)
    env.token.approve(escrow, 10**6 * env.unit, sender=env.donor)
    escrow.fund(2_000 * env.unit, sender=env.donor)
    m.funded = 2_000 * env.unit
    for n, course_id in enumerate(COURSES):
        amounts = ((100 + 50 * n) * env.unit, (20 * n) * env.unit, True)
        escrow.setCourse(course_id, *amounts, PROVIDERS[course_id], sender=env.admin)
        m.courses[course_id] = amounts
    for account in env.registrars[:2]:
        escrow.setRegistrar(account, 600 * env.unit, m.program_end, 0, sender=env.admin)
        m.registrars[account.address] = RegistrarModel(600 * env.unit, 0, m.program_end, True, 1, 0)
    return escrow, m


class EscrowMachine(RuleBasedStateMachine):
    """Random calls to one escrow against a ghost model (Model), the five invariants checked
    after every step. The chain and accounts of the run come in `env`, set by the test."""

    env: ClassVar[Env]

    def __init__(self):
        super().__init__()
        self.seen = self.env.seen
        self.snapshot = self.env.chain.snapshot()

    @initialize()
    def start(self):
        """Each example starts from the escrow the test deployed (the chain restored to the
        block after it), with a copy of the model's books as they were then."""
        assert self.env.chain.blocks.head.number == self.env.ready_block
        self.env.chain.mine()  # the restored head is as old as the snapshot: one of now
        self.escrow = self.env.escrow
        self.model = copy.deepcopy(self.env.model)
        self.w3_escrow = web3_contract(self.escrow)
        self.w3_token = web3_contract(self.env.token)
        self.reads = None

    def call(self, function, *args):
        return function(*args).call()

    def transact(self, function, *args, sender):
        """Sends through web3; returns the receipt."""
        tx_hash = function(*args).transact({"from": sender.address, "gas": 3_000_000})
        return self.env.chain.provider.web3.eth.wait_for_transaction_receipt(tx_hash)

    def reverts(self, function, *args, sender):
        with pytest.raises(ContractLogicError):
            function(*args).transact({"from": sender.address})

    def teardown(self):
        self.env.chain.restore(self.snapshot)

    # ------------------------------------------------------------ prediction

    def predict(
        self, items, signer, epoch=None, deadline=None, skip=True
    ) -> tuple[bool, list[int]]:
        """Whether a batch by `signer` (signed in `epoch` until `deadline`, when signed) must
        succeed, and the amount of each item: 0 for an item already paid (or reserved),
        which the batch skips, or with `skip` false (a reservation batch) refuses."""
        m = self.model
        now = self.env.chain.pending_timestamp
        if deadline is not None and deadline > now + MAX_VALIDITY:
            self.seen["far deadline refused"] += 1
            return False, []
        if m.paused or now > m.program_end:
            return False, []
        reg = m.registrars.get(signer)
        if reg is None or not reg.active or now > reg.expiry:
            return False, []
        if epoch is not None and (epoch != reg.epoch or now > deadline):
            self.seen["revoked signature refused"] += 1
            return False, []  # signed in an earlier term of the registrar: revoked
        amounts, seen, spent = [], set(), 0
        for item in items:
            reg_amount, done_amount, active = m.courses.get(item.course_id, (0, 0, False))
            amount = reg_amount if item.milestone == Milestone.REGISTRATION else done_amount
            key = (item.student_id, int(item.milestone))
            if not active or amount == 0:
                return False, []
            if PROVIDERS[item.course_id] != reg.provider:
                self.seen["other provider's course refused"] += 1
                return False, []
            if key in m.paid or key in seen:
                if not skip:
                    return False, []
                self.seen["paid item skipped"] += 1
                amounts.append(0)
                continue
            if reg.released + spent + amount > reg.allowance:
                return False, []
            seen.add(key)
            spent += amount
            amounts.append(amount)
        if spent > self.call(self.w3_token.functions.balanceOf, self.escrow.address):
            return False, []
        return True, amounts

    def apply(self, items, signer, amounts):
        for item, amount in zip(items, amounts, strict=True):
            if amount:
                self.model.paid.add((item.student_id, int(item.milestone)))
                self.model.released += amount
                self.model.registrars[signer].released += amount

    def signed(self, items, signer, epoch, deadline):
        key = next(
            a for a in [*self.env.registrars, self.env.stranger] if a.address == signer
        ).private_key
        return [
            sign(i, epoch, deadline, self.env.chain.chain_id, self.escrow.address, key).as_tuple()
            for i in items
        ]

    def send(self, items, caller, signer, batch=None, epoch=None, deadline=None):
        """Sends `items` directly, or as the signed `batch` made in `epoch`."""
        ok, amounts = self.predict(items, signer, epoch, deadline)
        self.seen["sent" if ok else "reverted"] += 1
        if batch is not None:
            function = self.w3_escrow.functions.attestBatchBySig
        else:
            batch = [i.as_tuple() for i in items]
            function = self.w3_escrow.functions.attestBatch
        if ok:
            receipt = self.transact(function, batch, sender=caller)
            events = self.w3_escrow.events.ScholarshipReleased().process_receipt(
                receipt, errors=DISCARD
            )
            assert [e.args.amount for e in events] == [a for a in amounts if a]
            skipped = self.w3_escrow.events.AttestationSkipped().process_receipt(
                receipt, errors=DISCARD
            )
            assert [e.args.index for e in skipped] == [i for i, a in enumerate(amounts) if not a]
            self.apply(items, signer, amounts)
        else:
            self.reverts(function, batch, sender=caller)

    # ------------------------------------------------------------ rules

    items = st.lists(
        st.builds(
            lambda s, c, m: Attestation(STUDENTS[s], checksummed(PAYEES[s]), c, Milestone(m)),
            st.integers(0, len(STUDENTS) - 1),
            st.sampled_from([*COURSES, *COURSES, 9]),  # 9: never set
            st.integers(0, 1),
        ),
        min_size=1,
        max_size=3,
    )

    # Mostly the two self.env.registrars set at the start; the third and the self.env.stranger get refused.
    callers = st.sampled_from([0, 0, 0, 1, 1, 1, 2, 3])

    @rule(items=items, who=callers)
    def attest_directly(self, items, who):
        caller = [*self.env.registrars, self.env.stranger][who]
        self.send(items, caller, caller.address)

    @rule(items=items, who=callers)
    def attest_by_signature(self, items, who):
        signer = [*self.env.registrars, self.env.stranger][who].address
        epoch = self.model.registrars.get(signer, RegistrarModel()).epoch
        deadline = self.env.chain.pending_timestamp + DAY
        batch = self.signed(items, signer, epoch, deadline)
        self.send(items, self.env.stranger, signer, batch, epoch, deadline)

    @rule(items=items, who=st.integers(0, 2), far=st.booleans())
    def sign_and_hold(self, items, who, far):
        """A registrar signs now; the signatures are submitted later, perhaps after it
        expired and was given a new term, or with a deadline far ahead (as a thief holding
        pre-signed attestations would)."""
        signer = self.env.registrars[who].address
        epoch = self.model.registrars.get(signer, RegistrarModel()).epoch
        deadline = 2**256 - 1 if far else self.env.chain.pending_timestamp + 20 * DAY
        batch = self.signed(items, signer, epoch, deadline)
        for item, signed in zip(items, batch, strict=True):
            self.model.held.append((signer, epoch, deadline, item, signed))

    @rule(items=items, who=st.integers(0, 1))
    def signed_far_ahead(self, items, who):
        """A thief's loot: signatures that never expire are refused at once."""
        signer = self.env.registrars[who].address
        epoch = self.model.registrars[signer].epoch
        batch = self.signed(items, signer, epoch, 2**256 - 1)
        self.send(items, self.env.stranger, signer, batch, epoch, 2**256 - 1)

    @rule(items=items, who=st.integers(0, 1))
    def new_term_voids_old_signatures(self, items, who):
        """The v2 hole: a registrar signs, expires, is given a new term, and what it signed
        in the old one is submitted."""
        account = self.env.registrars[who]
        reg = self.model.registrars[account.address]
        now = self.env.chain.pending_timestamp
        if not reg.active or now + 14 * DAY > self.model.program_end:
            return
        allowance = reg.allowance // self.env.unit
        self.set_registrar(who, allowance, 1, reg.provider)
        deadline = now + 20 * DAY
        batch = self.signed(items, account.address, reg.epoch, deadline)
        epoch = reg.epoch
        self.move_time(3)
        self.set_registrar(who, allowance, 10, reg.provider)
        self.send(items, self.env.stranger, account.address, batch, epoch, deadline)

    @precondition(lambda self: self.model.held)
    @rule(data=st.data())
    def submit_held(self, data):
        held = self.model.held
        signer, epoch, deadline, item, signed = held.pop(data.draw(st.integers(0, len(held) - 1)))
        self.send([item], self.env.stranger, signer, [signed], epoch, deadline)

    @rule(amount=st.integers(1, 500))
    def fund(self, amount):
        self.transact(self.w3_escrow.functions.fund, amount * self.env.unit, sender=self.env.donor)
        self.model.funded += amount * self.env.unit

    @rule(amount=st.integers(1, 500))
    def transfer_directly(self, amount):
        self.transact(
            self.w3_token.functions.transfer,
            self.escrow.address,
            amount * self.env.unit,
            sender=self.env.donor,
        )
        self.model.direct += amount * self.env.unit

    @rule(
        who=st.integers(0, 2),
        allowance=st.integers(0, 1500),
        days=st.integers(-1, 100),
        provider=st.sampled_from([0, 0, 0, 1]),
    )
    def set_registrar(self, who, allowance, days, provider):
        account = self.env.registrars[who]
        now = self.env.chain.pending_timestamp
        expiry = now + days * DAY
        arguments = (account.address, allowance * self.env.unit, expiry, provider)
        reg = self.model.registrars.get(account.address, RegistrarModel())
        if expiry > self.model.program_end or reg.retired:
            # A registrar may not outlive the program; a removed address never comes back.
            if reg.retired:
                self.seen["retired registrar refused"] += 1
            self.reverts(self.w3_escrow.functions.setRegistrar, *arguments, sender=self.env.admin)
            return
        self.transact(self.w3_escrow.functions.setRegistrar, *arguments, sender=self.env.admin)
        reg = self.model.registrars.setdefault(account.address, reg)
        if not reg.active:
            reg.epoch = 1
        elif now > reg.expiry:
            reg.epoch += 1  # a new term: what it signed before is void
            self.seen["new term, new epoch"] += 1
        reg.allowance, reg.expiry, reg.active = allowance * self.env.unit, expiry, True
        reg.provider = provider

    @rule(who=st.integers(0, 2))
    def remove_registrar(self, who):
        """The incident drill: a key is removed; the same address can never come back."""
        account = self.env.registrars[who]
        reg = self.model.registrars.get(account.address)
        if reg is not None and reg.active:
            self.transact(
                self.w3_escrow.functions.removeRegistrar, account.address, sender=self.env.admin
            )
            reg.active, reg.retired = False, True
        else:
            self.reverts(
                self.w3_escrow.functions.removeRegistrar, account.address, sender=self.env.admin
            )

    @rule(allowance=st.integers(0, 2_000), days=st.integers(1, 60))
    def remove_then_add_back(self, allowance, days):
        """The thief's hope after the drill: the removed key added back. Never. (A rule of
        its own, so that every run reaches it; on the third registrar, so that the two who
        attest keep working.)"""
        self.set_registrar(2, allowance, days, 0)
        self.remove_registrar(2)
        self.set_registrar(2, allowance, days, 0)

    # ------------------------------------------------------------ reservations

    reservations = st.lists(
        st.tuples(
            st.integers(0, len(STUDENTS) - 1),
            st.sampled_from([1, 1, 2, 2, 3, 9]),
            st.sampled_from([0, 0, 0, 1]),
            st.integers(0, len(CLAIM_KEYS) - 1),
        ),
        min_size=1,
        max_size=2,
    )

    @rule(entries=reservations, who=st.sampled_from([0, 0, 1, 1, 2, 3]))
    def reserve(self, entries, who):
        caller = [*self.env.registrars, self.env.stranger][who]
        items = [
            Attestation(STUDENTS[s], checksummed(PAYEES[s]), c, Milestone(m))
            for s, c, m, _ in entries
        ]
        batch = [
            Reservation(STUDENTS[s], claim_key_address(CLAIM_KEYS[k]), c, Milestone(m))
            for s, c, m, k in entries
        ]
        ok, amounts = self.predict(items, caller.address, skip=False)
        balance = self.call(self.w3_token.functions.balanceOf, self.escrow.address)
        if ok and self.model.reserved_total + sum(amounts) > balance:
            ok = False
        function = self.w3_escrow.functions.reserveBatch
        if not ok:
            self.reverts(function, [r.as_tuple() for r in batch], sender=caller)
            return
        self.transact(function, [r.as_tuple() for r in batch], sender=caller)
        self.seen["reserved"] += 1
        for (s, c, m, k), amount in zip(entries, amounts, strict=True):
            key = (STUDENTS[s], m)
            self.model.paid.add(key)
            self.model.reserved[key] = (k, amount, caller.address, c)
            self.model.registrars[caller.address].released += amount
            self.model.reserved_total += amount

    @rule(
        student=st.integers(0, len(STUDENTS) - 1),
        then=st.sampled_from(["claim", "cancel", "admin cancels"]),
        payee=st.integers(0, len(PAYEES) - 1),
    )
    def reserve_and_settle(self, student, then, payee):
        """A student's link from reservation to its end: claimed, or cancelled. (A student
        not paid yet where there is one: the eight are soon paid by the other rules.)"""
        unpaid = [n for n, s in enumerate(STUDENTS) if (s, 0) not in self.model.paid]
        student = unpaid[student % len(unpaid)] if unpaid else student
        self.reserve([(student, 1, 0, student % len(CLAIM_KEYS))], 0)
        if (STUDENTS[student], 0) not in self.model.reserved:
            return
        if then == "claim":
            self.claim([(student, 0, payee, None)], False)
        else:
            self.cancel(student, 0, 0 if then == "cancel" else 4)

    def claims(self, picks, deadline):
        """Signed claims for `picks` of (student, milestone, payee, key index or None for
        the reservation's own key)."""
        out = []
        for s, m, p, k in picks:
            key = (STUDENTS[s], m)
            own = self.model.reserved.get(key, (0,))[0]
            signed = sign_claim(
                STUDENTS[s],
                Milestone(m),
                checksummed(PAYEES[p]),
                deadline,
                self.env.chain.chain_id,
                self.escrow.address,
                CLAIM_KEYS[own if k is None else k],
            )
            out.append(signed)
        return out

    picks = st.lists(
        st.tuples(
            st.integers(0, len(STUDENTS) - 1),
            st.integers(0, 1),
            st.integers(0, len(PAYEES) - 1),
            st.sampled_from([None, None, None, 0, 1, 2]),
        ),
        min_size=1,
        max_size=3,
    )

    @precondition(lambda self: self.model.reserved)
    @rule(data=st.data(), payee=st.integers(0, len(PAYEES) - 1), expired=st.booleans())
    def claim_a_reserved_one(self, data, payee, expired):
        """A student claims an open reservation (sometimes with the copy sent twice)."""
        key = data.draw(st.sampled_from(sorted(self.model.reserved)))
        student = STUDENTS.index(key[0])
        picks = [(student, key[1], payee, None)] * data.draw(st.integers(1, 2))
        self.claim(picks, expired)

    @rule(picks=picks, expired=st.booleans())
    def claim(self, picks, expired):
        """Claims sent as a batch by a stranger (a relayer); each must carry its own key's
        signature, and a reservation already closed is skipped."""
        m = self.model
        now = self.env.chain.pending_timestamp
        # Expired: before the latest block, so that eth_estimateGas (run on it) and the
        # transaction (in the next) both see it passed.
        deadline = self.env.chain.blocks.head.timestamp - 1 if expired else now + DAY
        claims = self.claims(picks, deadline)
        ok = not m.paused and now <= m.program_end
        amounts, closed = [], set()
        for s, mi, _, k in picks:
            key = (STUDENTS[s], mi)
            if key not in m.reserved or key in closed:
                self.seen["closed claim skipped"] += 1
                amounts.append(0)
                continue
            own, amount, _, _ = m.reserved[key]
            if expired or (k is not None and k != own):
                self.seen["wrong or late claim refused"] += 1
                ok = False
            closed.add(key)
            amounts.append(amount)
        function = self.w3_escrow.functions.claimBatch
        batch = [c.as_tuple() for c in claims]
        if not ok:
            self.reverts(function, batch, sender=self.env.stranger)
            return
        receipt = self.transact(function, batch, sender=self.env.stranger)
        events = self.w3_escrow.events.ScholarshipReleased().process_receipt(
            receipt, errors=DISCARD
        )
        assert [e.args.amount for e in events] == [a for a in amounts if a]
        for (s, mi, _, _), amount in zip(picks, amounts, strict=True):
            if amount:
                self.seen["claimed"] += 1
                del m.reserved[(STUDENTS[s], mi)]
                m.released += amount
                m.reserved_total -= amount

    @rule(
        student=st.integers(0, len(STUDENTS) - 1),
        milestone=st.integers(0, 1),
        who=st.integers(0, 4),
    )
    def cancel(self, student, milestone, who):
        caller = [*self.env.registrars, self.env.stranger, self.env.admin][who]
        m = self.model
        key = (STUDENTS[student], milestone)
        function = self.w3_escrow.functions.cancelReservations
        entry = m.reserved.get(key)
        allowed = entry is not None and (caller is self.env.admin or caller.address == entry[2])
        if not allowed or self.env.chain.pending_timestamp > m.program_end:
            self.reverts(function, [(key[0], milestone)], sender=caller)
            return
        self.transact(function, [(key[0], milestone)], sender=caller)
        self.seen["cancelled"] += 1
        _, amount, registrar, _ = m.reserved.pop(key)
        m.paid.discard(key)
        m.registrars[registrar].released -= amount
        m.reserved_total -= amount

    @rule(items=items, who=st.integers(0, 1))
    def copied_item_sent_before_the_batch(self, items, who):
        """The review's other attack: a watcher sends one item of a signed batch alone,
        first; the batch must skip it and pay the rest."""
        signer = self.env.registrars[who].address
        epoch = self.model.registrars[signer].epoch
        deadline = self.env.chain.pending_timestamp + DAY
        batch = self.signed(items, signer, epoch, deadline)
        self.send(items[:1], self.env.stranger, signer, batch[:1], epoch, deadline)
        self.send(items, self.env.stranger, signer, batch, epoch, deadline)

    @rule(course=st.sampled_from(COURSES), active=st.booleans())
    def toggle_course(self, course, active):
        reg_amount, done_amount, _ = self.model.courses[course]
        self.transact(
            self.w3_escrow.functions.setCourse,
            course,
            reg_amount,
            done_amount,
            active,
            PROVIDERS[course],
            sender=self.env.admin,
        )
        self.model.courses[course] = (reg_amount, done_amount, active)

    @rule()
    def pause_or_unpause(self):
        function = (
            self.w3_escrow.functions.unpause
            if self.model.paused
            else self.w3_escrow.functions.pause
        )
        self.transact(function, sender=self.env.admin)
        self.model.paused = not self.model.paused

    @rule(days=st.integers(1, 50))
    def extend_program_end(self, days):
        new_end = self.model.program_end + days * DAY
        function = self.w3_escrow.functions.extendProgramEnd
        if (
            self.env.chain.pending_timestamp > self.model.program_end
            or new_end > self.model.latest_end
        ):
            self.reverts(function, new_end, sender=self.env.admin)
        else:
            self.transact(function, new_end, sender=self.env.admin)
            self.model.program_end = new_end

    @rule(days=st.sampled_from([1, 3, 7, 31]))
    def move_time(self, days):
        self.env.chain.pending_timestamp += days * DAY
        self.env.chain.mine()

    @rule(who=st.sampled_from(["donor", "admin", "stranger"]))
    def reclaim(self, who):
        caller = {"donor": self.env.donor, "admin": self.env.admin, "stranger": self.env.stranger}[
            who
        ]
        balance = self.call(self.w3_token.functions.balanceOf, self.escrow.address)
        if (
            who != "stranger"
            and self.env.chain.pending_timestamp > self.model.program_end
            and balance
        ):
            self.transact(self.w3_escrow.functions.reclaim, sender=caller)
            self.model.reclaimed += balance
            self.model.reserved_total = 0  # unclaimed reservations go back with it
        else:
            self.reverts(self.w3_escrow.functions.reclaim, sender=caller)

    # ------------------------------------------------------------ invariants
    # Read through web3 directly: a tenth of the cost of ape's calls, and these run
    # after every step.

    @precondition(lambda self: hasattr(self, "escrow"))
    @invariant()
    def invariants_hold(self):
        m = self.model
        escrow, erc20 = self.w3_escrow.functions, self.w3_token.functions
        pairs = [(student, milestone) for student in STUDENTS for milestone in (0, 1)]
        # The same reads after every step: encoded once, sent as one JSON-RPC batch.
        if self.reads is None:
            self.reads = Reads(self.env.chain.provider.web3)
            self.reads.add(erc20.balanceOf(self.escrow.address))
            self.reads.add(escrow.totalFunded())
            self.reads.add(escrow.activeRegistrars())
            for student, milestone in pairs:
                self.reads.add(escrow.isPaid(student, milestone))
            for account in self.env.registrars:
                self.reads.add(escrow.registrar(account.address))
            for payee in self.env.payees:
                self.reads.add(erc20.balanceOf(payee))
            self.reads.add(escrow.reservedTotal())
            for student, milestone in pairs:
                self.reads.add(escrow.reservation(student, milestone))
        results = self.reads.execute()
        reservations = results[-len(pairs) :]
        reserved_total = results[-len(pairs) - 1]
        results = results[: -len(pairs) - 1]
        balance, funded, active = results[:3]
        paid = results[3 : 3 + len(pairs)]
        standing = results[3 + len(pairs) : 3 + len(pairs) + len(self.env.registrars)]
        held = results[3 + len(pairs) + len(self.env.registrars) :]
        # 1. funded + direct transfers = released + reclaimed + balance
        assert m.funded + m.direct == m.released + m.reclaimed + balance
        assert funded == m.funded
        # 2. no (studentId, milestone) paid twice: the self.env.chain's record is the model's
        assert [pair in m.paid for pair in pairs] == list(paid)
        # 3. self.env.registrars released exactly what the model allowed them, within allowance rules
        for account, (_, released, _, epoch, _, provider, retired) in zip(
            self.env.registrars, standing, strict=True
        ):
            reg = m.registrars.get(account.address, RegistrarModel())
            assert (released, epoch, provider, retired) == (
                reg.released,
                reg.epoch,
                reg.provider,
                reg.retired,
            )
        assert sorted(active) == sorted(a for a, reg in m.registrars.items() if reg.active)
        # 4 and 5: the self.env.payees hold exactly what the model released, no more
        assert sum(held) == m.released
        # 6. what is reserved is what the model reserved, for the claim key it names
        assert reserved_total == m.reserved_total
        for (student, milestone), (claim_key, amount, registrar, course) in zip(
            pairs, reservations, strict=True
        ):
            entry = m.reserved.get((student, milestone))
            if entry is None:
                assert int(claim_key, 16) == 0
            else:
                assert (claim_key, amount, registrar, course) == (
                    claim_key_address(CLAIM_KEYS[entry[0]]),
                    entry[1],
                    entry[2],
                    entry[3],
                )


@contextlib.contextmanager
def clock_of_the_chain(web3):
    """Each new block one second after the last, whatever the wall clock says, for the
    duration: what the model reads as the next block's time is the time the transaction
    runs at, and a replayed example runs at the same times (with the wall clock, a
    registrar's expiry met to the second flipped an epoch, one run in a few)."""
    web3.provider.make_request("anvil_setBlockTimestampInterval", [1])
    try:
        yield
    finally:
        web3.provider.make_request("anvil_removeBlockTimestampInterval", [])


@pytest.mark.timeout(0 if os.environ.get("HYPOTHESIS_PROFILE") == "slow" else 900)
def test_escrow_invariants_hold_under_random_calls(project, chain, accounts, token, unit):
    from eth_utils import to_checksum_address

    admin, donor, stranger = accounts[0], accounts[1], accounts[4]
    registrars = [accounts[2], accounts[3], accounts[6]]
    payees = [to_checksum_address(p) for p in PAYEES]

    # How often the new paths ran, over all examples: the run must reach each of them.
    seen = Counter()
    env = Env(project, chain, token, unit, admin, donor, stranger, registrars, payees, seen)
    # Deployed once: each example restores the chain to this block (a deployment per
    # example was 11 of ape's transactions, a third of the run).
    env.escrow, env.model = deploy_funded_escrow(env)
    env.ready_block = chain.blocks.head.number
    EscrowMachine.env = env

    from hypothesis.stateful import run_state_machine_as_test

    with clock_of_the_chain(chain.provider.web3):
        run_state_machine_as_test(EscrowMachine)
    for path in (
        "paid item skipped",
        "reserved",
        "claimed",
        "cancelled",
        "retired registrar refused",
        "far deadline refused",
        "other provider's course refused",
    ):
        assert seen[path] > 0, (path, seen)
    assert seen["revoked signature refused"] > 0, seen
