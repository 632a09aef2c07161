"""ScholarshipEscrow, one behaviour per test, against every token flavour."""

from __future__ import annotations

import ape
import pytest
from shared import DAY

from itgen_chain.attestations import Milestone

ZERO = "0x0000000000000000000000000000000000000000"


def released_events(escrow, tx):
    return list(tx.events.filter(escrow.ScholarshipReleased))


# ------------------------------------------------------------------ deployment


def test_deploy_records_token_donor_end_and_roles(
    project, escrow, token, donor, admin, program_end
):
    assert escrow.token() == token.address
    assert escrow.donor() == donor.address
    assert escrow.programEnd() == program_end
    assert escrow.hasRole(escrow.DEFAULT_ADMIN_ROLE(), admin)
    assert escrow.defaultAdmin() == admin.address
    assert escrow.defaultAdminDelay() == DAY
    assert escrow.hasRole(escrow.PAUSER_ROLE(), admin)
    assert escrow.latestProgramEnd() == program_end + 365 * DAY
    assert escrow.version() == "3.1.0"


def test_deploy_gives_a_separate_pauser_the_pause_and_nothing_else(
    deploy_escrow, token, donor, admin, pauser, registrar, program_end
):
    escrow = deploy_escrow(token, donor, admin, program_end, pauser=pauser)
    assert escrow.hasRole(escrow.PAUSER_ROLE(), pauser)
    assert not escrow.hasRole(escrow.PAUSER_ROLE(), admin)
    assert not escrow.hasRole(escrow.DEFAULT_ADMIN_ROLE(), pauser)
    escrow.pause(sender=pauser)
    with ape.reverts(escrow.AccessControlUnauthorizedAccount, account=pauser.address):
        escrow.unpause(sender=pauser)
    with ape.reverts(escrow.AccessControlUnauthorizedAccount, account=pauser.address):
        escrow.setRegistrar(registrar, 1, program_end, 0, sender=pauser)


@pytest.mark.parametrize("which", ["token", "donor", "admin", "pauser"])
def test_deploy_reverts_on_zero_address(project, token, donor, admin, program_end, which):
    args = {
        "token": token.address,
        "donor": donor.address,
        "admin": admin.address,
        "pauser": admin.address,
    }
    args[which] = ZERO
    error = (
        project.ScholarshipEscrow.AccessControlInvalidDefaultAdmin
        if which == "admin"
        else project.ScholarshipEscrow.EscrowZeroAddress
    )
    with ape.reverts(error):
        project.ScholarshipEscrow.deploy(
            args["token"],
            args["donor"],
            args["admin"],
            args["pauser"],
            DAY,
            program_end,
            program_end,
            sender=admin,
        )


def test_deploy_reverts_when_program_end_is_past(
    project, deploy_escrow, token, donor, admin, chain
):
    with ape.reverts(project.ScholarshipEscrow.EscrowProgramEndNotLater):
        deploy_escrow(token, donor, admin, chain.pending_timestamp - 1)


def test_deploy_reverts_when_latest_end_is_before_the_end(
    project, deploy_escrow, token, donor, admin, program_end
):
    with ape.reverts(
        project.ScholarshipEscrow.EscrowProgramEndPastLatest,
        requested=program_end,
        latest=program_end - 1,
    ):
        deploy_escrow(token, donor, admin, program_end, latest_end=program_end - 1)


def test_deploy_reverts_when_latest_end_does_not_fit_32_bits(
    project, deploy_escrow, token, donor, admin, program_end
):
    with ape.reverts(project.ScholarshipEscrow.EscrowProgramEndPastLatest):
        deploy_escrow(token, donor, admin, program_end, latest_end=2**32)


# ------------------------------------------------------------------ attest


def test_attest_pays_registration_amount_and_emits_release(
    escrow, token, unit, registrar, new_student
):
    item = new_student()
    tx = escrow.attest(item.as_tuple(), sender=registrar)
    assert released_events(escrow, tx) == [
        escrow.ScholarshipReleased(
            studentId=item.student_id,
            payee=item.payee,
            registrar=registrar.address,
            courseId=1,
            milestone=0,
            amount=450 * unit,
        )
    ]
    assert token.balanceOf(item.payee) == 450 * unit
    assert escrow.isPaid(item.student_id, 0)
    assert not escrow.isPaid(item.student_id, 1)
    assert escrow.registrar(registrar).released == 450 * unit


def test_attest_pays_completion_amount(escrow, token, unit, registrar, new_student):
    item = new_student(milestone=Milestone.COMPLETION)
    escrow.attest(item.as_tuple(), sender=registrar)
    assert token.balanceOf(item.payee) == 50 * unit


def test_registration_and_completion_of_one_student_both_pay(
    escrow, token, unit, registrar, new_student
):
    item = new_student()
    done = type(item)(item.student_id, item.payee, 1, Milestone.COMPLETION)
    escrow.attest(item.as_tuple(), sender=registrar)
    escrow.attest(done.as_tuple(), sender=registrar)
    assert token.balanceOf(item.payee) == 500 * unit


def test_attest_reverts_when_caller_is_not_registrar(escrow, stranger, new_student):
    with ape.reverts(escrow.EscrowNotRegistrar, account=stranger.address):
        escrow.attest(new_student().as_tuple(), sender=stranger)


def test_attest_reverts_when_registrar_expired(escrow, admin, registrar, chain, new_student):
    expiry = chain.pending_timestamp + DAY
    escrow.setRegistrar(registrar, 10**30 // 10**6, expiry, 0, sender=admin)
    chain.pending_timestamp = expiry + 1
    with ape.reverts(escrow.EscrowRegistrarExpired, registrar=registrar.address, expiry=expiry):
        escrow.attest(new_student().as_tuple(), sender=registrar)


def test_attest_reverts_when_registrar_removed(escrow, admin, registrar, new_student):
    escrow.removeRegistrar(registrar, sender=admin)
    with ape.reverts(escrow.EscrowNotRegistrar, account=registrar.address):
        escrow.attest(new_student().as_tuple(), sender=registrar)


def test_attest_reverts_beyond_registrar_allowance(
    escrow, admin, registrar, unit, program_end, new_student
):
    escrow.setRegistrar(registrar, 800 * unit, program_end, 0, sender=admin)
    escrow.attest(new_student().as_tuple(), sender=registrar)
    with ape.reverts(
        escrow.EscrowRegistrarAllowanceExceeded,
        index=0,
        registrar=registrar.address,
        requested=450 * unit,
        remaining=350 * unit,
    ):
        escrow.attest(new_student().as_tuple(), sender=registrar)


def test_lowering_allowance_below_released_stops_registrar(
    escrow, admin, registrar, unit, program_end, new_student
):
    escrow.attest(new_student().as_tuple(), sender=registrar)
    escrow.setRegistrar(registrar, 100 * unit, program_end, 0, sender=admin)
    with ape.reverts(escrow.EscrowRegistrarAllowanceExceeded, remaining=0):
        escrow.attest(new_student().as_tuple(), sender=registrar)


def test_attest_reverts_for_inactive_course(escrow, admin, unit, registrar, new_student):
    escrow.setCourse(1, 450 * unit, 50 * unit, False, 0, sender=admin)
    with ape.reverts(escrow.EscrowCourseInactive, index=0, courseId=1):
        escrow.attest(new_student().as_tuple(), sender=registrar)


def test_attest_reverts_for_unknown_course(escrow, registrar, new_student):
    with ape.reverts(escrow.EscrowCourseInactive, index=0, courseId=99):
        escrow.attest(new_student(course_id=99).as_tuple(), sender=registrar)


def test_attest_reverts_when_course_pays_nothing_for_milestone(escrow, registrar, new_student):
    with ape.reverts(escrow.EscrowNothingToRelease, index=0, courseId=2, milestone=1):
        escrow.attest(
            new_student(course_id=2, milestone=Milestone.COMPLETION).as_tuple(), sender=registrar
        )


def test_attest_reverts_when_student_already_paid_by_another_registrar_and_course(
    escrow, admin, registrar, other_registrar, unit, program_end, new_student
):
    escrow.setRegistrar(other_registrar, 10_000 * unit, program_end, 0, sender=admin)
    item = new_student()
    escrow.attest(item.as_tuple(), sender=registrar)
    again = type(item)(item.student_id, item.payee, 2, Milestone.REGISTRATION)
    with ape.reverts(escrow.EscrowAlreadyPaid, index=0, studentId=item.student_id, milestone=0):
        escrow.attest(again.as_tuple(), sender=other_registrar)


@pytest.mark.parametrize("payee", ["zero", "escrow", "token"])
def test_attest_reverts_for_invalid_payee(escrow, token, registrar, new_student, payee):
    address = {"zero": ZERO, "escrow": escrow.address, "token": token.address}[payee]
    item = new_student()
    with ape.reverts(escrow.EscrowInvalidPayee, index=0, payee=address):
        escrow.attest((item.student_id, address, 1, 0), sender=registrar)


def test_attest_reverts_for_zero_student_id(escrow, registrar, new_student):
    item = new_student()
    with ape.reverts(escrow.EscrowInvalidStudent, index=0):
        escrow.attest((b"\0" * 32, item.payee, 1, 0), sender=registrar)


def test_attest_reverts_while_paused(escrow, admin, registrar, new_student):
    escrow.pause(sender=admin)
    with ape.reverts(escrow.EscrowPaused):
        escrow.attest(new_student().as_tuple(), sender=registrar)


def test_attest_reverts_after_program_end(escrow, registrar, chain, program_end, new_student):
    chain.pending_timestamp = program_end + 1
    with ape.reverts(escrow.EscrowProgramEnded, programEnd=program_end):
        escrow.attest(new_student().as_tuple(), sender=registrar)


def test_attest_reverts_when_escrow_lacks_funds(
    deploy_escrow, token, unit, admin, donor, registrar, program_end, new_student
):
    empty = deploy_escrow(token, donor, admin, program_end)
    empty.setCourse(1, 450 * unit, 50 * unit, True, 0, sender=admin)
    empty.setRegistrar(registrar, 10_000 * unit, program_end, 0, sender=admin)
    token.transfer(empty, 100 * unit, sender=donor)
    item = new_student()
    with ape.reverts(empty.EscrowInsufficientFunds, requested=450 * unit, balance=100 * unit):
        empty.attestBatch([item.as_tuple()], sender=registrar)
    with ape.reverts():  # a single payout: refused by the token, whatever its flavour
        empty.attest(item.as_tuple(), sender=registrar)
    assert not empty.isPaid(item.student_id, 0)
    assert token.balanceOf(empty) == 100 * unit


def test_transfer_refused_by_token_is_never_counted_as_paid(
    project, escrow, token, registrar, new_student
):
    if token.contract_type.name != "FalseReturnToken":
        pytest.skip("only the false-returning token refuses a payee")
    item = new_student()
    token.blockAccount(item.payee, sender=registrar)
    with ape.reverts(project.ScholarshipEscrow.SafeERC20FailedOperation, token=token.address):
        escrow.attest(item.as_tuple(), sender=registrar)
    assert not escrow.isPaid(item.student_id, 0)
    assert escrow.registrar(registrar).released == 0


# ------------------------------------------------------------------ attestBatch


def test_attest_batch_pays_everyone_in_order(escrow, token, unit, registrar, new_student):
    items = [new_student() for _ in range(5)]
    tx = escrow.attestBatch([i.as_tuple() for i in items], sender=registrar)
    assert [e.studentId for e in released_events(escrow, tx)] == [i.student_id for i in items]
    assert all(token.balanceOf(i.payee) == 450 * unit for i in items)
    assert escrow.registrar(registrar).released == 5 * 450 * unit


def test_attest_batch_is_all_or_nothing_and_names_failing_index(
    escrow, token, registrar, new_student
):
    items = [new_student(), new_student(), new_student(course_id=99), new_student()]
    with ape.reverts(escrow.EscrowCourseInactive, index=2, courseId=99):
        escrow.attestBatch([i.as_tuple() for i in items], sender=registrar)
    assert token.balanceOf(items[0].payee) == 0
    assert not escrow.isPaid(items[0].student_id, 0)


def test_attest_batch_pays_a_student_repeated_within_batch_once(
    escrow, token, unit, registrar, new_student
):
    item = new_student()
    tx = escrow.attestBatch([item.as_tuple(), item.as_tuple()], sender=registrar)
    assert len(released_events(escrow, tx)) == 1
    assert list(tx.events.filter(escrow.AttestationSkipped)) == [
        escrow.AttestationSkipped(
            index=1, studentId=item.student_id, registrar=registrar.address, milestone=0
        )
    ]
    assert token.balanceOf(item.payee) == 450 * unit


def test_attest_batch_skips_a_student_another_registrar_paid_first(
    escrow, token, unit, admin, registrar, other_registrar, program_end, new_student
):
    """Two registrars with one student in common: the overlap no longer sinks the batch."""
    escrow.setRegistrar(other_registrar, 10_000 * unit, program_end, 0, sender=admin)
    items = [new_student() for _ in range(4)]
    escrow.attest(items[2].as_tuple(), sender=other_registrar)
    tx = escrow.attestBatch([i.as_tuple() for i in items], sender=registrar)
    assert [e.studentId for e in released_events(escrow, tx)] == [
        items[0].student_id,
        items[1].student_id,
        items[3].student_id,
    ]
    assert list(tx.events.filter(escrow.AttestationSkipped)) == [
        escrow.AttestationSkipped(
            index=2, studentId=items[2].student_id, registrar=registrar.address, milestone=0
        )
    ]
    assert token.balanceOf(items[2].payee) == 450 * unit  # paid once, by the other registrar
    assert escrow.registrar(registrar).released == 3 * 450 * unit  # the skip cost no allowance


def test_attest_batch_of_only_paid_students_pays_nothing_and_succeeds(
    escrow, token, registrar, new_student
):
    items = [new_student() for _ in range(2)]
    escrow.attestBatch([i.as_tuple() for i in items], sender=registrar)
    released = escrow.registrar(registrar).released
    balance = token.balanceOf(escrow)
    tx = escrow.attestBatch([i.as_tuple() for i in items], sender=registrar)
    assert released_events(escrow, tx) == []
    assert len(list(tx.events.filter(escrow.AttestationSkipped))) == 2
    assert (escrow.registrar(registrar).released, token.balanceOf(escrow)) == (released, balance)


def test_attest_batch_still_reverts_on_a_paid_item_of_an_inactive_course(
    escrow, admin, unit, registrar, new_student
):
    """Only 'already paid' is skipped: any other bad item still names its index."""
    item = new_student()
    escrow.attest(item.as_tuple(), sender=registrar)
    escrow.setCourse(1, 450 * unit, 50 * unit, False, 0, sender=admin)
    with ape.reverts(escrow.EscrowCourseInactive, index=1, courseId=1):
        escrow.attestBatch([new_student(course_id=2).as_tuple(), item.as_tuple()], sender=registrar)


def test_attest_batch_reverts_at_index_crossing_allowance(
    escrow, admin, registrar, unit, program_end, new_student
):
    escrow.setRegistrar(registrar, 1000 * unit, program_end, 0, sender=admin)
    items = [new_student() for _ in range(3)]
    with ape.reverts(escrow.EscrowRegistrarAllowanceExceeded, index=2, remaining=100 * unit):
        escrow.attestBatch([i.as_tuple() for i in items], sender=registrar)


def test_attest_batch_reverts_when_empty(escrow, registrar):
    with ape.reverts(escrow.EscrowEmptyBatch):
        escrow.attestBatch([], sender=registrar)


# ------------------------------------------------------------------ funding


def test_fund_pulls_tokens_and_emits_running_total(escrow, token, unit, donor):
    before = escrow.totalFunded()
    token.approve(escrow, 0, sender=donor)
    token.approve(escrow, 5 * unit, sender=donor)
    tx = escrow.fund(5 * unit, sender=donor)
    assert list(tx.events.filter(escrow.Funded)) == [
        escrow.Funded(funder=donor.address, amount=5 * unit, totalFunded=before + 5 * unit)
    ]
    assert escrow.budget() == token.balanceOf(escrow)


def test_fund_reverts_for_zero(escrow, donor):
    with ape.reverts(escrow.EscrowZeroAmount):
        escrow.fund(0, sender=donor)


def test_fund_without_approval_moves_nothing(project, escrow, token, unit, stranger):
    token.mint(stranger, 10 * unit, sender=stranger)
    before = escrow.totalFunded()
    with ape.reverts():
        escrow.fund(10 * unit, sender=stranger)
    assert escrow.totalFunded() == before
    assert token.balanceOf(stranger) == 10 * unit


def test_plain_transfer_counts_as_budget(escrow, token, unit, donor):
    before = escrow.budget()
    token.transfer(escrow, 7 * unit, sender=donor)
    assert escrow.budget() == before + 7 * unit


# ------------------------------------------------------------------ end of program


def test_reclaim_reverts_before_program_end(escrow, donor, program_end):
    with ape.reverts(escrow.EscrowProgramNotEnded, programEnd=program_end):
        escrow.reclaim(sender=donor)


def test_reclaim_reverts_for_stranger(escrow, stranger, chain, program_end):
    chain.pending_timestamp = program_end + 1
    with ape.reverts(escrow.EscrowNotAdminOrDonor, account=stranger.address):
        escrow.reclaim(sender=stranger)


@pytest.mark.parametrize("caller", ["admin", "donor"])
def test_reclaim_after_end_returns_balance_to_donor_even_while_paused(
    escrow, token, admin, donor, chain, program_end, caller
):
    escrow.pause(sender=admin)
    chain.pending_timestamp = program_end + 1
    balance = token.balanceOf(escrow)
    donor_before = token.balanceOf(donor)
    sender = admin if caller == "admin" else donor
    tx = escrow.reclaim(sender=sender)
    assert list(tx.events.filter(escrow.Reclaimed)) == [
        escrow.Reclaimed(donor=donor.address, caller=sender.address, amount=balance)
    ]
    assert token.balanceOf(escrow) == 0
    assert token.balanceOf(donor) == donor_before + balance


def test_reclaim_reverts_when_nothing_left(escrow, donor, chain, program_end):
    chain.pending_timestamp = program_end + 1
    escrow.reclaim(sender=donor)
    with ape.reverts(escrow.EscrowZeroAmount):
        escrow.reclaim(sender=donor)


def test_program_end_moves_later(escrow, admin, program_end):
    tx = escrow.extendProgramEnd(program_end + DAY, sender=admin)
    assert list(tx.events.filter(escrow.ProgramEndExtended)) == [
        escrow.ProgramEndExtended(previousEnd=program_end, newEnd=program_end + DAY)
    ]
    assert escrow.programEnd() == program_end + DAY


def test_program_end_never_moves_earlier(escrow, admin, program_end):
    with ape.reverts(
        escrow.EscrowProgramEndNotLater, current=program_end, requested=program_end - 1
    ):
        escrow.extendProgramEnd(program_end - 1, sender=admin)


def test_program_end_cannot_move_after_it_passed(escrow, admin, chain, program_end):
    chain.pending_timestamp = program_end + 1
    with ape.reverts(escrow.EscrowProgramEnded):
        escrow.extendProgramEnd(program_end + 30 * DAY, sender=admin)


def test_program_end_moves_only_by_admin(escrow, stranger, program_end):
    with ape.reverts(escrow.AccessControlUnauthorizedAccount, account=stranger.address):
        escrow.extendProgramEnd(program_end + DAY, sender=stranger)


def test_program_end_cannot_pass_the_latest_end_fixed_at_deployment(escrow, admin, program_end):
    latest = escrow.latestProgramEnd()
    escrow.extendProgramEnd(latest, sender=admin)
    with ape.reverts(escrow.EscrowProgramEndPastLatest, requested=latest + 1, latest=latest):
        escrow.extendProgramEnd(latest + 1, sender=admin)


def test_stolen_admin_key_cannot_freeze_the_donors_reclaim(
    escrow, token, admin, donor, chain, program_end
):
    """The attack: extendProgramEnd(2**64 - 1) postponed the reclaim forever. Now the end
    stops at the latest end agreed at deployment, and the donor reclaims after it."""
    with ape.reverts(escrow.EscrowProgramEndPastLatest):
        escrow.extendProgramEnd(2**64 - 1, sender=admin)
    latest = escrow.latestProgramEnd()
    escrow.extendProgramEnd(latest, sender=admin)
    chain.pending_timestamp = latest + 1
    balance = token.balanceOf(escrow)
    escrow.reclaim(sender=donor)
    assert token.balanceOf(escrow) == 0
    assert balance > 0


def test_later_program_end_leaves_registrar_expiry_until_set_again(
    escrow, admin, registrar, unit, chain, program_end, new_student
):
    escrow.extendProgramEnd(program_end + 30 * DAY, sender=admin)
    chain.pending_timestamp = program_end + 1
    with ape.reverts(escrow.EscrowRegistrarExpired, registrar=registrar.address):
        escrow.attest(new_student().as_tuple(), sender=registrar)
    escrow.setRegistrar(registrar, 10_000 * unit, program_end + 30 * DAY, 0, sender=admin)
    escrow.attest(new_student().as_tuple(), sender=registrar)


def test_attest_after_program_end_reports_the_end_before_the_registrar(
    escrow, admin, registrar, chain, program_end, new_student
):
    escrow.removeRegistrar(registrar, sender=admin)
    chain.pending_timestamp = program_end + 1
    with ape.reverts(escrow.EscrowProgramEnded, programEnd=program_end):
        escrow.attest(new_student().as_tuple(), sender=registrar)


# ------------------------------------------------------------------ pause


def test_pauser_role_pauses_and_admin_unpauses(escrow, admin, pauser, registrar, new_student):
    escrow.grantRole(escrow.PAUSER_ROLE(), pauser, sender=admin)
    tx = escrow.pause(sender=pauser)
    assert list(tx.events.filter(escrow.PauseSet)) == [
        escrow.PauseSet(account=pauser.address, paused=True)
    ]
    assert escrow.paused()
    with ape.reverts(escrow.AccessControlUnauthorizedAccount):
        escrow.unpause(sender=pauser)
    escrow.unpause(sender=admin)
    escrow.attest(new_student().as_tuple(), sender=registrar)


def test_pause_reverts_for_stranger(escrow, stranger):
    with ape.reverts(escrow.AccessControlUnauthorizedAccount, account=stranger.address):
        escrow.pause(sender=stranger)


def test_pause_twice_and_unpause_unpaused_revert(escrow, admin):
    with ape.reverts(escrow.EscrowNotPaused):
        escrow.unpause(sender=admin)
    escrow.pause(sender=admin)
    with ape.reverts(escrow.EscrowPaused):
        escrow.pause(sender=admin)


def test_pause_stops_every_registrar_and_unpause_resumes_them(
    escrow, admin, registrar, other_registrar, unit, program_end, new_student
):
    escrow.setRegistrar(other_registrar, 10_000 * unit, program_end, 0, sender=admin)
    escrow.pause(sender=admin)
    for account in (registrar, other_registrar):
        with ape.reverts(escrow.EscrowPaused):
            escrow.attest(new_student().as_tuple(), sender=account)
    escrow.unpause(sender=admin)
    for account in (registrar, other_registrar):
        escrow.attest(new_student().as_tuple(), sender=account)


def test_registrar_added_while_paused_waits_for_unpause(
    escrow, admin, other_registrar, unit, program_end, new_student
):
    escrow.pause(sender=admin)
    escrow.setRegistrar(other_registrar, 10_000 * unit, program_end, 0, sender=admin)
    with ape.reverts(escrow.EscrowPaused):
        escrow.attest(new_student().as_tuple(), sender=other_registrar)
    escrow.unpause(sender=admin)
    escrow.attest(new_student().as_tuple(), sender=other_registrar)


def test_registrar_removed_while_paused_is_retired_for_good(
    escrow, admin, registrar, unit, program_end, new_student
):
    escrow.pause(sender=admin)
    escrow.removeRegistrar(registrar, sender=admin)
    escrow.unpause(sender=admin)
    with ape.reverts(escrow.EscrowNotRegistrar, account=registrar.address):
        escrow.attest(new_student().as_tuple(), sender=registrar)
    with ape.reverts(escrow.EscrowRegistrarRetired, registrar=registrar.address):
        escrow.setRegistrar(registrar, 10_000 * unit, program_end, 0, sender=admin)
    assert escrow.registrar(registrar).retired


def test_stranger_while_paused_is_told_the_program_is_paused(escrow, admin, stranger, new_student):
    escrow.pause(sender=admin)
    with ape.reverts(escrow.EscrowPaused):
        escrow.attest(new_student().as_tuple(), sender=stranger)


def test_reads_work_while_paused(escrow, admin, registrar, unit):
    escrow.pause(sender=admin)
    assert escrow.course(1).registrationAmount == 450 * unit
    assert escrow.registrar(registrar).active


# ------------------------------------------------------------------ registrars and courses


def test_set_registrar_emits_and_keeps_released(
    escrow, admin, registrar, unit, program_end, new_student
):
    escrow.attest(new_student().as_tuple(), sender=registrar)
    tx = escrow.setRegistrar(registrar, 20_000 * unit, program_end, 0, sender=admin)
    assert list(tx.events.filter(escrow.RegistrarSet)) == [
        escrow.RegistrarSet(
            registrar=registrar.address,
            allowance=20_000 * unit,
            expiry=program_end,
            released=450 * unit,
            epoch=1,
        )
    ]


def test_remove_registrar_emits_released(escrow, admin, registrar):
    tx = escrow.removeRegistrar(registrar, sender=admin)
    assert list(tx.events.filter(escrow.RegistrarRemoved)) == [
        escrow.RegistrarRemoved(registrar=registrar.address, released=0)
    ]
    assert not escrow.registrar(registrar).active


def test_active_registrars_lists_those_set_and_not_removed(
    escrow, admin, registrar, other_registrar, stranger, program_end
):
    assert escrow.activeRegistrars() == [registrar.address]
    escrow.setRegistrar(other_registrar, 1, program_end, 0, sender=admin)
    escrow.setRegistrar(stranger, 1, program_end, 0, sender=admin)
    escrow.removeRegistrar(registrar, sender=admin)
    assert sorted(escrow.activeRegistrars()) == sorted([other_registrar.address, stranger.address])


def test_registrar_expiry_cannot_outlive_the_program(escrow, admin, registrar, program_end):
    with ape.reverts(
        escrow.EscrowRegistrarOutlivesProgram, expiry=program_end + 1, programEnd=program_end
    ):
        escrow.setRegistrar(registrar, 1, program_end + 1, 0, sender=admin)


def test_active_registrars_are_capped_and_removal_makes_room(
    project, deploy_escrow, admin, donor, program_end, chain
):
    # Not per token flavour: the cap is the registrar table's alone.
    token = project.BscUsdLike.deploy(sender=admin)
    escrow = deploy_escrow(token, donor, admin, program_end)
    limit = escrow.MAX_REGISTRARS()
    web3_escrow = chain.provider.web3.eth.contract(
        address=escrow.address,
        abi=[abi.model_dump(mode="json") for abi in escrow.contract_type.abi],
    )
    accounts = [f"0x{n:040x}" for n in range(0x1000, 0x1000 + limit + 1)]
    for account in accounts[:limit]:
        web3_escrow.functions.setRegistrar(
            chain.provider.web3.to_checksum_address(account), 1, program_end, 0
        ).transact({"from": admin.address})
    assert len(escrow.activeRegistrars()) == limit
    with ape.reverts(escrow.EscrowTooManyRegistrars, limit=limit):
        escrow.setRegistrar(accounts[limit], 1, program_end, 0, sender=admin)
    escrow.setRegistrar(accounts[0], 5, program_end, 0, sender=admin)  # changing one is fine
    escrow.removeRegistrar(accounts[1], sender=admin)
    escrow.setRegistrar(accounts[limit], 1, program_end, 0, sender=admin)
    with ape.reverts(escrow.EscrowRegistrarRetired):
        escrow.setRegistrar(accounts[1], 1, program_end, 0, sender=admin)
    escrow.pause(sender=admin)  # writes every active registrar, within a block's gas
    assert escrow.paused()


def test_remove_unknown_registrar_reverts(escrow, admin, stranger):
    with ape.reverts(escrow.EscrowNotRegistrar, account=stranger.address):
        escrow.removeRegistrar(stranger, sender=admin)


def test_registrars_and_courses_are_admin_only(escrow, registrar, program_end):
    with ape.reverts(escrow.AccessControlUnauthorizedAccount):
        escrow.setRegistrar(registrar, 10**30, program_end, 0, sender=registrar)
    with ape.reverts(escrow.AccessControlUnauthorizedAccount):
        escrow.removeRegistrar(registrar, sender=registrar)
    with ape.reverts(escrow.AccessControlUnauthorizedAccount):
        escrow.setCourse(1, 10**30, 0, True, 0, sender=registrar)


def test_set_registrar_reverts_on_zero_address_and_oversized_values(escrow, admin, program_end):
    with ape.reverts(escrow.EscrowZeroAddress):
        escrow.setRegistrar(ZERO, 1, program_end, 0, sender=admin)
    with ape.reverts(escrow.EscrowAmountTooLarge, amount=2**96):
        escrow.setRegistrar(escrow.address, 2**96, program_end, 0, sender=admin)
    # An expiry is never past the program end, which fits 32 bits (checked at deployment).
    with ape.reverts(escrow.EscrowRegistrarOutlivesProgram, expiry=2**40):
        escrow.setRegistrar(escrow.address, 1, 2**40, 0, sender=admin)


def test_set_course_emits_and_rejects_oversized_amounts(escrow, admin, unit):
    tx = escrow.setCourse(7, 100 * unit, 10 * unit, True, 0, sender=admin)
    assert list(tx.events.filter(escrow.CourseSet)) == [
        escrow.CourseSet(
            courseId=7, registrationAmount=100 * unit, completionAmount=10 * unit, active=True
        )
    ]
    with ape.reverts(escrow.EscrowAmountTooLarge, amount=2**96):
        escrow.setCourse(7, 2**96, 0, True, 0, sender=admin)
    with ape.reverts(escrow.EscrowAmountTooLarge, amount=2**96):
        escrow.setCourse(7, 0, 2**96, True, 0, sender=admin)


# ------------------------------------------------------------------ rescue


def test_rescue_returns_another_token(project, escrow, admin, stranger):
    stray = project.BscUsdLike.deploy(sender=stranger)
    stray.mint(escrow, 123, sender=stranger)
    tx = escrow.rescueToken(stray, stranger, 123, sender=admin)
    assert list(tx.events.filter(escrow.TokenRescued)) == [
        escrow.TokenRescued(token=stray.address, to=stranger.address, amount=123)
    ]
    assert stray.balanceOf(stranger) == 123


def test_rescue_refuses_the_scholarship_token(escrow, token, admin):
    with ape.reverts(escrow.EscrowCannotRescueScholarshipToken):
        escrow.rescueToken(token, admin, 1, sender=admin)


def test_rescue_is_admin_only_and_needs_a_receiver(project, escrow, admin, stranger):
    with ape.reverts(escrow.AccessControlUnauthorizedAccount):
        escrow.rescueToken(stranger, stranger, 1, sender=stranger)
    with ape.reverts(escrow.EscrowZeroAddress):
        escrow.rescueToken(stranger, ZERO, 1, sender=admin)


def test_paid_milestones_reads_many_students_at_once(escrow, registrar, new_student):
    first, second = new_student(), new_student()
    escrow.attest(first.as_tuple(), sender=registrar)
    done = type(first)(first.student_id, first.payee, 1, Milestone.COMPLETION)
    escrow.attest(done.as_tuple(), sender=registrar)
    assert escrow.paidMilestones([first.student_id, second.student_id]) == [0b11, 0]


# ------------------------------------------------------------------ the admin role


def test_admin_role_moves_in_two_steps_after_the_delay(escrow, admin, stranger, chain):
    escrow.beginDefaultAdminTransfer(stranger, sender=admin)
    assert escrow.defaultAdmin() == admin.address
    with ape.reverts(escrow.AccessControlEnforcedDefaultAdminDelay):
        escrow.acceptDefaultAdminTransfer(sender=stranger)
    chain.pending_timestamp += DAY + 1
    escrow.acceptDefaultAdminTransfer(sender=stranger)
    assert escrow.defaultAdmin() == stranger.address
    assert not escrow.hasRole(escrow.DEFAULT_ADMIN_ROLE(), admin)


def test_admin_handover_can_be_cancelled_before_it_is_accepted(escrow, admin, stranger, chain):
    escrow.beginDefaultAdminTransfer(stranger, sender=admin)
    escrow.cancelDefaultAdminTransfer(sender=admin)
    chain.pending_timestamp += DAY + 1
    with ape.reverts(escrow.AccessControlInvalidDefaultAdmin, defaultAdmin=stranger.address):
        escrow.acceptDefaultAdminTransfer(sender=stranger)
    assert escrow.defaultAdmin() == admin.address


def test_admin_role_cannot_be_granted_in_one_step(escrow, admin, stranger):
    with ape.reverts(escrow.AccessControlEnforcedDefaultAdminRules):
        escrow.grantRole(escrow.DEFAULT_ADMIN_ROLE(), stranger, sender=admin)
