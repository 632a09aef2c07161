"""The operator commands' work on anvil: attest from a roster, sign and relay, resume."""

from __future__ import annotations

import json

import pytest
from shared import UNIT, wallet, write_roster

from itgen_chain import jobs
from itgen_chain.exceptions import RosterError
from itgen_chain.journal import Journal
from itgen_chain.payouts import Payouts
from itgen_chain.roster import read_roster


@pytest.fixture
def program(new_program):
    return new_program(10_000, 5_000, [(1, 450, 50, True, 0), (2, 300, 0, False, 0)])


def test_bad_rows_are_all_reported_with_row_and_field(tmp_path):
    from eth_utils import to_checksum_address

    good = wallet(1)
    bad_checksum = good[:2] + good[2:].swapcase() if good != good.lower() else good
    bad_checksum = to_checksum_address(good).replace("C", "c", 1).replace("a", "A", 1)
    path = write_roster(
        tmp_path / "r.csv",
        [
            ["s-1", "0x123", "1", "registration"],
            ["s-2", bad_checksum, "1", "registration"],
            ["s-3", "0x" + "00" * 20, "1", "registration"],
            ["s-4", wallet(4), "1", "graduation"],
            ["s-5", wallet(5), "one", "registration"],
            ["S-6", wallet(6), "1", "registration"],
            [" s-6 ", wallet(7), "1", "registration"],
        ],
    )
    with pytest.raises(RosterError) as caught:
        read_roster(path, b"salt")
    found = {(e.row, e.field) for e in caught.value.errors}
    assert found == {
        (2, "payee"),
        (3, "payee"),
        (4, "payee"),
        (5, "milestone"),
        (6, "course"),
        (8, "student_ref"),
    }
    assert "s-6" not in str(caught.value).lower()  # no student reference in messages


def test_chain_checks_report_course_payee_and_allowance(program, tmp_path):
    escrow, token, registrar, _ = program
    path = write_roster(
        tmp_path / "r.csv",
        [
            ["a", wallet(1), "2", "registration"],
            ["b", wallet(2), "9", "registration"],
            ["c", escrow.address, "1", "registration"],
            ["d", token.address, "1", "registration"],
        ]
        + [[f"x{n}", wallet(10 + n), "1", "registration"] for n in range(12)],
    )
    with pytest.raises(RosterError) as caught:
        jobs.attest(path, registrar, batch_size=10, dry_run=False, yes=True)
    found = {(e.row, e.field) for e in caught.value.errors}
    assert {(2, "course"), (3, "course"), (4, "payee"), (5, "payee"), (0, "total")} <= found
    assert token.balanceOf(wallet(10)) == 0


def test_attest_pays_then_a_second_run_pays_nobody_twice(program, tmp_path):
    escrow, token, registrar, _ = program
    rows = [[f"student-{n}", wallet(n), "1", "registration"] for n in range(7)]
    path = write_roster(tmp_path / "r.csv", rows)
    plan = jobs.attest(path, registrar, batch_size=3, dry_run=False, yes=True, echo=lambda *_: None)
    assert len(plan.to_send) == 7
    again = jobs.attest(
        path, registrar, batch_size=3, dry_run=False, yes=True, echo=lambda *_: None
    )
    assert again.to_send == [] and len(again.skipped) == 7
    assert sum(token.balanceOf(wallet(n)) for n in range(7)) == 7 * 450 * UNIT
    assert escrow.registrar(registrar).released == 7 * 450 * UNIT


def test_dry_run_sends_nothing(program, tmp_path):
    escrow, token, registrar, _ = program
    path = write_roster(tmp_path / "r.csv", [["a", wallet(1), "1", "registration"]])
    said = []
    jobs.attest(path, registrar, batch_size=3, dry_run=True, yes=True, echo=said.append)
    assert token.balanceOf(wallet(1)) == 0
    assert any("dry run" in line and "gas" in line for line in said)


@pytest.mark.parametrize(
    "broadcast", [False, True], ids=["killed-before-send", "killed-before-receipt"]
)
def test_run_killed_mid_batch_resumes_without_double_payment(program, tmp_path, chain, broadcast):
    """A run journals a batch, then dies before broadcasting it (or before its receipt)."""
    escrow, token, registrar, record = program
    path = write_roster(
        tmp_path / "r.csv", [[f"k-{n}", wallet(n), "1", "registration"] for n in range(5)]
    )
    client = Payouts(escrow, token, chain.provider)
    plan = client.plan(str(path), read_roster(path, record.salt), registrar.address)
    journal = Journal.for_run(chain.chain_id, escrow.address, registrar.address, record.salt_id)
    first = plan.batches(2)[0]
    nonce = chain.provider.web3.eth.get_transaction_count(registrar.address)
    txn = escrow.attestBatch.as_transaction(
        [i.as_call_argument() for i in first], sender=registrar, nonce=nonce
    )
    raw = registrar.sign_transaction(txn).serialize_transaction()
    from eth_utils import keccak

    journal.append(
        event="sending",
        hash="0x" + keccak(raw).hex(),
        nonce=nonce,
        sender=registrar.address,
        raw=raw.hex(),
        items=[],
    )
    if broadcast:
        chain.provider.web3.eth.send_raw_transaction(raw)
    jobs.attest(path, registrar, batch_size=2, dry_run=False, yes=True, echo=lambda *_: None)
    assert [token.balanceOf(wallet(n)) for n in range(5)] == [450 * UNIT] * 5
    assert escrow.registrar(registrar).released == 5 * 450 * UNIT
    assert journal.unsettled() == []


def test_relay_rejects_a_file_with_one_forged_signature(program, tmp_path, accounts):
    escrow, token, registrar, _ = program
    path = write_roster(
        tmp_path / "r.csv", [[f"r-{n}", wallet(n), "1", "registration"] for n in range(4)]
    )
    signed = tmp_path / "signed.json"
    jobs.sign(path, registrar, signed, valid_days=10, echo=lambda *_: None)
    document = json.loads(signed.read_text())
    document["attestations"][2]["message"]["payee"] = accounts[7].address  # redirected to a thief
    signed.write_text(json.dumps(document))
    with pytest.raises(RosterError) as caught:
        jobs.relay(signed, accounts[8], batch_size=10, dry_run=False, yes=True)
    assert [(e.row, e.field) for e in caught.value.errors] == [(4, "signature")]
    assert all(token.balanceOf(wallet(n)) == 0 for n in range(4))


def test_relay_pays_a_signed_file_as_the_signing_registrar(program, tmp_path, accounts):
    escrow, token, registrar, _ = program
    path = write_roster(
        tmp_path / "r.csv", [[f"g-{n}", wallet(n), "1", "registration"] for n in range(4)]
    )
    signed = tmp_path / "signed.json"
    jobs.sign(path, registrar, signed, valid_days=10, echo=lambda *_: None)
    assert "g-1" not in signed.read_text()
    jobs.relay(signed, accounts[8], batch_size=3, dry_run=False, yes=True, echo=lambda *_: None)
    assert escrow.registrar(registrar).released == 4 * 450 * UNIT


def test_relay_refuses_a_file_signed_in_the_registrars_earlier_term(
    program, tmp_path, accounts, chain
):
    """The registrar expired after signing and was given a new term: its old file is void."""
    escrow, token, registrar, record = program
    path = write_roster(
        tmp_path / "r.csv", [[f"e-{n}", wallet(n), "1", "registration"] for n in range(3)]
    )
    now = chain.pending_timestamp
    escrow.setRegistrar(registrar, 5_000 * UNIT, now + 86_400, 0, sender=accounts[0])
    signed = tmp_path / "signed.json"
    jobs.sign(path, registrar, signed, valid_days=10, echo=lambda *_: None)
    chain.pending_timestamp = now + 2 * 86_400
    escrow.setRegistrar(registrar, 5_000 * UNIT, record.program_end, 0, sender=accounts[0])
    with pytest.raises(RosterError) as caught:
        jobs.relay(signed, accounts[8], batch_size=10, dry_run=False, yes=True)
    assert [(e.row, e.field) for e in caught.value.errors] == [
        (2, "signature"),
        (3, "signature"),
        (4, "signature"),
    ]
    assert "signed in epoch 1" in str(caught.value) and "now in epoch 2" in str(caught.value)
    assert all(token.balanceOf(wallet(n)) == 0 for n in range(3))


def test_relay_refuses_a_file_of_a_removed_registrar(program, tmp_path, accounts):
    escrow, token, registrar, _ = program
    path = write_roster(tmp_path / "r.csv", [["g-0", wallet(0), "1", "registration"]])
    signed = tmp_path / "signed.json"
    jobs.sign(path, registrar, signed, valid_days=10, echo=lambda *_: None)
    escrow.removeRegistrar(registrar, sender=accounts[0])
    with pytest.raises(RosterError) as caught:
        jobs.relay(signed, accounts[8], batch_size=10, dry_run=False, yes=True)
    assert [(e.row, e.field) for e in caught.value.errors] == [(2, "signature")]
    assert token.balanceOf(wallet(0)) == 0


def test_relay_reports_an_item_someone_paid_first_as_skipped(
    program, tmp_path, accounts, monkeypatch
):
    """A watcher copies one signed item and sends it before the relayer's batch is mined:
    the batch pays the others and the command names the skipped row."""
    escrow, token, registrar, _ = program
    path = write_roster(
        tmp_path / "r.csv", [[f"f-{n}", wallet(n), "1", "registration"] for n in range(4)]
    )
    signed = tmp_path / "signed.json"
    jobs.sign(path, registrar, signed, valid_days=10, echo=lambda *_: None)
    send = Payouts.send

    def front_run_then_send(self, plan, *args, **kwargs):
        escrow.attestBySig(plan.to_send[2].as_call_argument(), sender=accounts[7])
        return send(self, plan, *args, **kwargs)

    monkeypatch.setattr(Payouts, "send", front_run_then_send)
    said = []
    plan = jobs.relay(signed, accounts[8], batch_size=10, dry_run=False, yes=True, echo=said.append)
    assert plan.skipped_on_chain == [4]
    assert "paid 3 in 1 transaction(s)" in said
    assert "1 skipped by the escrow, paid meanwhile by another transaction: row(s) 4" in said
    assert all(token.balanceOf(wallet(n)) == 450 * UNIT for n in range(4))
    assert escrow.registrar(registrar).released == 4 * 450 * UNIT


def signed_document(program, tmp_path, rows: int = 3):
    escrow, token, registrar, _ = program
    path = write_roster(
        tmp_path / "r.csv", [[f"s-{n}", wallet(n), "1", "registration"] for n in range(rows)]
    )
    signed = tmp_path / "signed.json"
    jobs.sign(path, registrar, signed, valid_days=10, echo=lambda *_: None)
    return signed, json.loads(signed.read_text())


def test_the_signed_file_is_typed_data_any_eip712_tool_verifies(program, tmp_path):
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    _, _, registrar, _ = program
    _, document = signed_document(program, tmp_path)
    for entry in document["attestations"]:
        typed = {key: document[key] for key in ("types", "primaryType", "domain")}
        message = encode_typed_data(full_message={**typed, "message": entry["message"]})
        assert Account.recover_message(message, signature=entry["signature"]) == registrar.address
        assert entry["message"]["milestone"] == 0


@pytest.mark.parametrize("v", [0, 1, 35, 36])
def test_relay_refuses_a_signature_v_the_escrow_refuses(program, tmp_path, accounts, v):
    escrow, token, _, _ = program
    signed, document = signed_document(program, tmp_path)
    signature = bytes.fromhex(document["attestations"][1]["signature"][2:])
    document["attestations"][1]["signature"] = "0x" + (signature[:64] + bytes([v])).hex()
    signed.write_text(json.dumps(document))
    with pytest.raises(RosterError) as caught:
        jobs.relay(signed, accounts[8], batch_size=10, dry_run=False, yes=True)
    assert [(e.row, e.field) for e in caught.value.errors] == [(3, "signature")]
    assert "27 or 28" in str(caught.value)
    assert token.balanceOf(wallet(0)) == 0


def test_relay_refuses_repeated_rows_and_students_and_takes_numeric_milestones(
    program, tmp_path, accounts
):
    escrow, token, _, _ = program
    signed, document = signed_document(program, tmp_path)
    entries = document["attestations"]
    document["attestations"] = [*entries, dict(entries[0]), {**entries[1], "row": 99}]
    signed.write_text(json.dumps(document))
    with pytest.raises(RosterError) as caught:
        jobs.relay(signed, accounts[8], batch_size=10, dry_run=False, yes=True)
    assert [(e.row, e.field) for e in caught.value.errors] == [(2, "row"), (99, "message")]
    document["attestations"] = entries  # numeric milestones, as signed: paid
    signed.write_text(json.dumps(document))
    jobs.relay(signed, accounts[8], batch_size=10, dry_run=False, yes=True, echo=print)
    assert token.balanceOf(wallet(2)) == 450 * UNIT


def test_sign_leaves_out_rows_already_paid_and_says_how_many(program, tmp_path):
    escrow, token, registrar, _ = program
    path = write_roster(
        tmp_path / "r.csv", [[f"k-{n}", wallet(n), "1", "registration"] for n in range(4)]
    )
    jobs.attest(path, registrar, batch_size=2, dry_run=False, yes=True, echo=lambda *_: None)
    more = write_roster(
        tmp_path / "more.csv", [[f"k-{n}", wallet(n), "1", "registration"] for n in range(6)]
    )
    said = []
    count = jobs.sign(more, registrar, tmp_path / "s.json", valid_days=5, echo=said.append)
    assert count == 2 and "4 row(s) already paid, not signed" in said


def test_a_torn_last_journal_line_is_reported_and_ignored(program, tmp_path):
    escrow, token, registrar, record = program
    path = write_roster(
        tmp_path / "r.csv", [[f"t-{n}", wallet(n), "1", "registration"] for n in range(3)]
    )
    journal = Journal.for_run(
        escrow.provider.chain_id, escrow.address, registrar.address, record.salt_id
    )
    journal.append(event="settled", hash="0x01", status="mined")
    with journal.path.open("a") as handle:
        handle.write('{"event": "sending", "hash": "0xab", "no')  # killed mid-write
    said = []
    jobs.attest(path, registrar, batch_size=2, dry_run=False, yes=True, echo=said.append)
    assert any("line(s) 2 torn by an interrupted write, ignored" in line for line in said)
    assert [token.balanceOf(wallet(n)) for n in range(3)] == [450 * UNIT] * 3
    assert all(json.loads(line) for line in journal.path.read_text().splitlines()[2:])


def test_a_journalled_transaction_the_node_refuses_does_not_wedge_later_runs(
    program, tmp_path, accounts, chain
):
    """The node refuses the journalled bytes for good (here: more value than the sender
    holds) while their nonce is unused: the run records them as rejected and pays."""
    from eth_account import Account
    from eth_utils import keccak

    escrow, token, registrar, record = program
    path = write_roster(
        tmp_path / "r.csv", [[f"w-{n}", wallet(n), "1", "registration"] for n in range(4)]
    )
    journal = Journal.for_run(chain.chain_id, escrow.address, registrar.address, record.salt_id)
    nonce = chain.provider.web3.eth.get_transaction_count(registrar.address)
    refused = {"to": accounts[9].address, "value": 10**30, "gas": 21_000, "gasPrice": 10**9,
               "nonce": nonce, "chainId": chain.chain_id, "data": "0x"}  # fmt: skip
    raw = Account.sign_transaction(refused, registrar.private_key).raw_transaction
    journal.append(
        event="sending", hash="0x" + keccak(raw).hex(), nonce=nonce, sender=registrar.address,
        raw=raw.hex(), items=[],
    )  # fmt: skip
    for _ in range(2):  # the second run finds nothing left to settle
        jobs.attest(path, registrar, batch_size=3, dry_run=False, yes=True, echo=print)
    assert [token.balanceOf(wallet(n)) for n in range(4)] == [450 * UNIT] * 4
    assert journal.unsettled() == []
    assert any('"rejected: ' in line for line in journal.path.read_text().splitlines())


def test_a_keystore_registrar_confirms_once_and_sees_no_warning_per_row(
    program, tmp_path, accounts, monkeypatch, capfd
):
    """A registrar's real key lives in ape's encrypted keystore."""
    from ape_accounts import import_account_from_private_key

    escrow, token, registrar, record = program
    alias = f"itgen-test-{registrar.address[2:8].lower()}"
    keystore = import_account_from_private_key(alias, "a passphrase", registrar.private_key)
    try:
        monkeypatch.setenv(f"APE_ACCOUNTS_{alias}_PASSPHRASE", "a passphrase")
        asked = []
        path = write_roster(
            tmp_path / "r.csv", [[f"ks-{n}", wallet(n), "1", "registration"] for n in range(6)]
        )
        capfd.readouterr()
        count = jobs.sign(
            path,
            keystore,
            tmp_path / "s.json",
            valid_days=5,
            echo=print,
            confirm=lambda text: asked.append(text) or True,
        )
        said = capfd.readouterr()
        assert count == 6 and asked == [f"Sign 6 attestation(s) with {alias}?"]
        assert "Using cached key" not in said.out + said.err
    finally:
        keystore.keyfile_path.unlink()


def _rogue_pays_first(escrow, record, rogue, reference, wallet_to):
    """A rogue (or stolen) registrar key pays a student of an honest roster to its own wallet."""
    from itgen_chain.attestations import Attestation, Milestone
    from itgen_chain.roster import student_id

    sid = student_id(record.salt, reference, rule=record.reference_rule)
    att = Attestation(sid, wallet_to, 1, Milestone.REGISTRATION)
    return escrow.attestBatch([att.as_tuple()], sender=rogue)


@pytest.fixture
def rogue(program, accounts, chain):
    escrow, _, _, _ = program
    admin, rogue = accounts[0], accounts[5]
    escrow.setRegistrar(rogue, 5_000 * UNIT, escrow.programEnd(), 0, sender=admin)
    return rogue


def test_a_claim_jump_before_the_run_is_listed_and_fails_the_run(program, rogue, tmp_path):
    from itgen_chain.exceptions import ClaimJumped

    escrow, token, registrar, record = program
    rows = [[f"student-{n}", wallet(n), "1", "registration"] for n in range(3)]
    path = write_roster(tmp_path / "r.csv", rows)
    stolen = _rogue_pays_first(escrow, record, rogue, "Student-1", rogue.address)
    said = []
    with pytest.raises(ClaimJumped) as caught:
        jobs.attest(path, registrar, batch_size=3, dry_run=False, yes=True, echo=said.append)
    # The honest rows are paid; the jumped one is named with who paid and where.
    assert token.balanceOf(wallet(0)) == token.balanceOf(wallet(2)) == 450 * UNIT
    assert token.balanceOf(wallet(1)) == 0
    line = next(line for line in said if "PAID TO ANOTHER WALLET" in line)
    assert line.startswith("row 3:") and rogue.address in line and stolen.txn_hash in line
    assert "row(s) 3" in str(caught.value)
    # A rerun and a dry run say it again, and fail again.
    for dry_run in (True, False):
        with pytest.raises(ClaimJumped):
            jobs.attest(path, registrar, batch_size=3, dry_run=dry_run, yes=True)


def test_a_claim_jump_while_the_batch_waits_is_listed(program, rogue, tmp_path):
    from itgen_chain.exceptions import ClaimJumped

    escrow, token, registrar, record = program
    path = write_roster(
        tmp_path / "r.csv",
        [["a", wallet(1), "1", "registration"], ["b", wallet(2), "1", "registration"]],
    )

    def confirm(question):  # the rogue lands between the plan and the batch
        _rogue_pays_first(escrow, record, rogue, "b", rogue.address)
        return True

    said = []
    with pytest.raises(ClaimJumped):
        jobs.attest(
            path,
            registrar,
            batch_size=5,
            dry_run=False,
            yes=False,
            confirm=confirm,
            echo=said.append,
        )
    assert any("skipped by the escrow" in line for line in said)
    assert any(line.startswith("row 3: PAID TO ANOTHER WALLET") for line in said)
    assert token.balanceOf(wallet(1)) == 450 * UNIT


def test_the_same_payment_by_the_same_registrar_is_no_claim_jump(program, tmp_path):
    escrow, token, registrar, record = program
    path = write_roster(tmp_path / "r.csv", [["a", wallet(1), "1", "registration"]])
    jobs.attest(path, registrar, batch_size=3, dry_run=False, yes=True)
    again = jobs.attest(path, registrar, batch_size=3, dry_run=False, yes=True)
    assert again.skipped == [2] and again.claim_jumps == []


def test_sign_lists_a_claim_jump_and_refuses_an_empty_file(program, rogue, tmp_path):
    from itgen_chain.exceptions import ClaimJumped, ItgenError

    escrow, token, registrar, record = program
    path = write_roster(tmp_path / "r.csv", [["a", wallet(1), "1", "registration"]])
    _rogue_pays_first(escrow, record, rogue, "a", rogue.address)
    out = tmp_path / "signed.json"
    with pytest.raises(ClaimJumped):
        jobs.sign(path, registrar, out, valid_days=3, yes=True)
    assert not out.exists()
    empty = write_roster(tmp_path / "empty.csv", [])
    with pytest.raises(ItgenError, match="nothing to sign"):
        jobs.sign(empty, registrar, out, valid_days=3, yes=True)
    assert not out.exists()


def test_a_registrar_attests_by_escrow_address_and_salt_file_alone(program, tmp_path):
    """No deployment record: the escrow by address, the salt file the admin handed over."""
    import shutil

    from itgen_chain import records
    from itgen_chain.exceptions import DeploymentError

    escrow, token, registrar, record = program
    handed = tmp_path / "registrar.salt"
    shutil.copy(records.salt_path(record.ecosystem, record.network, record.program), handed)
    assert f"escrow={record.escrow}" in handed.read_text()
    records.path_for(record.ecosystem, record.network).unlink()  # not on this machine
    path = write_roster(tmp_path / "r.csv", [["a", wallet(1), "1", "registration"]])
    jobs.attest(path, registrar, batch_size=3, dry_run=False, yes=True,
                escrow=record.escrow, salt_file=handed)  # fmt: skip
    assert token.balanceOf(wallet(1)) == 450 * UNIT
    with pytest.raises(DeploymentError, match="--salt-file"):
        jobs.attest(path, registrar, batch_size=3, dry_run=True, yes=True, escrow=record.escrow)
    other = tmp_path / "other.salt"
    other.write_text("0x" + "11" * 32 + "\nescrow=0x" + "22" * 20 + "\n")
    with pytest.raises(DeploymentError, match="is the salt of escrow"):
        jobs.attest(path, registrar, batch_size=3, dry_run=True, yes=True,
                    escrow=record.escrow, salt_file=other)  # fmt: skip


def test_relay_lists_a_claim_jump_against_the_signer(program, rogue, tmp_path, accounts):
    from itgen_chain.exceptions import ClaimJumped

    escrow, token, registrar, record = program
    path = write_roster(
        tmp_path / "r.csv",
        [["a", wallet(1), "1", "registration"], ["b", wallet(2), "1", "registration"]],
    )
    signed = tmp_path / "signed.json"
    jobs.sign(path, registrar, signed, valid_days=3, yes=True)
    _rogue_pays_first(escrow, record, rogue, "a", rogue.address)
    said = []
    with pytest.raises(ClaimJumped):
        jobs.relay(signed, accounts[6], batch_size=5, dry_run=False, yes=True, echo=said.append)
    assert token.balanceOf(wallet(2)) == 450 * UNIT
    assert any(line.startswith("row 2: PAID TO ANOTHER WALLET") and rogue.address in line
               for line in said)  # fmt: skip


def test_the_programs_reference_pattern_in_the_config_applies_by_default(
    program, tmp_path, monkeypatch
):
    from itgen_chain import config

    escrow, token, registrar, record = program
    configured = config.ItgenConfig(reference_patterns={"main": r"ua-\d{4}"})
    monkeypatch.setattr(config, "settings", lambda: configured)
    path = write_roster(
        tmp_path / "r.csv",
        [["UA-2026", wallet(1), "1", "registration"], ["Olena", wallet(2), "1", "registration"]],
    )
    with pytest.raises(RosterError, match="reference pattern") as caught:
        jobs.attest(path, registrar, batch_size=3, dry_run=True, yes=True)
    assert [(e.row, e.field) for e in caught.value.errors] == [(3, "student_ref")]
    # --reference-pattern given on the command line wins.
    jobs.attest(path, registrar, batch_size=3, dry_run=True, yes=True, pattern=r"[a-z0-9-]+")
