"""The indexer on anvil: completeness, resume, RPC limits, reorgs; and the audit."""

from __future__ import annotations

import json

import pytest
from helpers import events, funded_program, make_indexer, student  # tests/indexer/helpers.py
from shared import DAY, UNIT

from itgen_chain import books, report
from itgen_chain.compiled import escrow_abi
from itgen_chain.exceptions import IndexerError, IndexerRPCError, ItgenError
from itgen_chain.indexer import Indexer, IndexerSettings
from itgen_chain.store import Store


def test_indexes_every_payout_funding_and_transfer(index_db, program, chain, project, tmp_path):
    db = index_db
    make_indexer(program, chain, project, db).run()
    released = events(db, "ScholarshipReleased")
    assert len(released) == 12
    assert sum(int(e["amount"]) for e in released) == (5 * 450 + 5 * 300 + 2 * 50) * UNIT
    assert [int(e["amount"]) for e in events(db, "Funded")] == [50_000 * UNIT]
    # The direct transfer in made the balance differ from the events: the token's transfers
    # in were scanned, and the range's two (the fund's and the stray) kept; none out.
    transfers = events(db, "Transfer")
    assert [int(t["value"]) for t in transfers] == [50_000 * UNIT, 123 * UNIT]


def test_second_run_adds_only_new_events_and_duplicates_nothing(
    index_db, program, chain, project, tmp_path
):
    record, escrow, token, registrar, *_ = program
    db = index_db
    assert make_indexer(program, chain, project, db).run() > 0
    assert make_indexer(program, chain, project, db).run() == 0
    escrow.attest(student(50).as_tuple(), sender=registrar)
    assert make_indexer(program, chain, project, db).run() == 1  # the release alone
    assert len(events(db, "ScholarshipReleased")) == 13


def test_run_stopped_mid_range_loses_and_duplicates_nothing(
    index_db, program, chain, project, tmp_path, monkeypatch
):
    from itgen_chain import indexer

    db = index_db
    calls = {"n": 0}
    monkeypatch.setattr(indexer, "WRITE_RANGES", 1)  # a write after every range

    def dying(request):
        def call(method, params):
            calls["n"] += 1 if method == "eth_getBlockByNumber" else 0
            if method == "eth_getBlockByNumber" and calls["n"] > 2:
                raise KeyboardInterrupt("stopped")
            return request(method, params)

        return call

    with pytest.raises(KeyboardInterrupt):
        make_indexer(program, chain, project, db, IndexerSettings(max_range=3), request=dying).run()
    partial = len(events(db, "ScholarshipReleased"))
    assert partial < 12
    make_indexer(program, chain, project, db).run()
    assert len(events(db, "ScholarshipReleased")) == 12


def test_range_too_large_errors_split_the_range(index_db, program, chain, project, tmp_path):
    db = index_db
    asked = []

    def capped(request):
        def call(method, params):
            if method == "eth_getLogs":
                span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
                asked.append(span)
                if span > 4:
                    raise RuntimeError("-32005: query returned more than 10000 results")
            return request(method, params)

        return call

    make_indexer(
        program, chain, project, db, IndexerSettings(max_range=5_000), request=capped
    ).run()
    assert max(asked) > 4 and min(asked) <= 4
    assert len(events(db, "ScholarshipReleased")) == 12


def test_rate_limits_back_off_and_retry(index_db, program, chain, project, tmp_path):
    db = index_db
    failures = {"left": 3}

    def limited(request):
        def call(method, params):
            if method == "eth_getLogs" and failures["left"]:
                failures["left"] -= 1
                raise RuntimeError("429 Too Many Requests")
            return request(method, params)

        return call

    indexer = make_indexer(
        program, chain, project, db, IndexerSettings(backoff=0.01), request=limited
    )
    slept = []
    indexer.sleep = slept.append
    indexer.run()
    # Exponential backoff with jitter (each pause between half and all of its step).
    assert len(slept) == 3
    for pause, step in zip(slept, (0.01, 0.02, 0.04), strict=True):
        assert step / 2 <= pause <= step
    assert len(events(db, "ScholarshipReleased")) == 12


def test_endpoint_refusing_get_logs_is_named(index_db, program, chain, project, tmp_path):
    def refusing(request):
        def call(method, params):
            if method == "eth_getLogs":
                raise RuntimeError("-32601: the method eth_getLogs does not exist/is not available")
            return request(method, params)

        return call

    with pytest.raises(IndexerError, match="refuses eth_getLogs"):
        make_indexer(program, chain, project, index_db, request=refusing).run()


def test_reorg_rolls_back_to_the_fork_and_indexes_again(
    index_db, program, chain, project, tmp_path
):
    record, escrow, token, registrar, *_ = program
    db = index_db
    fork = chain.snapshot()
    escrow.attestBatch([student(n).as_tuple() for n in range(100, 103)], sender=registrar)
    indexer = make_indexer(program, chain, project, db)
    indexer.run()
    assert len(events(db, "ScholarshipReleased")) == 15
    chain.restore(fork)  # the three payouts are gone; other blocks take their heights
    escrow.attest(student(200).as_tuple(), sender=registrar)
    chain.mine(3)
    again = make_indexer(program, chain, project, db)
    again.run()
    assert again.rollbacks == 1
    released = events(db, "ScholarshipReleased")
    assert len(released) == 13
    ids = {e["studentId"] for e in released}
    assert "0x" + (201).to_bytes(32, "big").hex() in ids
    assert "0x" + (101).to_bytes(32, "big").hex() not in ids


def test_reorg_between_kept_blocks_loses_no_payout(index_db, program, chain, project, tmp_path):
    """Only blocks with events and range ends are kept: a reorg can change blocks between
    two kept ones. The rollback goes to the last kept block whose hash still matches, so a
    payout in a reorged block that was empty before is indexed."""
    record, escrow, token, registrar, *_ = program
    db = index_db
    fork = chain.snapshot()
    kept = chain.blocks.height
    chain.mine(4)  # empty blocks: only the range end above `kept` is stored
    make_indexer(program, chain, project, db).run()
    stored = [n for (n,) in Store(db).all("SELECT number FROM blocks")]
    assert kept in stored and kept + 1 not in stored and kept + 4 in stored
    chain.restore(fork)
    escrow.attest(student(300).as_tuple(), sender=registrar)  # lands in block kept + 1
    chain.mine(5)
    again = make_indexer(program, chain, project, db)
    again.run()
    assert again.rollbacks == 1
    ids = {e["studentId"] for e in events(db, "ScholarshipReleased")}
    assert "0x" + (301).to_bytes(32, "big").hex() in ids
    balance = token.balanceOf(escrow, block_id=again.checkpoint)
    assert books.build(db, balance, 18, chain.chain_id)["reconciled"] is True


def test_confirmation_depth_leaves_recent_blocks_for_later(
    index_db, program, chain, project, tmp_path
):
    db = index_db
    indexer = make_indexer(program, chain, project, db, IndexerSettings(confirmations=2))
    indexer.run()
    assert indexer.checkpoint == chain.blocks.height - 2


# ------------------------------------------------------------------ audit


def test_audit_reconciles_a_program(index_db, program, chain, project, tmp_path):
    record, escrow, token, *_ = program
    db = index_db
    indexer = make_indexer(program, chain, project, db)
    indexer.run()
    balance = token.balanceOf(escrow, block_id=indexer.checkpoint)
    audit = books.build(db, balance, 18, chain.chain_id)
    assert audit["reconciled"] is True
    t = audit["totals"]
    assert t["funded"]["base_units"] == str(50_000 * UNIT)
    assert t["direct_transfers_in"]["tokens"] == "123"
    assert t["released"]["base_units"] == str(3_850 * UNIT)
    assert audit["per_course"]["2"]["count"] == 5
    assert audit["per_milestone"]["completion"]["released"]["tokens"] == "100"
    assert audit["paid_twice"] == []


def test_audit_reports_a_difference_with_its_transaction(
    index_db, program, chain, project, tmp_path
):
    record, escrow, token, *_ = program
    db = index_db
    indexer = make_indexer(program, chain, project, db)
    indexer.run()
    tampered = Store(db)
    with tampered.transaction():
        row = tampered.one(
            "SELECT tx_hash, block_number, log_index FROM events WHERE event = "
            "'ScholarshipReleased' ORDER BY block_number, log_index LIMIT 1"
        )
        tampered.execute(
            "DELETE FROM events WHERE block_number = ? AND log_index = ?", (row[1], row[2])
        )
    balance = token.balanceOf(escrow, block_id=indexer.checkpoint)
    audit = books.build(db, balance, 18, chain.chain_id)
    assert audit["reconciled"] is False  # the balance read differs from the events
    # The next run sees it too, scans the token's transfers out (all of them: the ranges
    # were scanned before) and keeps the one without its release: the audit names it.
    make_indexer(program, chain, project, db).run()
    audit = books.build(db, balance, 18, chain.chain_id)
    assert [d.get("tx_hash") for d in audit["differences"]] == [row[0]]
    assert audit["differences"][0]["kind"] == "transfer out without matching release/reclaim"


def test_audit_cross_checks_a_roster(index_db, program, chain, project, tmp_path):
    record, escrow, token, *_ = program
    db = index_db
    indexer = make_indexer(program, chain, project, db)
    indexer.run()
    roster = [(n + 2, student(n).student_id, 0) for n in range(4)] + [
        (99, student(77).student_id, 0)
    ]
    audit = books.build(db, token.balanceOf(escrow), 18, chain.chain_id, roster=roster)
    assert audit["roster"]["attested_not_paid"] == [99]
    assert len(audit["roster"]["paid_not_on_roster"]) == 12 - 4
    assert audit["roster"]["paid_twice"] == []
    assert audit["roster"]["paid_to_another_payee"] == []


def test_audit_roster_names_a_row_paid_to_another_wallet(index_db, program, chain, project):
    record, escrow, token, registrar, *_ = program
    make_indexer(program, chain, project, index_db).run()
    thief = "0x" + "7e" * 20
    roster = [(2, student(0).student_id, 0, student(0).payee), (3, student(1).student_id, 0, thief)]
    audit = books.build(index_db, None, 18, chain.chain_id, roster=roster)
    [jump] = audit["roster"]["paid_to_another_payee"]
    assert jump["row"] == 3 and jump["paid_to"] == student(1).payee
    assert any("row 3: PAID TO ANOTHER WALLET" in line for line in report.summary(audit))


def test_audit_files_and_indexer_reject_another_escrow(index_db, program, chain, project, tmp_path):
    record, escrow, token, *_ = program
    db = index_db
    indexer = make_indexer(program, chain, project, db)
    indexer.run()
    audit = books.build(db, token.balanceOf(escrow), 18, 56)
    paths = report.write(audit, tmp_path / "out")
    assert json.loads(paths["json"].read_text())["reconciled"] is True
    assert paths["csv"].read_text().count("\n") == 13
    assert "https://bscscan.com/tx/0x" in paths["html"].read_text()
    with pytest.raises(IndexerError, match="indexes escrow"):
        Indexer(db, indexer.request, token.address, token.address, [], 0)


# ------------------------------------------------------------------ the page, in a browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def open_in_chromium(page, tmp_path):
    """The DOM after the page's scripts ran, and the console messages Chromium logged."""
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    profile = tmp_path / f"profile-{page.stem}"
    result = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    return result.stdout, console


def test_console_capture_sees_a_page_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><html><body><p>x</p><script>console.error('boom'); nope();</script></body></html>"
    )
    _, console = open_in_chromium(page, tmp_path)
    assert any("boom" in line for line in console)


def test_audit_page_opens_offline_without_console_errors_and_shows_the_books(
    program, chain, project, tmp_path
):
    record, escrow, token, *_ = program
    db = tmp_path / "i.sqlite"
    indexer = make_indexer(program, chain, project, db)
    indexer.run()
    audit = books.build(db, token.balanceOf(escrow, block_id=indexer.checkpoint), 18, 56, "USDT")
    page = report.write(audit, tmp_path / "out")["html"]
    html = page.read_text()
    for loads_something in ("<script src", "<link", "<img", "url(", "@import", "<iframe"):
        assert loads_something not in html
    dom, console = open_in_chromium(page, tmp_path)
    assert console == []
    assert 'id="reconciled">Reconciled<' in dom
    for figure in ("50,000.00", "123.00", "3,850.00", "46,273.00"):
        assert figure in dom
    assert dom.count("<svg") == 3


def test_audit_reads_the_balance_at_the_head_not_at_the_indexed_block(
    index_db, program, chain, project, tmp_path, monkeypatch
):
    """A normal BNB Chain node keeps state for recent blocks only: the audit reconciles from
    the events and compares with the balance at the head, counting transfers since."""
    from itgen_chain.audit import run_audit

    record, escrow, token, registrar, *_ = program
    db = index_db
    indexer = make_indexer(program, chain, project, db)
    indexer.run()
    escrow.attestBatch([student(n).as_tuple() for n in range(400, 404)], sender=registrar)
    chain.mine(3)
    head, historical, seen = chain.blocks.height, [], []
    make_request = type(chain.provider).make_request

    def recording(self, method, parameters=None):
        if method == "eth_call":
            block = parameters[1] if len(parameters) > 1 else "latest"
            seen.append(block)
            if block not in ("latest", "pending", hex(head), head):
                historical.append(block)
        return make_request(self, method, parameters)

    monkeypatch.setattr(type(chain.provider), "make_request", recording)
    said = []
    audit, _ = run_audit(db, tmp_path / "audit", echo=said.append)
    check = audit["balance_check"]
    assert check["block"] == chain.blocks.height and check["match"] is True
    assert audit["reconciled"] is True and seen and historical == []
    assert audit["indexed_to_block"] == indexer.checkpoint < check["block"]
    # The summary says where its books stop and that four newer payouts are not in them.
    assert audit["payouts_after_indexed_block"] == 4
    assert f"count events up to block {indexer.checkpoint} ({indexer.finality})" in said[1]
    assert said[2].strip().startswith("4 payout(s) were mined after it")


def test_indexing_follows_the_nodes_finalized_block_when_asked(
    index_db, program, chain, project, tmp_path
):
    chain.mine(70)  # anvil's finalized block trails the head by 64
    settings = IndexerSettings(finalized=True, confirmations=3)
    indexer = make_indexer(program, chain, project, index_db, settings)
    indexer.run()
    finalized = chain.provider.web3.eth.get_block("finalized")["number"]
    assert indexer.checkpoint == finalized < chain.blocks.height - 3
    assert indexer.finality == "the node's finalized block"


def test_a_node_without_the_finalized_tag_gets_the_fixed_depth(
    index_db, program, chain, project, tmp_path
):

    def no_finalized(request):
        def wrapped(method, params):
            if method == "eth_getBlockByNumber" and params[0] == "finalized":
                raise IndexerRPCError({"code": -32602, "message": "invalid block tag"})
            return request(method, params)

        return wrapped

    settings = IndexerSettings(finalized=True, confirmations=3)
    indexer = make_indexer(program, chain, project, index_db, settings, no_finalized)
    indexer.run()
    assert indexer.checkpoint == chain.blocks.height - 3
    assert indexer.finality == "3 confirmation(s) below the head"


def test_many_programs_in_one_pass_give_each_its_own_books(
    index_db, program, chain, project, tmp_path
):
    """Two escrows on one token, one filter, one database: each program's audit equals the
    audit of its own single index; one request a range for both, and one more for the
    first program's stray transfer in."""
    from itgen_chain.deployer import Terms, deploy
    from itgen_chain.indexer import for_deployment

    record, escrow, token, registrar, admin, donor = program
    end = chain.pending_timestamp + 30 * DAY
    second = deploy(admin, Terms(token.address, donor.address, admin.address, end), True, "second")
    other = project.ScholarshipEscrow.at(second.escrow)
    token.approve(other, 900 * UNIT, sender=donor)
    other.fund(900 * UNIT, sender=donor)
    other.setCourse(1, 300 * UNIT, 0, True, 0, sender=admin)
    other.setRegistrar(registrar, 900 * UNIT, end, 0, sender=admin)
    other.attestBatch([student(n).as_tuple() for n in range(3)], sender=registrar)
    abi = escrow_abi(project.ScholarshipEscrow.contract_type)
    asked = []
    both = for_deployment([record, second], chain.provider, abi, index_db)
    counting = both.request
    both.request = lambda method, params: asked.append(method) or counting(method, params)
    both.run()
    assert asked.count("eth_getLogs") == 2  # the escrows' events; the token's transfers in
    assert asked.count("eth_call") == 2  # each escrow's balance
    for deployment in (record, second):
        alone = tmp_path / f"{deployment.escrow}.sqlite"
        for_deployment(deployment, chain.provider, abi, alone).run()
        shared = books.build(index_db, None, 18, chain.chain_id, escrow=deployment.escrow)
        single = books.build(alone, None, 18, chain.chain_id)
        for key in ("reconciled", "totals", "per_registrar", "per_course", "payouts"):
            assert shared[key] == single[key], key
    with pytest.raises(ItgenError, match="indexes 2 escrows: name one"):
        books.build(index_db, None, 18, chain.chain_id)


def test_programs_on_two_tokens_book_only_their_own_token(
    index_db, program, chain, project, tmp_path
):
    """Two programs on two tokens in one index, and the second token also sent to the first
    escrow: each escrow's books count only its own token (the pairing once came from a
    sorted list's positions, and any token's transfer in was booked)."""
    from itgen_chain.deployer import Terms, deploy
    from itgen_chain.indexer import for_deployment

    record, escrow, token, registrar, admin, donor = program
    other_token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 30 * DAY
    second = deploy(
        admin, Terms(other_token.address, donor.address, admin.address, end), True, "second"
    )
    other = project.ScholarshipEscrow.at(second.escrow)
    other_token.mint(donor, 10_000 * UNIT, sender=donor)
    other_token.approve(other, 900 * UNIT, sender=donor)
    other.fund(900 * UNIT, sender=donor)
    other_token.transfer(escrow, 7 * UNIT, sender=donor)  # the wrong token, to the first escrow
    other.setCourse(1, 300 * UNIT, 0, True, 0, sender=admin)
    other.setRegistrar(registrar, 900 * UNIT, end, 0, sender=admin)
    other.attestBatch([student(n).as_tuple() for n in range(2)], sender=registrar)
    abi = escrow_abi(project.ScholarshipEscrow.contract_type)
    for_deployment([record, second], chain.provider, abi, index_db).run()
    for deployment, its_token in ((record, token), (second, other_token)):
        audit = books.build(
            index_db,
            its_token.balanceOf(deployment.escrow),
            18,
            chain.chain_id,
            escrow=deployment.escrow,
        )
        assert audit["token"] == its_token.address
        assert audit["reconciled"] is True, audit["differences"]
    first = books.build(index_db, None, 18, chain.chain_id, escrow=record.escrow)
    assert first["totals"]["direct_transfers_in"]["tokens"] == "123"  # not 130


def test_logs_without_block_timestamps_get_them_in_batches_not_header_walks(
    index_db, program, chain, project, tmp_path
):
    """Most BSC providers leave blockTimestamp out of logs: the headers of the blocks that
    hold events are asked for in JSON-RPC batches by the range's worker; the write path asks
    only for the checkpoint's own header. The books equal those of a provider that sends
    the timestamps."""

    def without_timestamps(request):
        def call(method, params):
            answer = request(method, params)
            if method == "eth_getLogs":
                return [{k: v for k, v in log.items() if k != "blockTimestamp"} for log in answer]
            asked.append(method)
            return answer

        return call

    asked, batches = [], []
    indexer = make_indexer(program, chain, project, index_db, request=without_timestamps)
    batch = indexer.batch
    indexer.batch = lambda calls: batches.append(len(calls)) or batch(calls)
    indexer.run()
    writes = asked.count("eth_getBlockByNumber")
    event_blocks = Store(index_db).all("SELECT DISTINCT block_number FROM events")
    assert batches and sum(batches) == len(event_blocks)
    assert writes <= 2  # the checkpoint's header (and the finality probe), never one per block
    direct = tmp_path / "direct.sqlite"
    make_indexer(program, chain, project, direct).run()
    shared_rows = "SELECT number, timestamp FROM blocks ORDER BY number"
    assert Store(index_db).all(shared_rows) == Store(direct).all(shared_rows)


def test_a_provider_without_batches_gets_one_header_request_each(index_db, program, chain, project):
    def without_timestamps(request):
        def call(method, params):
            answer = request(method, params)
            if method == "eth_getLogs":
                return [{k: v for k, v in log.items() if k != "blockTimestamp"} for log in answer]
            return answer

        return call

    def refusing(calls):
        raise IndexerRPCError({"code": -32600, "message": "batch requests are not supported"})

    indexer = make_indexer(program, chain, project, index_db, request=without_timestamps)
    indexer.batch = refusing
    indexer.run()
    assert indexer.batch is None  # given up after the first refusal, not on every range
    assert books.build(index_db, None, 18, chain.chain_id)["reconciled"] is True


def test_a_program_without_strays_costs_one_request_a_range(
    index_db, project, chain, accounts, tmp_path, monkeypatch
):
    """The common case: every token that moved did so with an escrow event. One eth_getLogs
    a range (the escrow's events), one eth_call for the balance, no transfer scanned; the
    books equal the events', and the balance read matches."""
    monkeypatch.chdir(tmp_path)
    record, escrow, token, end = funded_program(project, chain, accounts, 10_000, 10_000)
    admin, registrar = accounts[0], accounts[2]
    escrow.setRegistrar(registrar, 9_000 * UNIT, end, 0, sender=admin)
    for batch in range(4):
        escrow.attestBatch([student(10 * batch + n).as_tuple() for n in range(3)], sender=registrar)
    head = chain.provider.web3.eth.block_number
    asked = []
    indexer = make_indexer((record, escrow), chain, project, index_db, IndexerSettings(max_range=2))
    counting = indexer.request
    indexer.request = lambda method, params: asked.append(method) or counting(method, params)
    indexer.run()
    ranges = -(-(head - record.block + 1) // 2)
    assert asked.count("eth_getLogs") == ranges
    assert asked.count("eth_call") == 1
    assert events(index_db, "Transfer") == []
    audit = books.build(index_db, token.balanceOf(escrow), 18, chain.chain_id)
    assert audit["reconciled"] is True, audit["differences"]
    assert audit["totals"]["released"]["tokens"] == str(12 * 450)
