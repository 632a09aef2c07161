"""The escrow's reverts in words: what a user reads instead of a custom error's selector."""

from __future__ import annotations

from eth_utils import to_checksum_address
from web3.exceptions import ContractLogicError

from itgen_chain.compiled import escrow_abi
from itgen_chain.reverts import explain


def test_a_batch_past_the_allowance_reads_as_one_line_in_tokens(
    escrow, admin, registrar, unit, token, program_end, new_student, chain
):
    """What `make demo` prints for the thief's batch (through web3, with no call trace)."""
    escrow.setRegistrar(registrar, 1000 * unit, program_end, 0, sender=admin)
    abi = escrow_abi(escrow.contract_type)
    contract = chain.provider.web3.eth.contract(escrow.address, abi=abi)
    batch = [new_student().as_tuple() for _ in range(3)]
    try:
        contract.functions.attestBatch(batch).call({"from": registrar.address})
        raise AssertionError("the batch went through")
    except ContractLogicError as error:
        reason = explain(error, abi, token.decimals())
    assert reason == (
        f"item 2: registrar {to_checksum_address(registrar.address)} has 100.00 tokens of "
        "allowance left, the item needs 450.00"
    )
    assert "\n" not in reason


def test_an_error_ape_decoded_reads_the_same(escrow, admin, stranger):
    import ape

    try:
        escrow.pause(sender=stranger)
        raise AssertionError("a stranger paused")
    except ape.exceptions.ContractLogicError as error:
        reason = explain(error, escrow_abi(escrow.contract_type))
    assert reason == f"{stranger.address} does not hold the role this needs"


def test_a_revert_that_is_not_the_escrows_is_left_unexplained():
    assert explain(ValueError("execution reverted: reset to 0 first"), []) is None
