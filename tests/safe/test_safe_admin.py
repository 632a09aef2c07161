"""The admin is a 2-of-3 Safe (1.4.1 at its canonical addresses, from the npm packages) and
a guardian key holds the pauser role: every admin change executed through the Safe, and
carried by a Safe transaction file from owner to owner; what owners are shown is decoded from
the calldata; what an admin batch never needs is refused; the exact Safe transaction is
simulated before anyone signs; Transaction Builder files read as the app reads them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from shared import DAY

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from devtools import safe_contracts  # noqa: E402
from itgen_chain import safe as safes  # noqa: E402
from itgen_chain import (
    safe_file,  # noqa: E402
    tx_builder,  # noqa: E402
)
from itgen_chain.exceptions import (  # noqa: E402
    AdminError,
    CallRefused,
    ItgenError,
    SafeError,
    SafeFileError,
)
from itgen_chain.signers import Sending, carry_out, carry_out_calls, execute  # noqa: E402

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
    program = connect(program=PROGRAM)
    token.mint(accounts[1], 10**24, sender=accounts[1])
    token.approve(program.escrow, 10**24, sender=accounts[1])
    program.escrow.fund(10**24, sender=accounts[1])
    changes = [
        program.set_course(1, 450 * 10**18, 0),
        program.set_registrar(registrar.address, 10**22),
    ]
    carry_out(program, changes, Sending(accounts[6], safe_address, [accounts[7]], yes=True))
    yield program
    # The record and salt are this module's own: other tests list the local programs.
    from itgen_chain import records

    network = chain.provider.network
    record = records.path_for(network.ecosystem.name, network.name, PROGRAM)
    record.with_suffix(".standard-input.json").unlink(missing_ok=True)
    record.unlink(missing_ok=True)
    records.salt_path(network.ecosystem.name, network.name, PROGRAM).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def safe(program, safe_address, chain):
    return safes.read(chain.provider.web3, safe_address)


def nonce(chain, safe_address):
    return safes.read(chain.provider.web3, safe_address).nonce


class Said(list):
    """An echo that keeps what an owner was shown."""

    def __call__(self, line):
        self.append(line)

    @property
    def text(self):
        return "\n".join(self)


def two_owners(owners, safe_address, **options):
    return Sending(owners[0], safe_address, [owners[1]], yes=True, **options)


def changes_to_try(name, program, chain, registrar, accounts):
    """Each admin change, built by the program client (its checks run here)."""
    if name == "close":
        chain.mine(timestamp=program.escrow.programEnd() + 1)
        return program.close(chain.pending_timestamp)
    if name == "unpause":
        program.apply([program.pause()], accounts[5])  # the guardian
        return program.unpause()
    if name == "cancel admin handover":
        begin = program.begin_admin_transfer(accounts[9].address)
        sending = Sending(accounts[6], program.escrow.defaultAdmin(), [accounts[7]], yes=True)
        carry_out(program, [begin], sending)
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
    name, program, safe_address, owners, chain, registrar, accounts
):
    change = changes_to_try(name, program, chain, registrar, accounts)
    before, start = state(program), nonce(chain, safe_address)
    shown = Said()
    carry_out(program, [change], two_owners(owners, safe_address), shown)
    assert nonce(chain, safe_address) == start + 1
    assert state(program) != before or name == "rescue"
    assert "Safe transaction hash: 0x" in shown.text and "executed Safe transaction" in shown.text


@pytest.mark.parametrize("name", ADMIN_CHANGES)
def test_each_admin_change_travels_in_a_safe_transaction_file(
    name, program, safe_address, owners, chain, registrar, accounts, tmp_path
):
    change = changes_to_try(name, program, chain, registrar, accounts)
    before, start = state(program), nonce(chain, safe_address)
    path = tmp_path / "change.json"
    carry_out(program, [change], Sending(owners[0], safe_address, safe_tx_file=path, yes=True))
    assert state(program) == before and nonce(chain, safe_address) == start
    document = safe_file.read(path)
    assert list(document.signatures) == [owners[0].address]
    # Owner 3, elsewhere: reads the file, signs it; anyone executes.
    document.signatures[owners[2].address] = safes.sign(owners[2], document.safe_tx)
    safe_file.write(path, document, new=False)
    again = safe_file.read(path)
    execute(program, safes.read(chain.provider.web3, safe_address), again.safe_tx,
            again.signatures, [], accounts[4], Said())  # fmt: skip
    assert nonce(chain, safe_address) == start + 1
    assert state(program) != before or name == "rescue"


def test_the_hash_is_the_one_the_safe_computes(program, safe_address, chain):
    web3 = chain.provider.web3
    safe = safes.read(web3, safe_address)
    calls = [safes.Call(program.escrow.address, 0, program.set_course(40, 1, 0).data)] * 2
    safe_tx = safes.transaction_for(safe.address, safe.chain_id, safe.nonce, calls)
    contract = web3.eth.contract(safe.address, abi=safes.abi("Safe"))
    on_chain = contract.functions.getTransactionHash(
        safe_tx.to, safe_tx.value, safe_tx.data, safe_tx.operation, 0, 0, 0,
        safes.ZERO, safes.ZERO, safe_tx.nonce,
    ).call()  # fmt: skip
    assert bytes(on_chain) == safe_tx.hash
    assert safes.unpack_multisend(safe_tx.data) == calls


def test_an_owners_on_chain_approval_counts_as_a_signature(
    program, safe_address, owners, chain, accounts, tmp_path
):
    path = tmp_path / "approve.json"
    change = program.set_course(41, 3 * 10**18, 0)
    carry_out(program, [change], Sending(owners[0], safe_address, safe_tx_file=path, yes=True))
    document = safe_file.read(path)
    web3 = chain.provider.web3
    contract = web3.eth.contract(safe_address, abi=safes.abi("Safe"))
    tx = contract.functions.approveHash(document.safe_tx.hash).transact({"from": owners[1].address})
    web3.eth.wait_for_transaction_receipt(tx)
    safe = safes.read(web3, safe_address)
    assert safes.approvals(web3, safe, document.safe_tx) == [owners[1].address]
    execute(program, safe, document.safe_tx, document.signatures, [owners[1].address],
            accounts[4], Said())  # fmt: skip
    assert program.escrow.course(41).active is True


def test_an_edited_safe_transaction_file_is_refused(program, safe_address, owners, tmp_path):
    path = tmp_path / "edited.json"
    change = program.set_course(42, 1, 0)
    carry_out(program, [change], Sending(owners[0], safe_address, safe_tx_file=path, yes=True))
    content = json.loads(path.read_text())
    content["safeTx"]["to"] = safe_address
    path.write_text(json.dumps(content))
    with pytest.raises(SafeFileError, match="changed after it was made"):
        safe_file.read(path)
    # Recomputing the hash leaves the signature pointing at someone else.
    document = safe_file.SafeTxFile(
        safes.SafeTx.from_fields(safe_address, content["chainId"], content["safeTx"]),
        content["escrow"],
    )
    content["safeTxHash"] = document.safe_tx.hash_hex
    path.write_text(json.dumps(content))
    with pytest.raises(SafeFileError, match="was made by"):
        safe_file.read(path)


def test_a_safe_transaction_file_is_never_overwritten(program, safe_address, owners, tmp_path):
    path = tmp_path / "once.json"
    path.write_text("{}")
    with pytest.raises(SafeError, match="exists already"):
        carry_out(
            program,
            [program.set_course(43, 1, 0)],
            Sending(owners[0], safe_address, safe_tx_file=path, yes=True),
        )
    assert path.read_text() == "{}"


def test_short_of_the_threshold_it_says_how_to_gather_signatures(program, safe_address, owners):
    with pytest.raises(SafeError, match="1 of 2 signatures here: write a Safe transaction file"):
        carry_out(
            program, [program.set_course(44, 1, 0)], Sending(owners[0], safe_address, yes=True)
        )


def test_the_guardian_pauses_alone_and_only_the_safe_unpauses(
    program, safe_address, owners, guardian
):
    program.apply([program.pause()], guardian)
    assert program.escrow.paused() is True
    with pytest.raises(ItgenError, match="AccessControl|role"):
        program.apply([program.unpause()], guardian)
    carry_out(program, [program.unpause()], Sending(owners[1], safe_address, [owners[2]], yes=True))
    assert program.escrow.paused() is False


def test_a_stolen_guardian_key_is_revoked_through_the_safe(
    program, safe_address, owners, guardian, accounts
):
    carry_out(
        program, [program.revoke_guardian(guardian.address)], two_owners(owners, safe_address)
    )
    with pytest.raises(ItgenError, match="does not hold the role"):
        program.apply([program.pause()], guardian)
    with pytest.raises(AdminError, match="not a guardian"):
        program.revoke_guardian(guardian.address)
    carry_out(program, [program.set_guardian(guardian.address)], two_owners(owners, safe_address))
    assert program.escrow.hasRole(program.escrow.PAUSER_ROLE(), guardian.address)
    with pytest.raises(AdminError, match="a guardian already"):
        program.set_guardian(guardian.address)


def test_the_stolen_key_drill_is_one_safe_transaction(
    program, safe_address, owners, guardian, registrar, accounts, chain
):
    program.apply([program.pause()], guardian)
    new_key = accounts[9].address
    changes = [
        program.remove_registrar(registrar.address),
        program.set_registrar(new_key, 10**22),
        program.unpause(),
    ]
    start = nonce(chain, safe_address)
    shown = Said()
    carry_out(program, changes, Sending(owners[0], safe_address, [owners[2]], yes=True), shown)
    assert nonce(chain, safe_address) == start + 1
    assert "one delegate call to MultiSendCallOnly with 3 calls" in shown.text
    e = program.escrow
    assert not e.registrar(registrar.address).active and e.registrar(new_key).active
    assert e.paused() is False


def test_a_multisend_that_fails_only_as_a_whole_is_refused_before_signing(
    program, safe_address, owners, registrar, chain
):
    added = registrar.address
    twice = [program.remove_registrar(added)] * 2
    start = nonce(chain, safe_address)
    with pytest.raises(
        SafeError,
        match="call 2 of 2, removeRegistrar .*would revert.*not after the calls before it",
    ):
        carry_out(program, twice, two_owners(owners, safe_address))
    assert nonce(chain, safe_address) == start and program.escrow.registrar(added).active
    # Valid as a whole although the second call fails alone: add X, then remove X.
    x = "0x" + "5a" * 20
    both = [program.set_registrar(x, 10**18)]
    from itgen_chain.program import Change

    both.append(
        Change(
            f"remove registrar {x}", program.escrow.removeRegistrar, (safes.to_checksum_address(x),)
        )
    )
    carry_out(program, both, two_owners(owners, safe_address))
    assert nonce(chain, safe_address) == start + 1


def test_a_change_that_would_revert_from_the_safe_is_refused_before_signing(
    program, safe_address, owners, chain
):
    # The Safe is not the pauser: the guardian is.
    start = nonce(chain, safe_address)
    with pytest.raises(
        SafeError, match="pause on this program's escrow .* would revert: .* does not hold the role"
    ):
        carry_out(program, [program.pause()], two_owners(owners, safe_address))
    assert nonce(chain, safe_address) == start


def test_a_cosigner_who_is_not_an_owner_is_refused(program, safe_address, owners, accounts):
    with pytest.raises(SafeError, match="not an owner"):
        carry_out(
            program,
            [program.set_course(12, 1, 0)],
            Sending(owners[0], safe_address, [accounts[4]], yes=True),
        )


def test_an_address_without_a_safe_is_refused(program, chain):
    with pytest.raises(SafeError, match="no Safe at"):
        safes.read(chain.provider.web3, "0x" + "12" * 20)
    with pytest.raises(SafeError, match="neither an address"):
        safes.resolve("no-such-safe-alias")


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


# ------------------------------------------------------------ what owners are shown


def exported(program, safe_address, chain, tmp_path, change, name="batch.json"):
    batch = tx_builder.batch_file([change], chain.chain_id, safe_address, change.what)
    return tx_builder.write(tmp_path / name, batch), batch


def resealed(path, batch):
    """The file as an attacker leaves it: the checksum computed anew."""
    batch["meta"].pop("checksum", None)
    batch["meta"]["checksum"] = tx_builder.checksum(batch)
    path.write_text(json.dumps(batch))


def run_batch(program, path, chain, sending, shown):
    batch, calls = tx_builder.read(path, chain.chain_id)
    carry_out_calls(
        program, calls, sending, shown, said=batch["meta"]["description"], file_says=True
    )


def test_an_altered_export_that_adds_a_safe_owner_is_refused_and_shown(
    program, safe_address, owners, accounts, chain, tmp_path
):
    path, batch = exported(
        program, safe_address, chain, tmp_path, program.set_course(31, 100 * 10**18, 0)
    )
    web3 = chain.provider.web3
    safe_contract = web3.eth.contract(safe_address, abi=safes.abi("Safe"))
    attacker = accounts[4].address
    batch["transactions"][0] = {
        "to": safe_address, "value": "0",
        "data": safe_contract.encode_abi("addOwnerWithThreshold", [attacker, 1]),
    }  # fmt: skip
    resealed(path, batch)
    shown, start = Said(), nonce(chain, safe_address)
    with pytest.raises(CallRefused, match="calls the Safe itself \\(addOwnerWithThreshold\\)"):
        run_batch(program, path, chain, two_owners(owners, safe_address), shown)
    assert "the file says: 'set course 31" in shown.text
    assert f"the Safe itself {safe_address} . addOwnerWithThreshold" in shown.text
    assert f"owner: {attacker}" in shown.text and "_threshold: 1" in shown.text
    assert nonce(chain, safe_address) == start
    assert attacker not in safes.read(web3, safe_address).owners


def test_a_described_course_that_hands_the_admin_role_away_is_shown_as_it_is(
    program, safe_address, owners, chain, tmp_path
):
    path, batch = exported(program, safe_address, chain, tmp_path, program.set_course(6, 1, 0))
    handover = program.begin_admin_transfer("0x000000000000000000000000000000000000dEaD")
    batch["transactions"][0] = tx_builder.transaction(handover)
    resealed(path, batch)
    shown = Said()
    run_batch(program, path, chain, two_owners(owners, safe_address, dry_run=True), shown)
    assert "the file says: 'set course 6" in shown.text
    assert "this program's escrow" in shown.text and ". beginDefaultAdminTransfer" in shown.text
    assert "newAdmin: 0x000000000000000000000000000000000000dEaD" in shown.text
    assert "dry run" in shown.text


@pytest.mark.parametrize(
    "call, refusal",
    [
        (lambda p, a: safes.Call(p.escrow.address, 1, p.set_course(50, 1, 0).data), "sends 1 wei"),
        (
            lambda p, a: safes.Call(p.token.address, 0, p.token.transfer.encode_input(a, 5)),
            "--allow-target",
        ),
        (
            lambda p, a: safes.Call(p.escrow.address, 0, bytes.fromhex("deadbeef")),
            "unknown to the ABIs",
        ),
        (
            lambda p, a: safes.Call(p.escrow.address, 0, p.set_course(50, 1, 0).data, 1),
            "delegate call",
        ),
    ],
    ids=["value", "another-target", "unknown-selector", "delegatecall"],
)
def test_what_an_admin_batch_never_needs_is_refused(
    call, refusal, program, safe_address, owners, accounts, chain
):
    start = nonce(chain, safe_address)
    calls = [
        safes.Call(program.escrow.address, 0, program.set_course(51, 1, 0).data),
        call(program, accounts[3].address),
    ]
    with pytest.raises(CallRefused, match=f"call 2: .*{refusal}"):
        carry_out_calls(program, calls, two_owners(owners, safe_address), Said())
    assert nonce(chain, safe_address) == start


def test_a_delegate_call_to_anything_but_multisend_is_refused(program, safe_address, owners, chain):
    safe = safes.read(chain.provider.web3, safe_address)
    rogue = safes.SafeTx(
        safe.address, safe.chain_id, program.escrow.address, 0, b"\x01\x02\x03\x04", 1, safe.nonce
    )
    with pytest.raises(CallRefused, match="delegate-call"):
        from itgen_chain.signers import check

        check(program, safe, rogue, frozenset(), Said())


def test_another_target_passes_when_allowed(program, safe_address, owners, accounts, chain):
    program.token.mint(safe_address, 5, sender=accounts[0])
    call = safes.Call(
        program.token.address, 0, bytes(program.token.transfer.encode_input(accounts[3].address, 5))
    )
    before = program.token.balanceOf(accounts[3].address)
    shown = Said()
    carry_out_calls(
        program,
        [call],
        two_owners(owners, safe_address, allow_targets=frozenset({program.token.address})),
        shown,
    )
    assert program.token.balanceOf(accounts[3].address) == before + 5
    assert "the scholarship token" in shown.text and ". transfer" in shown.text


def test_data_and_contract_method_that_disagree_are_refused(program, safe_address, chain, tmp_path):
    path, batch = exported(program, safe_address, chain, tmp_path, program.set_course(4, 1, 0))
    batch["transactions"][0]["data"] = "0x" + program.set_course(5, 1, 0).data.hex()
    resealed(path, batch)
    with pytest.raises(SafeFileError, match="disagree"):
        tx_builder.read(path, chain.chain_id)


def test_data_comes_first_as_in_the_app(program, safe_address, chain, tmp_path):
    path, batch = exported(program, safe_address, chain, tmp_path, program.set_course(4, 1, 0))
    del batch["transactions"][0]["contractMethod"]
    resealed(path, batch)
    _, calls = tx_builder.read(path, chain.chain_id)
    assert calls[0].data == program.set_course(4, 1, 0).data


def test_a_file_without_a_checksum_is_refused(program, safe_address, chain, tmp_path):
    path, batch = exported(program, safe_address, chain, tmp_path, program.set_course(4, 1, 0))
    del batch["meta"]["checksum"]
    path.write_text(json.dumps(batch))
    with pytest.raises(SafeFileError, match="no checksum"):
        tx_builder.read(path, chain.chain_id)


def test_values_are_read_the_way_the_app_writes_them():
    address = "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6"
    tuple_param = {"name": "t", "type": "tuple", "components": [
        {"name": "a", "type": "uint256"}, {"name": "b", "type": "bool"}, {"name": "c", "type": "address[]"}]}  # fmt: skip
    assert tx_builder._parse({"name": "n", "type": "uint256"}, "0x1f") == 31
    assert tx_builder._parse({"name": "n", "type": "uint256"}, "31") == 31
    assert tx_builder._parse({"name": "b", "type": "bool"}, "True") is True
    assert tx_builder._parse({"name": "l", "type": "uint256[]"}, '["1","0x2",3]') == [1, 2, 3]
    assert tx_builder._parse(tuple_param, f'["0x10", "false", ["{address.lower()}"]]') == (
        16,
        False,
        [address],
    )
    assert tx_builder._value(tuple_param, (16, False, [address])) == f'["16","false",["{address}"]]'


def test_an_export_is_never_overwritten_and_appends_into_one_drill(
    program, safe_address, owners, guardian, registrar, accounts, chain, tmp_path
):
    from itgen_chain.signers import carry_out as send

    path = tmp_path / "drill.json"
    program.apply([program.pause()], guardian)
    new_key = accounts[8].address
    send(
        program,
        [program.remove_registrar(registrar.address)],
        Sending(safe=safe_address, tx_builder=path),
    )
    with pytest.raises(SafeError, match="exists already"):
        send(
            program,
            [program.set_registrar(new_key, 10**21)],
            Sending(safe=safe_address, tx_builder=path),
        )
    send(
        program,
        [program.set_registrar(new_key, 10**21)],
        Sending(safe=safe_address, tx_builder=path, append=True),
    )
    send(program, [program.unpause()], Sending(safe=safe_address, tx_builder=path, append=True))
    batch, calls = tx_builder.read(path, chain.chain_id)
    assert [t["contractMethod"]["name"] for t in batch["transactions"]] == [
        "removeRegistrar",
        "setRegistrar",
        "unpause",
    ]
    run_batch(program, path, chain, two_owners(owners, safe_address), Said())
    assert program.escrow.paused() is False and program.escrow.registrar(new_key).active


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


def test_a_changed_export_is_refused(program, safe_address, tmp_path, chain):
    path, batch = exported(program, safe_address, chain, tmp_path, program.set_course(22, 1, 0))
    batch["transactions"][0]["contractInputsValues"]["registrationAmount"] = "999"
    path.write_text(json.dumps(batch))
    with pytest.raises(SafeFileError, match="checksum does not match"):
        tx_builder.read(path, chain.chain_id)
    with pytest.raises(SafeFileError, match="made for chain"):
        tx_builder.read(path, 56)


SAFE_CLI_PYTHON = Path(__file__).resolve().parents[2] / ".venv-safe-cli" / "bin" / "python"


@pytest.mark.skipif(not SAFE_CLI_PYTHON.exists(), reason="safe-cli not installed: make safe-cli")
def test_safe_cli_reads_our_files_as_we_do(
    program, safe_address, accounts, guardian, chain, tmp_path
):
    """safe-cli 1.9.0 (in its own venv) and this tool read the same calls from our export,
    from its calldata and, with the calldata removed, from the method and its inputs."""
    import subprocess

    changes = [
        program.set_course(61, 12_345_678, 9 * 10**18),
        program.set_registrar(accounts[9].address, 10**21),
        program.revoke_guardian(guardian.address),
        program.unpause() if program.escrow.paused() else program.deactivate_course(1),
    ]
    batch = tx_builder.batch_file(changes, chain.chain_id, safe_address, "safe-cli")
    without_data = json.loads(json.dumps(batch))
    for item in without_data["transactions"]:
        item["data"] = None
    reader = (
        "import json, sys\n"
        "from safe_cli.tx_builder.tx_builder_file_decoder import convert_to_proposed_transactions\n"
        "batch = json.load(open(sys.argv[1]))\n"
        "print(json.dumps([[t.to, str(t.value), t.data] for t in convert_to_proposed_transactions(batch)]))\n"
    )
    for content in (batch, without_data):
        path = tmp_path / "for-safe-cli.json"
        path.write_text(json.dumps(content))
        theirs = json.loads(
            subprocess.run(
                [str(SAFE_CLI_PYTHON), "-c", reader, str(path)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        ours = [
            [c.to, str(c.value), "0x" + c.data.hex()]
            for c in (tx_builder._call(t) for t in content["transactions"])
        ]
        assert [[to, value, data.lower()] for to, value, data in theirs] == ours
