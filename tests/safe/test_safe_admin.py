"""The admin is a 2-of-3 Safe (1.4.1 at its canonical addresses, from the npm packages) and
a guardian key holds the pauser role: every admin change executed and proposed through the
Safe, several changes in one Safe transaction, and the Transaction Builder export checked
against the app's test vector, read back and executed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from devtools import safe_contracts  # noqa: E402
from itgen_chain import safe as safes  # noqa: E402
from itgen_chain import tx_builder  # noqa: E402
from itgen_chain.exceptions import AdminError, ItgenError, SafeError  # noqa: E402

DAY = 86_400
PROGRAM = "safe-tests"


@pytest.fixture(scope="module")
def owners(accounts):
    return accounts[6], accounts[7], accounts[8]


@pytest.fixture(scope="module")
def guardian(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def safe_address(chain, accounts, owners):
    web3 = chain.provider.web3
    safe_contracts.deploy_canonical(web3, accounts[0].address)
    return safe_contracts.create_safe(web3, accounts[0].address, [o.address for o in owners], 2)


@pytest.fixture(scope="module")
def program(chain, project, accounts, safe_address, guardian, registrar):
    """An escrow whose admin is the Safe, with a course, a registrar and funds."""
    from itgen_chain.deployer import Terms, deploy
    from itgen_chain.program import connect

    token = project.BscUsdLike.deploy(sender=accounts[0])
    end = chain.pending_timestamp + 270 * DAY
    terms = Terms(
        token.address,
        accounts[1].address,
        safe_address,
        end,
        pauser=guardian.address,
        admin_delay=DAY,
        latest_program_end=end + 365 * DAY,
    )
    deploy(accounts[0], terms, force=True, program=PROGRAM)
    conn = connect(program=PROGRAM)
    token.mint(accounts[1], 10**24, sender=accounts[1])
    token.approve(conn.escrow, 10**24, sender=accounts[1])
    conn.escrow.fund(10**24, sender=accounts[1])
    safe = safes.load(safe_address)
    changes = [conn.set_course(1, 450 * 10**18, 0), conn.set_registrar(registrar.address, 10**22)]
    calls = [safes.Call.of(c) for c in changes]
    assert safes.submit(conn, safe, calls, accounts[6], [accounts[7]]).executed
    yield conn
    # The record and salt are this module's own: other tests list the local programs.
    from itgen_chain import records

    network = chain.provider.network
    record = records.path_for(network.ecosystem.name, network.name, PROGRAM)
    record.with_suffix(".standard-input.json").unlink(missing_ok=True)
    record.unlink(missing_ok=True)
    records.salt_path(network.ecosystem.name, network.name, PROGRAM).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def safe(program, safe_address):
    return safes.load(safe_address)


def changes_to_try(name, program, chain, registrar, accounts):
    """Each admin change, built by the program client (its checks run here)."""
    if name == "close":
        chain.mine(timestamp=program.escrow.programEnd() + 1)
        return program.close(chain.pending_timestamp)
    if name == "unpause":
        program.apply([program.pause()], accounts[5])  # the guardian
        return program.unpause()
    if name == "cancel admin handover":
        safe = safes.load(program.escrow.defaultAdmin())
        begin = safes.Call.of(program.begin_admin_transfer(accounts[9].address))
        assert safes.submit(program, safe, [begin], accounts[6], [accounts[7]]).executed
        return program.cancel_admin_transfer()
    return {
        "set course": lambda: program.set_course(9, 100 * 10**18, 10 * 10**18),
        "deactivate course": lambda: program.deactivate_course(1),
        "add registrar": lambda: program.set_registrar(accounts[9].address, 10**21),
        "remove registrar": lambda: program.remove_registrar(registrar.address),
        "extend": lambda: program.extend(program.escrow.programEnd() + 30 * DAY),
        "rescue": lambda: program.rescue(_stray_token(program, accounts), accounts[3].address, 5),
        "begin admin handover": lambda: program.begin_admin_transfer(accounts[9].address),
    }[name]()


def _stray_token(program, accounts):
    from ape import project

    stray = project.UsdtLike.deploy(sender=accounts[0])
    stray.mint(program.escrow, 5, sender=accounts[0])
    return stray.address


ADMIN_CHANGES = [
    "set course",
    "deactivate course",
    "add registrar",
    "remove registrar",
    "extend",
    "rescue",
    "begin admin handover",
    "cancel admin handover",
    "unpause",
    "close",
]


def state(program):
    e = program.escrow
    return (
        e.course(9),
        e.course(1),
        e.registrar(e.activeRegistrars()[0]) if e.activeRegistrars() else None,
        e.activeRegistrars(),
        e.programEnd(),
        e.paused(),
        e.budget(),
        e.pendingDefaultAdmin(),
    )


@pytest.mark.parametrize("name", ADMIN_CHANGES)
def test_each_admin_change_executes_when_two_owners_sign(
    name, program, safe, owners, chain, registrar, accounts
):
    change = changes_to_try(name, program, chain, registrar, accounts)
    before = state(program)
    nonce = safe.next_nonce
    outcome = safes.submit(program, safe, [safes.Call.of(change)], owners[0], [owners[1]])
    assert outcome.executed and len(outcome.signed_by) == 2
    assert safe.next_nonce == nonce + 1
    # The escrow emitted the change's event, from the Safe's execution.
    emitted = [
        log for log in outcome.receipt.events if log.contract_address == program.escrow.address
    ]
    assert emitted, name
    assert state(program) != before or name == "rescue"


@pytest.mark.parametrize("name", ADMIN_CHANGES)
def test_each_admin_change_is_proposed_when_one_owner_signs(
    name, program, safe, owners, chain, registrar, accounts
):
    change = changes_to_try(name, program, chain, registrar, accounts)
    before = state(program)
    nonce = safe.next_nonce
    outcome = safes.submit(program, safe, [safes.Call.of(change)], owners[0], [])
    assert not outcome.executed
    assert outcome.signed_by == [owners[0].address]
    assert outcome.missing == [owners[1].address, owners[2].address]
    assert safe.next_nonce == nonce and state(program) == before
    # ape-safe's local stand-in for the transaction service holds it, with its signature.
    pending = safe.client.get_safe_tx(outcome.safe_tx_hash)
    assert (
        pending is not None and len(list(safe.client.get_confirmations(outcome.safe_tx_hash))) == 1
    )


def test_a_proposal_executes_once_a_second_owner_signs(program, safe, owners):
    change = program.set_course(11, 5 * 10**18, 0)
    first = safes.submit(program, safe, [safes.Call.of(change)], owners[0], [])
    second = safes.submit(program, safe, [safes.Call.of(change)], owners[2], [])
    assert not first.executed and second.executed
    assert second.safe_tx_hash == first.safe_tx_hash
    assert program.escrow.course(11).active is True


def test_the_guardian_pauses_alone_and_only_the_safe_unpauses(program, safe, owners, guardian):
    program.apply([program.pause()], guardian)
    assert program.escrow.paused() is True
    with pytest.raises(ItgenError, match="AccessControl|role"):
        program.apply([program.unpause()], guardian)
    assert safes.submit(
        program, safe, [safes.Call.of(program.unpause())], owners[1], [owners[2]]
    ).executed
    assert program.escrow.paused() is False


def test_the_stolen_key_drill_is_one_safe_transaction(
    program, safe, owners, guardian, registrar, accounts
):
    program.apply([program.pause()], guardian)
    new_key = accounts[9].address
    changes = [
        program.remove_registrar(registrar.address),
        program.set_registrar(new_key, 10**22),
        program.unpause(),
    ]
    nonce = safe.next_nonce
    outcome = safes.submit(
        program, safe, [safes.Call.of(c) for c in changes], owners[0], [owners[2]]
    )
    assert outcome.executed and safe.next_nonce == nonce + 1
    e = program.escrow
    assert not e.registrar(registrar.address).active and e.registrar(new_key).active
    assert e.paused() is False


def test_a_change_that_would_revert_from_the_safe_is_refused_before_signing(program, safe, owners):
    # The Safe is not the pauser: the guardian is.
    change = program.pause()
    nonce = safe.next_nonce
    with pytest.raises(ItgenError, match="would revert from the Safe"):
        safes.submit(program, safe, [safes.Call.of(change)], owners[0], [owners[1]])
    assert safe.next_nonce == nonce


def test_a_cosigner_who_is_not_an_owner_is_refused(program, safe, owners, accounts):
    change = program.set_course(12, 1, 0)
    with pytest.raises(SafeError, match="not an owner"):
        safes.submit(program, safe, [safes.Call.of(change)], owners[0], [accounts[4]])


def test_an_address_without_a_safe_is_refused(program, accounts):
    with pytest.raises(SafeError, match="no Safe at"):
        safes.load("0x" + "12" * 20)
    with pytest.raises(SafeError, match="neither an address"):
        safes.load("no-such-safe-alias")


def test_client_checks_refuse_changes_that_would_change_nothing(program):
    with pytest.raises(AdminError, match="already running"):
        program.unpause()
    with pytest.raises(AdminError, match="not after the program end"):
        program.extend(program.escrow.programEnd())
    with pytest.raises(AdminError, match="latest end"):
        program.extend(program.escrow.latestProgramEnd() + 1)
    with pytest.raises(AdminError, match="cannot be rescued"):
        program.rescue(program.token.address, "0x" + "11" * 20, 1)
    with pytest.raises(AdminError, match="not an active registrar"):
        program.remove_registrar("0x" + "22" * 20)
    with pytest.raises(AdminError, match="no admin handover is pending"):
        program.cancel_admin_transfer()
    with pytest.raises(AdminError, match="runs until"):
        program.close(0)


# ------------------------------------------------------------ Transaction Builder


# The Transaction Builder's own test vector (safe-react-apps, apps/tx-builder/src/lib/
# checksum.test.js): the file and the checksum the app computes for it.
VECTOR = {
    "version": "1.0",
    "chainId": "4",
    "createdAt": 1646321521061,
    "meta": {
        "name": "test batch file",
        "txBuilderVersion": "1.4.0",
        "checksum": "",
        "createdFromSafeAddress": "0xDF8a1Ce35c9a6ACE153B4e0767942f1E2291a1Aa",
        "createdFromOwnerAddress": "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6",
    },
    "transactions": [
        {
            "to": "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6",
            "value": "0",
            "contractMethod": {
                "inputs": [{"internalType": "address", "name": "paramAddress", "type": "address"}],
                "name": "testAddress",
                "payable": False,
            },
            "contractInputsValues": {"paramAddress": "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6"},
        },
        {
            "to": "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6",
            "value": "0",
            "contractMethod": {
                "inputs": [{"internalType": "bool", "name": "paramBool", "type": "bool"}],
                "name": "testBool",
                "payable": False,
            },
            "contractInputsValues": {"paramAddress": "", "paramBool": "false"},
        },
        {
            "to": "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6",
            "value": "2000000000000000000",
            "data": "0x42f4579000000000000000000000000049d4450977e2c95362c13d3a31a09311e0ea26a6",
        },
    ],
}
VECTOR_CHECKSUM = "0x4ecbfd364aa6759983915644e73f8bd411e85a2dc306f252a387c2728c4db64c"


def test_checksum_reproduces_the_transaction_builders_vector():
    assert tx_builder.checksum(VECTOR) == VECTOR_CHECKSUM


def test_checksum_ignores_key_order_and_the_name_but_not_transaction_order():
    reordered = dict(reversed(list(VECTOR.items())))
    reordered["meta"] = {**dict(reversed(list(VECTOR["meta"].items()))), "name": "renamed"}
    assert tx_builder.checksum(reordered) == VECTOR_CHECKSUM
    swapped = {**VECTOR, "transactions": list(reversed(VECTOR["transactions"]))}
    assert tx_builder.checksum(swapped) != VECTOR_CHECKSUM


def test_export_round_trip_written_read_back_and_executed(
    program, safe, owners, guardian, tmp_path, chain
):
    program.apply([program.pause()], guardian)
    changes = [program.set_course(21, 7 * 10**18, 0), program.unpause()]
    batch = tx_builder.batch_file(changes, chain.chain_id, safe.address, "round trip")
    path = tx_builder.write(tmp_path / "batch.json", batch)
    written = json.loads(path.read_text())
    assert written["version"] == "1.0" and written["chainId"] == str(chain.chain_id)
    assert [t["contractMethod"]["name"] for t in written["transactions"]] == [
        "setCourse",
        "unpause",
    ]
    assert written["transactions"][0]["contractInputsValues"] == {
        "courseId": "21",
        "registrationAmount": str(7 * 10**18),
        "completionAmount": "0",
        "active": "true",
    }
    _, calls = tx_builder.read(path, chain.chain_id)
    assert [(to, data) for to, _, data in calls] == [(c.to, c.data) for c in changes]
    described = [
        safes.Call(f"call {n}", to, value, data) for n, (to, value, data) in enumerate(calls)
    ]
    assert safes.submit(program, safe, described, owners[0], [owners[1]]).executed
    assert program.escrow.course(21).active is True and program.escrow.paused() is False


def test_a_changed_export_is_refused(program, safe, tmp_path, chain):
    batch = tx_builder.batch_file([program.set_course(22, 1, 0)], chain.chain_id, safe.address, "x")
    batch["transactions"][0]["contractInputsValues"]["registrationAmount"] = "999"
    path = tx_builder.write(tmp_path / "changed.json", batch)
    with pytest.raises(tx_builder.BatchFileError, match="checksum does not match"):
        tx_builder.read(path, chain.chain_id)
    with pytest.raises(tx_builder.BatchFileError, match="made for chain"):
        tx_builder.read(path, 56)
