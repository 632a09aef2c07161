"""Students without a wallet: a roster with no payee column is reserved, each student gets
a claim link, and the claim signed with the link's key pays the wallet the student names."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from shared import DAY, UNIT, wallet, write_roster

from itgen_chain import jobs
from itgen_chain.attestations import Milestone
from itgen_chain.exceptions import ItgenError, RosterError
from itgen_chain.reservations import Link, sign_claim
from itgen_chain.roster import read_roster

PAGE = "https://claim.example.org/"


@pytest.fixture
def program(new_program):
    escrow, token, registrar, _ = new_program(
        10_000, 5_000, [(1, 450, 50, True, 0), (3, 450, 0, True, 2)]
    )
    return escrow, token, registrar


def link_roster(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_ref", "course", "milestone"])
        writer.writerows(rows)
    return path


def sheet(folder):
    with (folder / "links.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_a_student_without_a_wallet_is_paid_through_the_link(program, tmp_path, chain, accounts):
    escrow, token, registrar = program
    roster = link_roster(tmp_path / "r.csv", [[f"UA-{n}", "1", "registration"] for n in range(3)])
    out = tmp_path / "sheet"
    jobs.attest(
        roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE, links_out=out
    )
    rows = sheet(out)
    assert [r["row"] for r in rows] == ["2", "3", "4"]  # rows of the roster, no references
    assert "UA-" not in (out / "links.csv").read_text() + (out / "sheet.html").read_text()
    assert escrow.reservedTotal() == 3 * 450 * UNIT
    assert escrow.registrar(registrar).released == 3 * 450 * UNIT
    assert len(list((out / "qr").glob("*.svg"))) == 3 and (out / "sheet.html").exists()
    link = Link.parse(rows[0]["link"])
    assert "?" not in rows[0]["link"] and link.escrow == escrow.address
    # The student opens the link and names a wallet; the relayer (anyone) submits.
    claim = sign_claim(
        link.student_id, link.milestone, wallet(1), chain.pending_timestamp + DAY,
        link.chain_id, link.escrow, link.claim_key,
    )  # fmt: skip
    escrow.claim(claim.as_tuple(), sender=accounts[8])
    assert token.balanceOf(wallet(1)) == 450 * UNIT

    # A rerun (after a crash, say) reserves nothing again and writes the same links.
    again = tmp_path / "again"
    jobs.attest(
        roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE, links_out=again
    )
    assert [r["link"] for r in sheet(again)] == [r["link"] for r in rows[1:]]
    assert escrow.registrar(registrar).released == 3 * 450 * UNIT


def test_a_lost_link_is_reissued_with_a_new_key(program, tmp_path, chain, accounts):
    escrow, token, registrar = program
    roster = link_roster(tmp_path / "r.csv", [["UA-9", "1", "registration"]])
    jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE,
                links_out=tmp_path / "one")  # fmt: skip
    lost = Link.parse(sheet(tmp_path / "one")[0]["link"])
    escrow.cancelReservations([(lost.student_id, 0)], sender=registrar)
    jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE,
                links_out=tmp_path / "two")  # fmt: skip
    new = Link.parse(sheet(tmp_path / "two")[0]["link"])
    assert new.claim_key != lost.claim_key
    old_claim = sign_claim(
        lost.student_id, Milestone.REGISTRATION, wallet(2), chain.pending_timestamp + DAY,
        lost.chain_id, lost.escrow, lost.claim_key,
    )  # fmt: skip
    import ape

    with ape.reverts(escrow.EscrowInvalidClaimSignature):
        escrow.claim(old_claim.as_tuple(), sender=accounts[8])


def test_a_link_roster_names_every_bad_row_and_reserves_nothing(program, tmp_path):
    escrow, token, registrar = program
    roster = link_roster(
        tmp_path / "r.csv",
        [["UA-1", "1", "registration"], ["UA-2", "3", "registration"], ["UA-3", "7", "registration"],
         ["UA-4", "1", "graduation"]],
    )  # fmt: skip
    with pytest.raises(RosterError) as caught:
        jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE,
                    links_out=tmp_path / "x")  # fmt: skip
    assert {(e.row, e.field) for e in caught.value.errors} == {
        (3, "course"),
        (4, "course"),
        (5, "milestone"),
    }
    assert escrow.reservedTotal() == 0 and not (tmp_path / "x").exists()


def test_a_link_roster_without_a_claim_page_is_refused(program, tmp_path):
    _, _, registrar = program
    roster = link_roster(tmp_path / "r.csv", [["UA-1", "1", "registration"]])
    with pytest.raises(ItgenError, match="--claim-page"):
        jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True)


def reserved_link(tmp_path, registrar, name="UA-50"):
    roster = link_roster(tmp_path / f"{name}.csv", [[name, "1", "registration"]])
    out = tmp_path / f"sheet-{name}"
    jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE,
                links_out=out)  # fmt: skip
    return Link.parse(sheet(out)[0]["link"])


def claim_of(link, payee, chain, key=None):
    return sign_claim(
        link.student_id, link.milestone, payee, chain.pending_timestamp + DAY,
        link.chain_id, link.escrow, key or link.claim_key,
    )  # fmt: skip


def serve_relayer(desk, limiter):
    """The relayer's HTTP service on a free port, in a thread; returns its URL and a stop."""
    import asyncio
    import threading

    from aiohttp import web

    from itgen_chain.claim_server import make_app

    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(desk, limiter))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    threading.Thread(target=loop.run_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}", lambda: loop.call_soon_threadsafe(loop.stop)


def test_the_relayer_journals_an_accepted_claim_and_pays_it_once_after_a_kill(
    program, tmp_path, chain, accounts
):
    from itgen_chain.program import connect
    from itgen_chain.relayer import ClaimDesk

    escrow, token, registrar = program
    link = reserved_link(tmp_path, registrar)
    program = connect()
    desk = ClaimDesk.for_escrow(program)
    wrong = desk.accept(claim_of(link, wallet(5), chain, key=bytes([7] * 32)))
    assert not wrong.accepted and "not signed with this link's key" in wrong.message
    answer = desk.accept(claim_of(link, wallet(5), chain))
    assert answer.accepted and "450.00" in answer.message
    # Killed before submitting: a new relayer finds the claim in its journal and pays it.
    reborn = ClaimDesk.for_escrow(program)
    assert len(reborn.pending) == 1
    assert reborn.submit(accounts[8]) == 1
    assert token.balanceOf(wallet(5)) == 450 * UNIT
    # The first relayer, still holding the claim, pays nobody twice; a third finds nothing.
    assert desk.submit(accounts[8]) == 0
    assert ClaimDesk.for_escrow(program).pending == {}
    again = ClaimDesk.for_escrow(program).accept(claim_of(link, wallet(6), chain))
    assert not again.accepted and "claimed already" in again.message
    assert token.balanceOf(wallet(6)) == 0


def test_the_relayer_service_answers_the_page_and_limits_each_client(
    program, tmp_path, chain, accounts
):
    import json
    import urllib.error
    import urllib.request

    from itgen_chain.claim_server import Limiter
    from itgen_chain.program import connect
    from itgen_chain.relayer import ClaimDesk

    escrow, token, registrar = program
    link = reserved_link(tmp_path, registrar)
    desk = ClaimDesk.for_escrow(connect())
    relayer, stop = serve_relayer(desk, Limiter(limit=3))

    def post(body):
        request = urllib.request.Request(
            f"{relayer}/claims", json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    try:
        status, answer = post({"studentId": "0x12"})
        assert status == 400 and answer["status"] == "refused"
        status, answer = post(claim_of(link, wallet(9), chain).as_json())
        assert status == 202 and answer["status"] == "accepted", answer
        assert post(claim_of(link, wallet(9), chain).as_json())[0] == 202  # the same, again
        status, answer = post(claim_of(link, wallet(9), chain).as_json())
        assert status == 429 and "Too many requests" in answer["message"]
    finally:
        stop()
    assert desk.submit(accounts[8]) == 1
    assert token.balanceOf(wallet(9)) == 450 * UNIT


CHROMIUM = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


class Browser:
    """Debian's chromium, headless, driven over the DevTools protocol (a websocket)."""

    def __init__(self, tmp_path):
        import shutil
        import subprocess
        import time

        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
        profile = tmp_path / "chromium-profile"
        self.process = subprocess.Popen(
            [binary, *CHROMIUM, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        active = profile / "DevToolsActivePort"
        for _ in range(300):
            if active.exists() and active.read_text().strip():
                break
            time.sleep(0.1)
        self.port = int(active.read_text().split()[0])
        self.ids = iter(range(1, 10**6))
        self.socket = None

    def open(self, url):
        import json
        import urllib.request

        from websockets.sync.client import connect

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list") as answer:
            page = next(t for t in json.loads(answer.read()) if t["type"] == "page")
        self.socket = connect(page["webSocketDebuggerUrl"], max_size=None)
        self.call("Page.navigate", url=url)

    def call(self, method, **params):
        import json

        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == number:
                return message.get("result", {})

    def run(self, script):
        result = self.call("Runtime.evaluate", expression=script, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, script, seconds=30):
        import time

        for _ in range(int(seconds * 10)):
            if value := self.run(script):
                return value
            time.sleep(0.1)
        raise AssertionError(f"never true in the page: {script}")

    def close(self):
        if self.socket is not None:
            self.socket.close()
        self.process.kill()
        self.process.wait()


def test_a_student_claims_through_the_page_in_a_real_browser_and_is_paid(
    program, tmp_path, chain, accounts
):
    """Open the link, type an address (first with a typo), claim, and the relayer pays."""
    from importlib.resources import files

    from eth_utils import keccak, to_checksum_address

    from itgen_chain.claim_server import Limiter
    from itgen_chain.program import connect
    from itgen_chain.relayer import ClaimDesk

    escrow, token, registrar = program
    link = reserved_link(tmp_path, registrar)
    desk = ClaimDesk.for_escrow(connect())
    relayer, stop = serve_relayer(desk, Limiter())
    page = files("itgen_chain") / "data" / "claim.html"
    url = Path(str(page)).resolve().as_uri() + "?lang=en#" + link.url().split("#", 1)[1]
    url += f"&r={relayer}"
    browser = Browser(tmp_path)
    try:
        browser.open(url)
        browser.wait_for("document.getElementById('details').dataset.from === 'chain'")
        assert "450.00" in browser.run("document.getElementById('details').textContent")
        student = to_checksum_address(keccak(b"a student's own wallet")[:20])
        at = next(i for i, c in enumerate(student) if i > 1 and c.isalpha())
        typo = student[:at] + student[at].swapcase() + student[at + 1 :]  # one case typed wrong
        typed = f"""(() => {{ const box = document.getElementById('address');
            box.value = '{typo}'; box.dispatchEvent(new Event('input')); return true; }})()"""
        browser.run(typed)
        assert "checksum" in browser.wait_for("document.getElementById('problem').textContent")
        browser.run(typed.replace(typo, student))
        browser.run("document.getElementById('claim').click(), true")
        said = browser.wait_for(
            "document.getElementById('status').dataset.state === 'accepted' && "
            "document.getElementById('status').textContent"
        )
        assert "450.00" in said and student in said
    finally:
        browser.close()
        stop()
    assert desk.submit(accounts[8]) == 1
    assert token.balanceOf(student) == 450 * UNIT


def test_claims_cancel_names_rows_without_an_open_reservation_and_cancels_the_rest(
    program, tmp_path
):
    escrow, token, registrar = program
    roster = link_roster(tmp_path / "r.csv", [[f"UA-7{n}", "1", "registration"] for n in range(2)])
    jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True, claim_page=PAGE,
                links_out=tmp_path / "s")  # fmt: skip
    with pytest.raises(RosterError) as caught:
        jobs.cancel_links(roster, registrar, {2, 9}, yes=True)
    assert [(e.row, e.field) for e in caught.value.errors] == [(9, "row")]
    assert escrow.reservedTotal() == 900 * UNIT
    assert jobs.cancel_links(roster, registrar, {3}, yes=True) == 1
    assert escrow.reservedTotal() == 450 * UNIT
    with pytest.raises(RosterError, match="no open reservation"):
        jobs.cancel_links(roster, registrar, {3}, yes=True)


def test_a_student_reserved_by_another_registrar_is_named_as_a_claim_jump(
    program, tmp_path, accounts
):
    """A rogue registrar reserves an honest registrar's student for its own claim key: the
    honest run pays the rest and names the row."""
    from eth_account import Account

    from itgen_chain.exceptions import ClaimJumped
    from itgen_chain.program import connect

    escrow, token, registrar = program
    rogue = accounts[5]
    escrow.setRegistrar(rogue, 5_000 * UNIT, escrow.programEnd(), 0, sender=accounts[0])
    roster = write_roster(
        tmp_path / "r.csv", [[f"UA-8{n}", wallet(80 + n), "1", "registration"] for n in range(3)]
    )
    program = connect()
    first = read_roster(roster, program.deployment.salt)[0].attestation
    thief_key = Account.from_key(bytes([9] * 32)).address
    escrow.reserveBatch([(first.student_id, thief_key, 1, 0)], sender=rogue)
    with pytest.raises(ClaimJumped) as caught:
        jobs.attest(roster, registrar, batch_size=100, dry_run=False, yes=True)
    [jump] = caught.value.jumps
    assert (
        jump.row == 2
        and "RESERVED FOR A CLAIM LINK" in jump.line()
        and rogue.address in jump.line()
    )
    assert token.balanceOf(wallet(81)) == token.balanceOf(wallet(82)) == 450 * UNIT
