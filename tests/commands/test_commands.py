"""The commands as a user runs them, in-process (click's CliRunner) against the session's
anvil: what each says, what it sends and what it refuses."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from shared import DONOR, REGISTRAR, refusal, setup_program, token_call, wallet, write_roster

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # devtools: the provider stand-in and Safe deployment


@contextlib.contextmanager
def explorer_stand_in():
    """A loopback HTTP server answering verifysourcecode and checkverifystatus the way
    Etherscan's API does; yields its URL and the forms posted to it."""
    import threading
    import urllib.parse
    from http.server import BaseHTTPRequestHandler, HTTPServer

    posted: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, result: str) -> None:
            body = json.dumps({"status": "1", "message": "OK", "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802
            length = int(self.headers["Content-Length"])
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            posted.append({key: values[0] for key, values in form.items()})
            self._answer("guid-1")

        def do_GET(self):  # noqa: N802
            self._answer("Pass - Verified")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v2/api?chainid=31337", posted
    finally:
        server.shutdown()


def balance(itgen, token: str, who: str) -> int:
    return token_call(itgen.web3, token, "balanceOf(address)", who)


def deployment(itgen, ecosystem: str = "ethereum") -> dict:
    return json.loads((itgen.records / f"{ecosystem}-local.json").read_text())


def escrow_state(itgen, record) -> tuple[int, int]:
    """The escrow's balance and the admin's nonce: unchanged when nothing was sent."""
    admin = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    return balance(itgen, record["token"], record["escrow"]), itgen.web3.eth.get_transaction_count(
        admin
    )


def test_a_whole_program_through_the_commands(itgen, tmp_path):
    record = setup_program(itgen)
    token = record["token"]
    assert balance(itgen, token, record["escrow"]) == 50_000 * 10**18
    dry = itgen("fund", "10", "--account", "TEST::1", "--dry-run")
    assert (
        "dry run: 2 transaction(s), about" in dry.stdout and "nothing sent" in dry.stdout
    )  # approve + fund
    assert balance(itgen, token, record["escrow"]) == 50_000 * 10**18
    outliving = itgen(
        "registrars", "add", wallet(999), "--allowance", "1", "--expiry", "2030-06-01",
        "--account", "TEST::0", "--yes", check=False,
    )  # fmt: skip
    assert outliving.returncode == 1 and (
        "Error: expiry 2030-06-01 00:00:00 UTC is after the program end 2030-01-01 00:00:00 UTC"
        in outliving.stdout + outliving.stderr
    )
    itgen("registrars", "add", wallet(998), "--allowance", "1", "--account", "TEST::0", "--yes")
    listing = itgen("registrars", "list")
    assert (
        REGISTRAR in listing.stdout
        and "400,000.00" in listing.stdout
        and "active" in listing.stdout
    )
    added = next(line for line in listing.stdout.splitlines() if line.startswith(wallet(998)))
    assert added.endswith(
        "expiry 1893456000  epoch 1  provider 0  active"
    )  # the program end, 2030-01-01
    courses = itgen("courses", "list").stdout.splitlines()
    assert any(
        "course     1" in line and "450.00" in line and "12.50" in line and " active" in line
        for line in courses
    )
    assert any("course     2" in line and "inactive" in line for line in courses)

    good = wallet(1)
    letter = next(i for i, c in enumerate(good) if i > 1 and c.isalpha())
    wrong_checksum = good[:letter] + good[letter].swapcase() + good[letter + 1 :]
    bad = write_roster(
        tmp_path / "bad.csv",
        [
            ["a", wallet(1), "1", "registration"],  # row 2: fine
            ["b", "0x12", "1", "registration"],  # 3: malformed address
            ["c", wrong_checksum, "1", "registration"],  # 4: wrong checksum
            ["d", "0x" + "00" * 20, "1", "registration"],  # 5: zero address
            ["e", record["escrow"], "1", "registration"],  # 6: the escrow
            ["f", record["token"], "1", "registration"],  # 7: the token
            ["g", wallet(8), "9", "registration"],  # 8: unknown course
            ["h", wallet(9), "2", "registration"],  # 9: inactive course
            ["i", wallet(10), "1", "enrolment"],  # 10: unknown milestone
            ["A", wallet(11), "1", "registration"],  # 11: student of row 2 again
        ],
    )
    refused = itgen("attest", str(bad), "--account", "TEST::2", "--yes", check=False)
    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    for row, field in [
        (3, "payee"),
        (4, "payee"),
        (5, "payee"),
        (6, "payee"),
        (7, "payee"),
        (8, "course"),
        (9, "course"),
        (10, "milestone"),
        (11, "student_ref"),
    ]:
        assert f"row {row}, {field}" in said, (row, said)
    assert "row 2," not in said and "nothing was sent" in said
    too_much = write_roster(
        tmp_path / "much.csv",
        [[f"m-{n}", wallet(200 + n), "1", "registration"] for n in range(120)],
    )
    refused = itgen("attest", str(too_much), "--account", "TEST::2", "--yes", check=False)
    assert refused.returncode != 0 and "the escrow holds" in refused.stdout + refused.stderr
    assert balance(itgen, token, wallet(1)) == 0

    roster = write_roster(
        tmp_path / "roster.csv", [[f"c-{n}", wallet(n), "1", "registration"] for n in range(30)]
    )
    dry = itgen("attest", str(roster), "--account", "TEST::2", "--dry-run")
    assert "dry run" in dry.stdout and "gas" in dry.stdout and "nothing sent" in dry.stdout
    assert balance(itgen, token, wallet(0)) == 0

    itgen("attest", str(roster), "--account", "TEST::2", "--batch-size", "7", "--yes")
    assert [balance(itgen, token, wallet(n)) for n in range(30)] == [450 * 10**18] * 30
    again = itgen("attest", str(roster), "--account", "TEST::2", "--yes")
    assert "30 already paid, skipped" in again.stdout

    done = write_roster(
        tmp_path / "done.csv", [[f"c-{n}", wallet(n), "1", "completion"] for n in range(10)]
    )
    signed = tmp_path / "signed.json"
    itgen("sign", str(done), "--out", str(signed), "--account", "TEST::2")
    assert "c-1" not in signed.read_text()
    forged = json.loads(signed.read_text())
    forged["attestations"][3]["message"]["payee"] = wallet(99)
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    refused = itgen(
        "relay", str(tmp_path / "forged.json"), "--account", "TEST::5", "--yes", check=False
    )
    assert refused.returncode != 0 and "row 5, signature" in refused.stdout + refused.stderr
    assert balance(itgen, token, wallet(99)) == 0
    itgen("relay", str(signed), "--account", "TEST::5", "--yes")
    assert balance(itgen, token, wallet(0)) == 462_500_000_000_000_000_000

    itgen("index", "--db", str(tmp_path / "index.sqlite"))
    audit = itgen(
        "audit",
        "--db",
        str(tmp_path / "index.sqlite"),
        "--out",
        str(tmp_path / "audit"),
        "--roster",
        str(roster),
    )
    report = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert report["reconciled"] is True
    assert report["totals"]["released"]["tokens"] == "13625"
    assert report["roster"]["attested_not_paid"] == []
    assert "audit report:" in audit.stdout


def test_on_bnb_chain_transactions_are_legacy_gas_price_ones(itgen, bsc_local, tmp_path):
    setup_program(itgen, network="bsc:local:foundry")
    roster = write_roster(
        tmp_path / "r.csv", [[f"b-{n}", wallet(n), "1", "registration"] for n in range(3)]
    )
    itgen("attest", str(roster), "--account", "TEST::2", "--yes", network="bsc:local:foundry")
    (journal,) = (itgen.work / "journal").glob("*.jsonl")
    hashes = [
        json.loads(line)["hash"] for line in journal.read_text().splitlines() if '"sending"' in line
    ]
    web3 = itgen.web3
    assert [web3.eth.get_transaction(h)["type"] for h in hashes] == [0]


def test_deploy_takes_a_guardian_a_latest_end_and_an_admin_delay(itgen):
    guardian = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # TEST::5
    admin = ("--account", "TEST::0", "--yes")
    early = itgen(
        "deploy", "--donor", DONOR, "--program-end", "2030-01-01",
        "--latest-program-end", "2029-12-31", "--force", *admin, check=False,
    )  # fmt: skip
    assert early.returncode == 1
    assert (
        "Error: --latest-program-end 2029-12-31 00:00:00 UTC is before the program end "
        "2030-01-01 00:00:00 UTC" in early.stdout + early.stderr
    )
    done = itgen(
        "deploy", "--donor", DONOR, "--pauser", guardian, "--program-end", "2030-01-01",
        "--latest-program-end", "2030-06-30", "--admin-delay-days", "5", "--force", *admin,
    )  # fmt: skip
    assert (
        f"pauser {guardian}, admin handover delay 5 day(s), program end 2030-01-01 00:00:00 UTC, "
        "latest program end 2030-06-30 00:00:00 UTC" in done.stdout
    )
    record = deployment(itgen)
    assert (record["pauser"], record["admin_delay"]) == (guardian, 5 * 86_400)
    assert record["latest_program_end"] == 1_909_008_000  # 2030-06-30


def test_refusals_are_one_line_with_the_reason_and_send_nothing(itgen, tmp_path):
    record = setup_program(itgen)
    admin = ("--account", "TEST::0", "--yes")
    before = escrow_state(itgen, record)
    assert refusal(itgen("pause", "off", *admin[:2], check=False)) == (
        "Error: releases are already running; nothing was sent"
    )
    assert "the program runs until 2030-01-01 00:00:00 UTC" in refusal(
        itgen("close", *admin, check=False)
    )
    assert escrow_state(itgen, record) == before
    itgen("pause", "on", *admin[:2])
    assert refusal(itgen("pause", "on", *admin[:2], check=False)) == (
        "Error: releases are already paused; nothing was sent"
    )
    roster = write_roster(tmp_path / "r.csv", [["p-1", wallet(1), "1", "registration"]])
    paused = itgen("attest", str(roster), "--account", "TEST::2", "--yes", check=False)
    assert paused.returncode == 1 and "the program is paused" in paused.stdout + paused.stderr
    assert "custom error" not in paused.stdout + paused.stderr
    stranger = itgen("pause", "off", "--account", "TEST::7", check=False)
    assert "does not hold the role this needs" in refusal(stranger)
    # A removed registrar is retired: adding the address back is refused, nothing sent.
    itgen("registrars", "add", wallet(77), "--allowance", "1", "--provider", "4", *admin)
    itgen("registrars", "remove", wallet(77), *admin)
    assert refusal(
        itgen("registrars", "add", wallet(77), "--allowance", "1", *admin, check=False)
    ) == (
        f"Error: {wallet(77)} was removed as a registrar and is retired for good: give the "
        "registrar a new address; nothing was sent"
    )
    # The refusal is the only thing said after the change's own line: no call trace.
    said = (stranger.stdout + stranger.stderr).strip().splitlines()
    assert not any("tx.origin" in line or "reverted without message" in line for line in said)
    itgen("pause", "off", *admin)

    web3 = itgen.web3  # past the program end, 2030-01-01
    web3.provider.make_request("evm_setNextBlockTimestamp", [1_893_456_000 + 60])
    web3.provider.make_request("evm_mine", [])
    ended = itgen("attest", str(roster), "--account", "TEST::2", "--yes", check=False)
    assert "the program ended at 2030-01-01 00:00:00 UTC" in ended.stdout + ended.stderr
    assert "expired" not in ended.stdout + ended.stderr
    itgen("close", *admin)
    assert refusal(itgen("close", *admin, check=False)) == (
        "Error: the escrow holds nothing: already closed; nothing was sent"
    )


def test_a_batch_size_past_the_gas_cap_is_cut_to_fit(itgen, tmp_path):
    """anvil enforces BNB Chain's 2^24 gas per transaction here: 400 registrations in one
    batch would need about 21 million."""
    record = setup_program(itgen, funds="400000")
    roster = write_roster(
        tmp_path / "big.csv", [[f"g-{n}", wallet(n), "1", "registration"] for n in range(400)]
    )
    dry = itgen("attest", str(roster), "--account", "TEST::2", "--batch-size", "500", "--dry-run")
    assert "dry run: 2 transaction(s)" in dry.stdout
    itgen("attest", str(roster), "--account", "TEST::2", "--batch-size", "500", "--yes")
    assert balance(itgen, record["token"], wallet(399)) == 450 * 10**18
    web3 = itgen.web3
    head = web3.eth.block_number
    gas = [
        web3.eth.get_transaction_receipt(tx)["gasUsed"]
        for n in range(head - 1, head + 1)
        for tx in web3.eth.get_block(n)["transactions"]
    ]
    assert len(gas) == 2 and all(used < 2**24 for used in gas)


def test_fund_with_a_usdt_like_token_works_in_every_allowance_state(itgen, deploy_test_token):
    # The USDT-like mock: 6 decimals, no return value, approve only from or to zero.
    token = deploy_test_token(itgen.web3, DONOR, "UsdtLike")
    admin = ("--account", "TEST::0", "--yes")
    itgen(
        "deploy",
        "--token",
        token,
        "--donor",
        DONOR,
        "--program-end",
        "2030-01-01",
        "--force",
        *admin,
    )
    record = deployment(itgen)
    web3 = itgen.web3
    token_call(web3, token, "mint(address,uint256)", DONOR, 1_000 * 10**6, sender=DONOR)
    donor = ("--account", "TEST::1", "--yes")
    poor = itgen("fund", "5000", *donor, check=False)
    assert refusal(poor) == (
        f"Error: {DONOR} holds 1,000.00 tokens, 5,000.00 are needed; nothing was sent"
    )
    # A leftover allowance, as a fund that reverted for lack of balance leaves it.
    token_call(web3, token, "approve(address,uint256)", record["escrow"], 7 * 10**6, sender=DONOR)
    dry = itgen("fund", "12.345678", "--account", "TEST::1", "--dry-run")
    assert "dry run: 3 transaction(s)" in dry.stdout  # approve 0, approve, fund
    itgen("fund", "12.345678", *donor)
    assert balance(itgen, token, record["escrow"]) == 12_345_678
    itgen("fund", "100", *donor)  # allowance spent to zero: one approval
    token_call(web3, token, "approve(address,uint256)", record["escrow"], 0, sender=DONOR)
    token_call(web3, token, "approve(address,uint256)", record["escrow"], 500 * 10**6, sender=DONOR)
    itgen("fund", "200", *donor)  # enough allowance left: no approval at all
    assert balance(itgen, token, record["escrow"]) == 312_345_678
    itgen("courses", "set", "1", "--registration", "12.345678", *admin)
    listing = itgen("courses", "list").stdout
    assert "12.345678" in listing


def test_an_outside_auditor_indexes_audits_and_verifies_an_escrow_by_address_alone(itgen, tmp_path):
    record = setup_program(itgen)
    roster = write_roster(
        tmp_path / "r.csv", [[f"o-{n}", wallet(n), "1", "registration"] for n in range(12)]
    )
    itgen("attest", str(roster), "--account", "TEST::2", "--batch-size", "5", "--yes")
    # The auditor has no deployment record and no salt: only the escrow's address.
    (itgen.records / "ethereum-local.json").unlink()
    escrow = record["escrow"]
    db = str(tmp_path / "outside.sqlite")
    # Through a node that is not an archive node: state older than the newest 2 blocks is
    # refused ("missing trie node"), as most public BSC endpoints do.
    from devtools.provider_proxy import ProviderProxy

    itgen.web3.provider.make_request("anvil_mine", [5])
    with ProviderProxy(itgen.uri, history=2) as pruned:
        indexed = itgen("index", "--escrow", escrow, "--db", db, host=pruned.url)
        audit = itgen("audit", "--escrow", escrow, "--db", db, "--out", str(tmp_path / "a"),
                     host=pruned.url)  # fmt: skip
        import requests

        asked = {"jsonrpc": "2.0", "id": 1, "method": "eth_getCode",
                 "params": [escrow, hex(record["block"])]}  # fmt: skip
        refused = requests.post(pruned.url, json=asked, timeout=10).json()
    assert "missing trie node" in refused["error"]["message"]  # the old way is closed
    assert f"deployed in block {record['block']}" in indexed.stdout
    assert "Traceback" not in indexed.stderr + audit.stderr
    report = json.loads((tmp_path / "a" / "audit.json").read_text())
    assert report["reconciled"] is True
    assert report["totals"]["released"]["tokens"] == "5400"
    assert report["code_verification"]["match"] is True
    assert f"code: {escrow}: match" in audit.stdout
    verified = itgen("verify", "--escrow", escrow, "--out", str(tmp_path / "v"))
    assert f"{escrow}: match" in verified.stdout
    uploaded = json.loads(next((tmp_path / "v").glob("*.standard-input.json")).read_text())
    assert "contracts/ScholarshipEscrow.sol" in uploaded["sources"]
    # With an explorer's API (here a stand-in on loopback that answers as Etherscan's V2 API
    # does), the standard-JSON input is submitted through ape-etherscan.
    with explorer_stand_in() as (url, posted):
        submitted = itgen("verify", "--escrow", escrow, "--explorer-api", url)
    assert "explorer: Pass - Verified" in submitted.stdout, submitted.stdout
    form = posted[0]
    assert form["action"] == "verifysourcecode" and form["contractaddress"] == escrow
    assert form["codeformat"] == "solidity-standard-json-input"
    assert form["contractname"] == "contracts/ScholarshipEscrow.sol:ScholarshipEscrow"
    assert form["compilerversion"].startswith("v0.8.28+commit.")
    assert json.loads(form["sourceCode"]) == uploaded
    from eth_abi import decode

    token_arg, donor_arg, *_ = decode(
        ["address", "address", "address", "address", "uint48", "uint256", "uint256"],
        bytes.fromhex(form["constructorArguements"]),
    )
    assert (token_arg.lower(), donor_arg.lower()) == (record["token"].lower(), DONOR.lower())
    token = itgen("verify", "--escrow", record["token"], check=False)
    assert refusal(token).startswith("Error: ") and "MISMATCH" in token.stdout + token.stderr


def test_two_programs_live_side_by_side_on_one_network(itgen, tmp_path):
    main = setup_program(itgen)
    admin = ("--account", "TEST::0", "--yes")
    spring = ("--program", "spring-2027")
    itgen("deploy", "--token", main["token"], "--donor", DONOR, "--program-end", "2030-01-01",
         *spring, *admin)  # fmt: skip
    record = json.loads((itgen.records / "ethereum-local.spring-2027.json").read_text())
    assert record["program"] == "spring-2027" and record["escrow"] != main["escrow"]
    assert (itgen.secrets / "ethereum-local.spring-2027.salt").exists()
    itgen("fund", "1000", *spring, "--account", "TEST::1", "--yes")
    itgen("courses", "set", "1", "--registration", "100", *spring, *admin)
    itgen("registrars", "add", REGISTRAR, "--allowance", "1000", *spring, *admin)
    roster = write_roster(tmp_path / "r.csv", [["same-ref", wallet(1), "1", "registration"]])
    itgen("attest", str(roster), "--account", "TEST::2", "--yes", *spring)
    itgen("attest", str(roster), "--account", "TEST::2", "--yes")  # main program
    # One reference in two programs is two students (two salts): paid by each program.
    assert balance(itgen, main["token"], wallet(1)) == 550 * 10**18
    assert balance(itgen, main["token"], record["escrow"]) == 900 * 10**18
    listed = itgen("programs").stdout.splitlines()
    assert [line.split()[0] for line in listed] == ["main", "spring-2027"]
    assert all("salt here" in line for line in listed)
    unknown = itgen("fund", "1", "--program", "autumn", "--account", "TEST::1", "--yes",
                   check=False)  # fmt: skip
    assert "no deployment record for ethereum:local program autumn here" in refusal(unknown)
    # Both programs in one pass into one database, audited each and for the whole charity.
    db, out = str(tmp_path / "charity.sqlite"), tmp_path / "charity"
    indexed = itgen("index", "--all-programs", "--db", db)
    assert "2 program(s) in one pass: main" in indexed.stdout
    itgen("audit", "--all-programs", "--db", db, "--out", str(out))
    charity = json.loads((out / "charity.json").read_text())
    assert charity["reconciled"] is True and set(charity["programs"]) == {"main", "spring-2027"}
    totals = charity["totals_by_token"][main["token"]]["totals"]  # one token: one sum
    assert totals["released"]["tokens"] == "550"  # 450 (main) + 100 (spring)
    assert totals["funded"]["tokens"] == "51000"
    spring_books = json.loads((out / "spring-2027" / "audit.json").read_text())
    assert spring_books["escrow"] == record["escrow"]
    assert spring_books["totals"]["released"]["tokens"] == "100"
    # One watch over both programs, each with its own checkpoint.
    watched = itgen("watch", "--all-programs", "--once", "--dry-run", "--from-block", "0",
                   )  # fmt: skip
    assert f"watching {main['escrow']}" in watched.stdout
    assert f"watching {record['escrow']}" in watched.stdout


GUARDIAN = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # TEST::5
SAFE_OWNERS = [  # TEST::6, TEST::7, TEST::8
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
]


def test_admin_commands_through_a_2_of_3_safe_execute_carry_and_export(itgen, tmp_path):
    from devtools import safe_contracts

    web3 = itgen.web3
    safe_contracts.deploy_canonical(web3, web3.eth.accounts[0])
    safe = safe_contracts.create_safe(web3, web3.eth.accounts[0], SAFE_OWNERS, 2)
    itgen(
        "deploy",
        "--donor",
        DONOR,
        "--program-end",
        "2030-01-01",
        "--admin",
        safe,
        "--pauser",
        GUARDIAN,
        "--force",
        "--account",
        "TEST::0",
        "--yes",
    )
    owner, second = ("--safe", safe, "--account", "TEST::6"), ("--cosigner", "TEST::7")
    done = itgen("courses", "set", "1", "--registration", "450", *owner, *second, "--yes")
    assert "executed Safe transaction" in done.stdout and "2 of 2 signatures)" in done.stdout
    add = ("registrars", "add", REGISTRAR, "--allowance", "1000", *owner, "--yes")
    assert "1 of 2 signatures here" in refusal(itgen(*add, check=False))
    carried = tmp_path / "add-registrar.json"
    made = itgen(*add, "--safe-tx", str(carried))
    assert "1 of 2 signatures" in made.stdout and "setRegistrar" in made.stdout
    listing = itgen("registrars", "list").stdout
    assert f"admin          {safe} (a Safe, 2 of 3: {', '.join(SAFE_OWNERS)})" in listing
    assert f"pauser         {GUARDIAN}" in listing and REGISTRAR not in listing
    itgen("safe", "sign", str(carried), "--account", "TEST::8", "--yes")
    itgen("safe", "execute", str(carried), "--account", "TEST::3", "--yes")
    assert REGISTRAR in itgen("registrars", "list").stdout
    # The guardian pauses alone; the admin's key cannot, and the Safe is not the pauser.
    itgen("pause", "on", "--account", "TEST::5")
    refused = itgen("pause", "off", "--account", "TEST::5", check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stdout + refused.stderr
    # A whole registrar table and the unpause, exported for the Transaction Builder ...
    table = tmp_path / "registrars.csv"
    table.write_text(f"registrar,allowance,expiry\n{REGISTRAR},1000,\n{DONOR},250.5,2029-06-30\n")
    export = tmp_path / "drill.json"
    itgen("registrars", "apply", str(table), *owner, "--tx-builder", str(export))
    batch = json.loads(export.read_text())
    assert [t["contractMethod"]["name"] for t in batch["transactions"]] == ["setRegistrar"] * 2
    assert batch["meta"]["createdFromSafeAddress"] == safe and batch["chainId"] == "31337"
    # ... read back and executed from the Safe by two owners.
    ran = itgen(
        "batch",
        str(export),
        "--safe",
        safe,
        "--account",
        "TEST::7",
        "--cosigner",
        "TEST::8",
        "--yes",
    )
    assert "executed Safe transaction" in ran.stdout
    listing = itgen("registrars", "list").stdout
    assert REGISTRAR in listing and DONOR in listing
    # Refusals: one line each, nothing sent.
    for args, reason in (
        (
            (
                "courses",
                "set",
                "2",
                "--registration",
                "1",
                *owner,
                "--cosigner",
                "TEST::4",
                "--yes",
            ),
            "is not an owner of the Safe",
        ),
        (
            (
                "pause",
                "off",
                *owner,
                "--tx-builder",
                str(tmp_path / "x.json"),
                "--cosigner",
                "TEST::7",
            ),
            None,
        ),
        (("extend", "2040-01-01", *owner, *second, "--yes"), "latest end fixed at deployment"),
        (
            (
                "courses",
                "set",
                "3",
                "--registration",
                "1",
                "--safe",
                "0x" + "12" * 20,
                "--account",
                "TEST::6",
                "--yes",
            ),
            "no Safe at",
        ),
    ):
        result = itgen(*args, check=False)
        said = result.stdout + result.stderr
        assert "Traceback" not in said, said
        if reason:
            assert result.returncode == 1 and "Error: " in said and reason in said, said
    bad_table = tmp_path / "bad.csv"
    bad_table.write_text(f"registrar,allowance\nnot-an-address,10\n{REGISTRAR},ten\n")
    result = itgen("registrars", "apply", str(bad_table), *owner, "--yes", check=False)
    said = result.stdout + result.stderr
    assert result.returncode == 1 and "row 2, registrar" in said and "row 3, allowance" in said, (
        said
    )


def test_index_and_audit_finish_in_one_run_through_a_provider_that_limits_and_drops(
    itgen, tmp_path
):
    # HTTP 429 beyond 20 requests a second and one connection in 10 dropped (-32005 "limit
    # exceeded" is the same path: tests/indexer/test_provider_limits.py).
    limits = {"rps": 20, "drop_every": 10}
    import sqlite3

    from devtools.provider_proxy import ProviderProxy

    setup_program(itgen)
    roster = write_roster(
        tmp_path / "r.csv", [[f"p-{n}", wallet(n), "1", "registration"] for n in range(12)]
    )
    itgen("attest", str(roster), "--account", "TEST::2", "--batch-size", "5", "--yes")
    direct = tmp_path / "direct.sqlite"
    itgen("index", "--db", str(direct), "--max-range", "7")
    through = tmp_path / "through.sqlite"
    upstream = itgen.uri
    with ProviderProxy(upstream, max_range=5_000, **limits) as proxy:
        indexed = itgen("index", "--db", str(through), "--max-range", "7", host=proxy.url)
        audited = itgen("audit", "--db", str(through), "--out", str(tmp_path / "a"), host=proxy.url)
        watched = itgen("watch", "--once", "--dry-run", "--from-block", "0", host=proxy.url)
    said = indexed.stdout + indexed.stderr + audited.stdout + audited.stderr
    assert "Traceback" not in said, said
    assert proxy.stats["rate_limited"] > 0 and proxy.stats["dropped"] > 0, proxy.stats
    rows = "SELECT block_number, log_index, tx_hash, event, args FROM events ORDER BY 1, 2"
    assert sqlite3.connect(through).execute(rows).fetchall() == (
        sqlite3.connect(direct).execute(rows).fetchall()
    )
    assert json.loads((tmp_path / "a" / "audit.json").read_text())["reconciled"] is True
    # The watch through the same provider raises what it raises reading the node directly.
    assert "Traceback" not in watched.stdout + watched.stderr
    for checkpoint in (itgen.work / "watch").glob("*.json"):
        checkpoint.unlink()
    direct_watch = itgen("watch", "--once", "--dry-run", "--from-block", "0")

    def alerts(result):
        return sorted(line for line in result.stdout.splitlines() if line.startswith("["))

    assert alerts(watched) == alerts(direct_watch) and alerts(watched)


def test_the_watch_command_reads_once_and_alerts_without_pausing_in_a_dry_run(itgen, tmp_path):
    setup_program(itgen)
    roster = write_roster(
        tmp_path / "r.csv", [[f"w-{n}", wallet(4242), "1", "registration"] for n in range(2)]
    )
    itgen("attest", str(roster), "--account", "TEST::2", "--yes")
    said = itgen("watch", "--once", "--dry-run", "--guardian", "TEST::0", "--from-block", "0")
    assert "[info] admin: " in said.stdout and "registrar added or changed" in said.stdout
    assert "[critical] payee_reuse:" in said.stdout and "(dry run: not paused)" in said.stdout
    again = itgen("watch", "--once", "--dry-run", "--guardian", "TEST::0")
    assert "[critical]" not in again.stdout  # the checkpoint: nothing repeated
