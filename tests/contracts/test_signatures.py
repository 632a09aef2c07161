"""Signed attestations (EIP-712): what verifies, and every way one must not."""

from __future__ import annotations

import ape
import pytest
from shared import DAY

from itgen_chain.attestations import (
    SECP256K1_HALF_N,
    Attestation,
    SignedAttestation,
    domain,
    recover,
    sign,
)


@pytest.fixture
def signer_for(chain, escrow):
    def make(account, item, deadline=None, chain_id=None, contract=None, epoch=None):
        return sign(
            item,
            escrow.registrar(account).epoch if epoch is None else epoch,
            deadline or chain.pending_timestamp + DAY,
            chain_id or chain.chain_id,
            contract or escrow.address,
            account.private_key,
        )

    return make


def test_eip712_domain_matches_python_domain(escrow, chain):
    fields, name, version, chain_id, contract, salt, extensions = escrow.eip712Domain()
    expected = domain(chain.chain_id, escrow.address)
    assert (name, version, chain_id, contract) == (
        expected["name"],
        expected["version"],
        expected["chainId"],
        expected["verifyingContract"],
    )


def test_python_signature_verifies_on_chain_and_pays(
    escrow, token, unit, registrar, stranger, chain, signer_for, new_student
):
    item = new_student()
    signed = signer_for(registrar, item)
    assert recover(signed, chain.chain_id, escrow.address) == registrar.address
    tx = escrow.attestBySig(signed.as_tuple(), sender=stranger)
    assert list(tx.events.filter(escrow.ScholarshipReleased)) == [
        escrow.ScholarshipReleased(
            studentId=item.student_id,
            payee=item.payee,
            registrar=registrar.address,
            courseId=1,
            milestone=0,
            amount=450 * unit,
        )
    ]
    assert escrow.registrar(registrar).released == 450 * unit


def test_typed_data_digest_matches_contract(escrow, chain, new_student):
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak as k

    from itgen_chain.attestations import typed_data

    item = new_student()
    message = encode_typed_data(
        full_message=typed_data(item, 3, 1234, chain.chain_id, escrow.address)
    )
    digest = k(b"\x19" + message.version + message.header + message.body)
    assert escrow.attestationDigest(item.as_tuple(), 3, 1234) == digest


def test_signature_for_another_chain_is_worthless(
    escrow, registrar, stranger, chain, signer_for, new_student
):
    signed = signer_for(registrar, new_student(), chain_id=chain.chain_id + 1)
    with ape.reverts(escrow.EscrowInvalidSigner, index=0):
        escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_signature_for_another_contract_is_worthless(
    escrow, token, registrar, stranger, signer_for, new_student
):
    signed = signer_for(registrar, new_student(), contract=token.address)
    with ape.reverts(escrow.EscrowInvalidSigner, index=0):
        escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_expired_signature_reverts(escrow, registrar, stranger, chain, signer_for, new_student):
    deadline = chain.pending_timestamp + 10
    signed = signer_for(registrar, new_student(), deadline=deadline)
    chain.pending_timestamp = deadline + 1
    with ape.reverts(escrow.EscrowSignatureExpired, index=0, deadline=deadline):
        escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_signature_by_non_registrar_reverts(escrow, stranger, signer_for, new_student):
    signed = signer_for(stranger, new_student())
    with ape.reverts(escrow.EscrowInvalidSigner, index=0, signer=stranger.address):
        escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_signature_by_removed_registrar_reverts(
    escrow, admin, registrar, stranger, signer_for, new_student
):
    signed = signer_for(registrar, new_student())
    escrow.removeRegistrar(registrar, sender=admin)
    with ape.reverts(escrow.EscrowInvalidSigner, index=0, signer=registrar.address):
        escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_signature_by_expired_registrar_reverts(
    escrow, admin, registrar, stranger, chain, signer_for, new_student
):
    expiry = chain.pending_timestamp + 100
    escrow.setRegistrar(registrar, 10**24, expiry, 0, sender=admin)
    signed = signer_for(registrar, new_student(), deadline=expiry + DAY)
    chain.pending_timestamp = expiry + 1
    with ape.reverts(escrow.EscrowRegistrarExpired, registrar=registrar.address):
        escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_malleable_high_s_signature_reverts(escrow, registrar, stranger, signer_for, new_student):
    signed = signer_for(registrar, new_student())
    r, s, v = (
        signed.signature[:32],
        int.from_bytes(signed.signature[32:64], "big"),
        signed.signature[64],
    )
    n = 2 * SECP256K1_HALF_N + 1
    flipped = r + (n - s).to_bytes(32, "big") + bytes([27 if v == 28 else 28])
    high = SignedAttestation(signed.attestation, signed.epoch, signed.deadline, flipped)
    with pytest.raises(ValueError, match="malleable"):
        recover(high, 0, escrow.address)
    with ape.reverts(escrow.EscrowInvalidSignature, index=0):
        escrow.attestBySig(high.as_tuple(), sender=stranger)


def test_short_signature_reverts(escrow, registrar, stranger, signer_for, new_student):
    signed = signer_for(registrar, new_student())
    short = SignedAttestation(
        signed.attestation, signed.epoch, signed.deadline, signed.signature[:64]
    )
    with ape.reverts(escrow.EscrowInvalidSignature, index=0):
        escrow.attestBySig(short.as_tuple(), sender=stranger)


def test_replayed_signature_pays_once(escrow, registrar, stranger, signer_for, new_student):
    item = new_student()
    signed = signer_for(registrar, item)
    escrow.attestBySig(signed.as_tuple(), sender=stranger)
    with ape.reverts(escrow.EscrowAlreadyPaid, index=0, studentId=item.student_id):
        escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_tampered_payee_does_not_verify(escrow, registrar, stranger, signer_for, new_student):
    item = new_student()
    signed = signer_for(registrar, item)
    thief = Attestation(item.student_id, stranger.address, item.course_id, item.milestone)
    forged = SignedAttestation(thief, signed.epoch, signed.deadline, signed.signature)
    with ape.reverts(escrow.EscrowInvalidSigner, index=0):
        escrow.attestBySig(forged.as_tuple(), sender=stranger)


def test_batch_by_sig_mixes_registrars_and_charges_each(
    escrow, admin, registrar, other_registrar, stranger, unit, program_end, signer_for, new_student
):
    escrow.setRegistrar(other_registrar, 10_000 * unit, program_end, 0, sender=admin)
    signers = [registrar, registrar, other_registrar, registrar]
    batch = [signer_for(s, new_student()).as_tuple() for s in signers]
    tx = escrow.attestBatchBySig(batch, sender=stranger)
    assert [e.registrar for e in tx.events.filter(escrow.ScholarshipReleased)] == [
        s.address for s in signers
    ]
    assert escrow.registrar(registrar).released == 3 * 450 * unit
    assert escrow.registrar(other_registrar).released == 450 * unit


def test_batch_by_sig_names_the_forged_index(escrow, registrar, stranger, signer_for, new_student):
    batch = [signer_for(registrar, new_student()).as_tuple() for _ in range(3)]
    batch[1] = signer_for(stranger, new_student()).as_tuple()
    with ape.reverts(escrow.EscrowInvalidSigner, index=1, signer=stranger.address):
        escrow.attestBatchBySig(batch, sender=stranger)


def test_batch_by_sig_reverts_when_empty(escrow, stranger):
    with ape.reverts(escrow.EscrowEmptyBatch):
        escrow.attestBatchBySig([], sender=stranger)


def test_signature_equals_the_nodes_eth_sign_typed_data_v4(chain, escrow, registrar, new_student):
    """anvil holds the test accounts' keys and signs like a wallet does for eth_signTypedData_v4."""
    import json

    from itgen_chain.attestations import typed_data

    item = new_student()
    message = typed_data(item, 1, 99, chain.chain_id, escrow.address)
    wallet = chain.provider.make_request(
        "eth_signTypedData_v4", [registrar.address, json.dumps(message)]
    )
    ours = sign(item, 1, 99, chain.chain_id, escrow.address, registrar.private_key)
    assert ours.signature == bytes.fromhex(wallet.removeprefix("0x"))


def test_fast_digest_equals_the_standard_typed_data_hash(escrow, chain, new_student):
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak as k

    from itgen_chain.attestations import digest, typed_data

    item = new_student()
    message = encode_typed_data(
        full_message=typed_data(item, 2, 77, chain.chain_id, escrow.address)
    )
    assert digest(item, 2, 77, chain.chain_id, escrow.address) == k(
        b"\x19" + message.version + message.header + message.body
    )


# ------------------------------------------------------------------ the review's attacks


def test_copied_item_sent_first_does_not_sink_the_relayers_batch(
    escrow, token, unit, registrar, stranger, accounts, signer_for, new_student
):
    """The attack: a watcher copies one signed item out of a pending attestBatchBySig and
    submits it alone first. The batch used to revert whole; now it skips that item."""
    items = [new_student() for _ in range(5)]
    batch = [signer_for(registrar, item) for item in items]
    escrow.attestBySig(batch[3].as_tuple(), sender=stranger)  # the front-runner
    tx = escrow.attestBatchBySig([b.as_tuple() for b in batch], sender=accounts[7])
    assert [e.studentId for e in tx.events.filter(escrow.ScholarshipReleased)] == [
        items[i].student_id for i in (0, 1, 2, 4)
    ]
    assert list(tx.events.filter(escrow.AttestationSkipped)) == [
        escrow.AttestationSkipped(
            index=3, studentId=items[3].student_id, registrar=registrar.address, milestone=0
        )
    ]
    assert all(token.balanceOf(item.payee) == 450 * unit for item in items)
    assert escrow.registrar(registrar).released == 5 * 450 * unit


def test_single_signed_attestation_still_reverts_when_paid(
    escrow, registrar, stranger, signer_for, new_student
):
    signed = signer_for(registrar, new_student())
    escrow.attestBySig(signed.as_tuple(), sender=stranger)
    with ape.reverts(escrow.EscrowAlreadyPaid, index=0):
        escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_a_removed_key_can_never_be_added_back(
    escrow, admin, registrar, stranger, unit, program_end, signer_for, new_student, chain
):
    """The attack on v2: a thief pre-signs epochs e, e+1, e+2 with a stolen key; the key is
    removed and later the same address added back, and the e+1 set paid. Now the address
    is retired: it cannot be added back, and nothing it signed pays."""
    assert escrow.registrar(registrar).epoch == 1
    deadline = chain.pending_timestamp + 20 * 86_400
    loot = [
        signer_for(registrar, new_student(payee=stranger.address), epoch=e, deadline=deadline)
        for e in (1, 2, 3)
    ]
    escrow.removeRegistrar(registrar, sender=admin)
    with ape.reverts(escrow.EscrowRegistrarRetired, registrar=registrar.address):
        escrow.setRegistrar(registrar, 10_000 * unit, program_end, 0, sender=admin)
    for signed in loot:
        with ape.reverts(escrow.EscrowInvalidSigner, index=0, signer=registrar.address):
            escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_an_expired_registrar_given_a_new_term_voids_what_it_signed_before(
    escrow, admin, registrar, stranger, unit, chain, signer_for, new_student
):
    """The v2 hole: an expired registrar given a later expiry kept its epoch, so everything
    it signed before paid again."""
    now = chain.pending_timestamp
    escrow.setRegistrar(registrar, 10_000 * unit, now + 86_400, 0, sender=admin)
    loot = signer_for(registrar, new_student(payee=stranger.address), deadline=now + 20 * 86_400)
    chain.pending_timestamp = now + 2 * 86_400
    escrow.setRegistrar(registrar, 10_000 * unit, now + 10 * 86_400, 0, sender=admin)
    assert escrow.registrar(registrar).epoch == 2
    with ape.reverts(escrow.EscrowSignatureRevoked, index=0, signer=registrar.address, epoch=1):
        escrow.attestBySig(loot.as_tuple(), sender=stranger)
    fresh = signer_for(registrar, new_student(), epoch=2)  # signed in the new term: pays
    escrow.attestBySig(fresh.as_tuple(), sender=stranger)


def test_a_deadline_further_than_the_maximum_validity_is_refused(
    escrow, registrar, stranger, chain, signer_for, new_student
):
    """Loot signed far ahead dies: a deadline more than 30 days past submission is refused."""
    assert escrow.MAX_SIGNATURE_VALIDITY() == 30 * 86_400
    far = signer_for(registrar, new_student(), deadline=2**256 - 1)
    with ape.reverts(escrow.EscrowDeadlineTooFar):
        escrow.attestBySig(far.as_tuple(), sender=stranger)
    with ape.reverts(escrow.EscrowDeadlineTooFar):
        escrow.attestBatchBySig([far.as_tuple()], sender=stranger)


def test_changing_an_active_registrar_keeps_its_epoch_and_signatures(
    escrow, admin, registrar, stranger, unit, program_end, signer_for, new_student
):
    signed = signer_for(registrar, new_student())
    escrow.setRegistrar(registrar, 20_000 * unit, program_end, 0, sender=admin)
    assert escrow.registrar(registrar).epoch == 1
    escrow.attestBySig(signed.as_tuple(), sender=stranger)


def test_signature_claiming_a_future_epoch_is_refused(
    escrow, registrar, stranger, signer_for, new_student
):
    signed = signer_for(registrar, new_student(), epoch=2)
    with ape.reverts(escrow.EscrowSignatureRevoked, index=0, epoch=2):
        escrow.attestBySig(signed.as_tuple(), sender=stranger)
