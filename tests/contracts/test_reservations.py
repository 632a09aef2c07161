"""Reserve now, claim later: a student without a wallet is paid through a claim key, and
a registrar is bound to its provider's courses."""

from __future__ import annotations

import ape
import pytest
from eth_account import Account
from shared import DAY

from itgen_chain.attestations import Milestone
from itgen_chain.reservations import Reservation, claim_digest, sign_claim

KEY = bytes([0x42] * 32)
OTHER_KEY = bytes([0x43] * 32)


@pytest.fixture
def reserve(escrow, registrar, new_student):
    """Reserves a new student's registration for KEY; returns its student id."""

    def make(key: bytes = KEY, course: int = 1, sender=registrar) -> bytes:
        student = new_student(course_id=course).student_id
        item = Reservation(student, Account.from_key(key).address, course, Milestone.REGISTRATION)
        escrow.reserveBatch([item.as_tuple()], sender=sender)
        return student

    return make


def claim_for(escrow, chain, student, payee, key=KEY, deadline=None):
    return sign_claim(
        student,
        Milestone.REGISTRATION,
        payee,
        deadline or chain.pending_timestamp + DAY,
        chain.chain_id,
        escrow.address,
        key,
    )


def test_a_reservation_charges_the_allowance_and_a_claim_pays_the_payee_it_names(
    escrow, token, chain, registrar, stranger, unit, reserve
):
    student = reserve()
    assert escrow.registrar(registrar).released == 450 * unit
    assert escrow.reservedTotal() == 450 * unit
    assert escrow.isPaid(student, Milestone.REGISTRATION)
    payee = "0x" + "77" * 20
    claim = claim_for(escrow, chain, student, payee)
    digest = claim_digest(student, 0, payee, claim.deadline, chain.chain_id, escrow.address)
    assert escrow.claimDigest(student, 0, payee, claim.deadline) == digest
    tx = escrow.claim(claim.as_tuple(), sender=stranger)
    [released] = tx.events.filter(escrow.ScholarshipReleased)
    assert (released.payee, released.registrar, released.amount) == (
        claim.payee,
        registrar.address,
        450 * unit,
    )
    assert len(tx.events.filter(escrow.ScholarshipClaimed)) == 1
    assert token.balanceOf(claim.payee) == 450 * unit
    assert escrow.reservedTotal() == 0
    with ape.reverts(escrow.EscrowNotReserved):  # once only
        escrow.claim(claim.as_tuple(), sender=stranger)


def test_a_reserved_student_cannot_be_paid_any_other_way(
    escrow, registrar, stranger, chain, reserve, new_student
):
    student = reserve()
    direct = new_student()
    item = (student, direct.payee, 1, 0)
    with ape.reverts(escrow.EscrowAlreadyPaid):
        escrow.attest(item, sender=registrar)
    tx = escrow.attestBatch([item], sender=registrar)  # a batch skips it
    assert len(tx.events.filter(escrow.AttestationSkipped)) == 1
    with ape.reverts(escrow.EscrowAlreadyPaid):
        escrow.reserveBatch(
            [(student, Account.from_key(OTHER_KEY).address, 1, 0)], sender=registrar
        )


def test_a_claim_signed_by_another_key_or_redirected_is_refused(escrow, chain, stranger, reserve):
    student = reserve()
    wrong = claim_for(escrow, chain, student, stranger.address, key=OTHER_KEY)
    with ape.reverts(escrow.EscrowInvalidClaimSignature, index=0):
        escrow.claim(wrong.as_tuple(), sender=stranger)
    # A mempool watcher swaps the payee of the student's claim: the signature no longer fits.
    honest = claim_for(escrow, chain, student, "0x" + "77" * 20)
    redirected = (*honest.as_tuple()[:2], stranger.address, *honest.as_tuple()[3:])
    with ape.reverts(escrow.EscrowInvalidClaimSignature, index=0):
        escrow.claim(redirected, sender=stranger)


def test_claims_close_while_paused_after_expiry_and_after_the_end(
    escrow, admin, chain, stranger, reserve, program_end
):
    student = reserve()
    late = claim_for(escrow, chain, student, stranger.address, deadline=chain.pending_timestamp - 1)
    with ape.reverts(escrow.EscrowSignatureExpired, index=0):
        escrow.claim(late.as_tuple(), sender=stranger)
    escrow.pause(sender=admin)
    claim = claim_for(escrow, chain, student, stranger.address)
    with ape.reverts(escrow.EscrowPaused):
        escrow.claim(claim.as_tuple(), sender=stranger)
    escrow.unpause(sender=admin)
    chain.pending_timestamp = program_end + 1
    claim = claim_for(escrow, chain, student, stranger.address)
    with ape.reverts(escrow.EscrowProgramEnded):
        escrow.claim(claim.as_tuple(), sender=stranger)


def test_unclaimed_reservations_go_back_to_the_donor_shown_as_such(
    escrow, token, chain, donor, unit, reserve, program_end
):
    reserve()
    reserve()
    balance = token.balanceOf(escrow)
    chain.pending_timestamp = program_end + 1
    tx = escrow.reclaim(sender=donor)
    [returned] = tx.events.filter(escrow.UnclaimedReturned)
    assert returned.amount == 900 * unit
    assert tx.events.filter(escrow.Reclaimed)[0].amount == balance
    assert escrow.reservedTotal() == 0


def test_a_claim_batch_skips_a_claim_sent_first_and_pays_the_rest(
    escrow, token, chain, stranger, reserve
):
    students = [reserve(), reserve()]
    claims = [
        claim_for(escrow, chain, s, "0x" + f"{n + 1:02x}" * 20) for n, s in enumerate(students)
    ]
    escrow.claim(claims[0].as_tuple(), sender=stranger)  # the copy, sent first
    tx = escrow.claimBatch([c.as_tuple() for c in claims], sender=stranger)
    assert [e.index for e in tx.events.filter(escrow.ClaimSkipped)] == [0]
    assert len(tx.events.filter(escrow.ScholarshipReleased)) == 1


def test_a_reservation_is_cancelled_by_its_registrar_or_the_admin_only(
    escrow, admin, registrar, other_registrar, stranger, unit, program_end, reserve, chain
):
    escrow.setRegistrar(other_registrar, 10_000 * unit, program_end, 0, sender=admin)
    student = reserve()
    key = [(student, 0)]
    for outsider in (other_registrar, stranger):
        with ape.reverts(escrow.EscrowNotReservationOwner, account=outsider.address):
            escrow.cancelReservations(key, sender=outsider)
    tx = escrow.cancelReservations(key, sender=registrar)
    assert len(tx.events.filter(escrow.ReservationCancelled)) == 1
    assert escrow.registrar(registrar).released == 0  # the allowance is back
    assert not escrow.isPaid(student, 0)
    with ape.reverts(escrow.EscrowNotReserved):
        escrow.claim(
            claim_for(escrow, chain, student, stranger.address).as_tuple(), sender=stranger
        )
    with ape.reverts(escrow.EscrowNotReserved):
        escrow.cancelReservations(key, sender=admin)
    # Reissued: reserved anew for another key, cancelled by the admin.
    escrow.reserveBatch([(student, Account.from_key(OTHER_KEY).address, 1, 0)], sender=registrar)
    escrow.cancelReservations(key, sender=admin)


def test_reservations_must_be_funded_and_name_a_claim_key(
    escrow, admin, registrar, unit, token, new_student
):
    with ape.reverts(escrow.EscrowInvalidClaimKey, index=0):
        escrow.reserveBatch([(new_student().student_id, "0x" + "00" * 20, 1, 0)], sender=registrar)
    # The escrow holds 100,000 tokens; the registrar's allowance is 10,000: raise it, then
    # reserve more than the escrow holds in one batch of 223 (450 each).
    chain_items = [
        (new_student().student_id, Account.from_key(KEY).address, 1, 0) for _ in range(223)
    ]
    assert 223 * 450 * unit > token.balanceOf(escrow)
    escrow.setRegistrar(registrar, 200_000 * unit, escrow.programEnd(), 0, sender=admin)
    with ape.reverts(escrow.EscrowReservationsUnfunded):
        escrow.reserveBatch(chain_items, sender=registrar)


def test_a_registrar_touches_only_its_own_providers_courses(
    escrow, admin, registrar, unit, new_student, program_end
):
    """A rogue or stolen key can pay only its own provider's students."""
    escrow.setCourse(7, 450 * unit, 0, True, 5, sender=admin)
    item = new_student(course_id=7)
    with ape.reverts(escrow.EscrowCourseNotOfRegistrar, index=0, courseId=7):
        escrow.attest(item.as_tuple(), sender=registrar)
    with ape.reverts(escrow.EscrowCourseNotOfRegistrar, index=0, courseId=7):
        escrow.reserveBatch(
            [(item.student_id, Account.from_key(KEY).address, 7, 0)], sender=registrar
        )
    escrow.setRegistrar(registrar, 10_000 * unit, program_end, 5, sender=admin)
    escrow.attest(item.as_tuple(), sender=registrar)
    with ape.reverts(escrow.EscrowCourseNotOfRegistrar):
        escrow.attest(new_student(course_id=1).as_tuple(), sender=registrar)


def test_a_reservation_cannot_be_cancelled_after_the_end(
    escrow, chain, registrar, reserve, program_end
):
    student = reserve()
    chain.pending_timestamp = program_end + 1
    with ape.reverts(escrow.EscrowProgramEnded):
        escrow.cancelReservations([(student, 0)], sender=registrar)
