"""The watch on anvil: each rule fires on its scenario and stays silent on an honest
program; the guardian pauses once; a restart repeats nothing; a receiver that was down
gets every alert once it is back."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from shared import UNIT, wallet, write_roster

from itgen_chain import jobs
from itgen_chain.watch import Sink, Watch, WatchSettings, WebhookSink


class Recorder(Sink):
    name = "recorder"

    def __init__(self):
        self.alerts = []

    def deliver(self, alert):
        self.alerts.append(alert)


@pytest.fixture
def program(new_program, accounts):
    """An escrow whose admin (accounts[0]) is also its guardian; a registrar (accounts[2])
    with 10,000 of allowance for course 1 (450); 12,000 in the escrow."""
    escrow, token, registrar, _ = new_program(12_000, 10_000, [(1, 450, 50, True, 0)])
    return escrow, token, registrar, accounts[0]


def watch_for(tmp_path, admin, sinks=(), **settings):
    from itgen_chain.program import connect

    return Watch(connect(), tmp_path / "watch.json", sinks, admin, False, WatchSettings(**settings))


def attest(tmp_path, registrar, rows, name="r.csv"):
    path = write_roster(tmp_path / name, rows)
    jobs.attest(path, registrar, batch_size=100, dry_run=False, yes=True)


def test_an_honest_program_raises_no_alert(program, tmp_path):
    escrow, _, registrar, admin = program
    recorder = Recorder()
    watch = watch_for(tmp_path, admin, [recorder])
    attest(tmp_path, registrar, [[f"h-{n}", wallet(n), "1", "registration"] for n in range(8)])
    assert watch.poll() == [] and recorder.alerts == []
    assert not escrow.paused()


def test_a_thief_paying_one_wallet_for_many_students_is_paused_once(program, tmp_path, accounts):
    escrow, token, registrar, admin = program
    recorder = Recorder()
    watch = watch_for(tmp_path, admin, [recorder])
    thief = wallet(666)
    attest(tmp_path, registrar, [[f"t-{n}", thief, "1", "registration"] for n in range(3)])
    alerts = watch.poll()
    [reuse] = [a for a in alerts if a.rule == "payee_reuse"]
    assert reuse.severity == "critical" and reuse.registrar == registrar.address
    assert "the watch paused the escrow" in reuse.what and escrow.paused()
    assert [a.rule for a in recorder.alerts] == [a.rule for a in alerts]
    escrow.unpause(sender=admin)  # the admin resumes after the investigation
    attest(tmp_path, registrar, [[f"u-{n}", thief, "1", "registration"] for n in range(2)], "u.csv")
    later = watch.poll()
    assert not escrow.paused()  # paused once: the watch never pauses a second time
    assert [a.rule for a in later] == ["admin"]  # the unpause itself; the payee was alerted


def test_the_rate_the_payee_roles_and_the_allowance_each_fire(program, tmp_path, project, accounts):
    escrow, token, registrar, admin = program
    watch = watch_for(tmp_path, admin, max_payouts=4)
    contract = project.BscUsdLike.deploy(sender=admin)
    rows = [[f"r-{n}", wallet(100 + n), "1", "registration"] for n in range(4)]
    rows += [
        ["r-admin", admin.address, "1", "registration"],
        ["r-c", contract.address, "1", "registration"],
    ]
    attest(tmp_path, registrar, rows)
    found = {(a.rule, a.severity) for a in watch.poll()}
    assert {("rate", "critical"), ("payee_role", "critical"), ("payee_role", "warning")} <= found
    escrow.unpause(sender=admin)
    rest = [[f"a-{n}", wallet(200 + n), "1", "registration"] for n in range(15)]
    attest(tmp_path, registrar, rest, "rest.csv")
    [allowance] = [a for a in watch.poll() if a.rule == "allowance"]
    # 21 registered (9,450 of 10,000 released): 550 left, 21 completions owed need 1,050
    assert allowance.amount == "550.00" and "owes 21 students need 1,050.00" in allowance.what


def test_an_allowance_sized_to_the_cohort_raises_nothing_as_it_is_spent(
    new_program, tmp_path, accounts
):
    """The seed program's way: an allowance of exactly what its students' registrations
    and completions need, spent to the last student, is no alert; one student more than it
    covers is."""
    escrow, _, registrar, _ = new_program(20_000, 10 * 500, [(1, 450, 50, True, 0)])
    admin = accounts[0]
    watch = watch_for(tmp_path, admin, allowance_warn=0)
    from itgen_chain.program import connect

    share = Watch(
        connect(), tmp_path / "share.json", (), None, True, WatchSettings(allowance_warn=0.9)
    )
    rows = [[f"c-{n}", wallet(300 + n), "1", "registration"] for n in range(10)]
    attest(tmp_path, registrar, rows)
    assert watch.poll() == []  # 4,500 of 5,000: the 500 left is the 10 completions owed
    assert [a.what for a in share.poll()] == ["500.00 tokens of allowance left"]  # 90% spent
    done = [[f"c-{n}", wallet(300 + n), "1", "completion"] for n in range(10)]
    attest(tmp_path, registrar, done, "done.csv")
    assert watch.poll() == [] and escrow.registrar(registrar).released == 5_000 * UNIT
    escrow.setRegistrar(registrar, 5_450 * UNIT, escrow.programEnd(), 0, sender=admin)
    attest(tmp_path, registrar, [["c-late", wallet(399), "1", "registration"]], "late.csv")
    found = [a for a in watch.poll() if a.rule == "allowance"]
    assert [a.what for a in found] == [  # its completion (50) is not covered
        "0.00 tokens of allowance left; the completions it owes 1 student need 50.00"
    ]


def test_role_changes_and_underfunding_are_reported(program, tmp_path, accounts):
    escrow, _, registrar, admin = program
    watch = watch_for(tmp_path, admin)
    escrow.setRegistrar(accounts[5], 5_000 * UNIT, escrow.programEnd(), 0, sender=admin)
    alerts = watch.poll()
    assert [a.rule for a in alerts if a.severity == "info"] == ["admin"]
    [short] = [a for a in alerts if a.rule == "underfunded"]  # 15,000 may go, 12,000 held
    assert short.amount == "3,000.00"


def test_a_restart_repeats_nothing_and_misses_nothing(program, tmp_path):
    escrow, _, registrar, admin = program
    first = watch_for(tmp_path, admin)
    thief = wallet(777)
    attest(tmp_path, registrar, [[f"s-{n}", thief, "1", "registration"] for n in range(2)])
    assert [a.rule for a in first.poll() if a.rule != "admin"] == ["payee_reuse"]
    escrow.unpause(sender=admin)
    again = watch_for(tmp_path, admin)  # a restart: the same checkpoint
    assert [a.rule for a in again.poll()] == ["admin"]  # the unpause, nothing repeated
    attest(tmp_path, registrar, [["s-9", wallet(778), "1", "registration"]], "more.csv")
    attest(tmp_path, registrar, [["s-10", wallet(778), "1", "registration"]], "more2.csv")
    later = watch_for(tmp_path, admin).poll()
    assert [a.rule for a in later] == ["payee_reuse"]  # new, not missed
    assert "not paused" not in later[0].what and not escrow.paused()  # paused once, before


def test_a_receiver_that_was_down_gets_every_alert_once_it_is_back(program, tmp_path):
    import socket

    escrow, _, registrar, admin = program
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = WebhookSink(f"http://127.0.0.1:{port}/alerts", "s3cret")
    watch = watch_for(tmp_path, admin, [sink])
    attest(tmp_path, registrar, [[f"w-{n}", wallet(900), "1", "registration"] for n in range(2)])
    raised = watch.poll()
    assert raised and len(watch.state.outbox) == len(raised)  # nobody listening: kept

    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
            assert self.headers["X-Itgen-Signature"] == f"sha256={expected}"
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        again = watch_for(tmp_path, admin, [sink])  # restarted meanwhile, too
        assert again.poll() == []
        assert sorted(r["key"] for r in received) == sorted(a.key for a in raised)
        assert again.state.outbox == []
        again.poll()
        assert len(received) == len(raised)  # once each
    finally:
        server.shutdown()


def test_a_reorganised_alerted_block_is_reported(program, tmp_path, chain):
    escrow, _, registrar, admin = program
    watch = watch_for(tmp_path, admin)
    watch.guardian = None  # alert only: the pause would sit in the blocks reorganised
    attest(tmp_path, registrar, [[f"o-{n}", wallet(31), "1", "registration"] for n in range(2)])
    [reuse] = [a for a in watch.poll() if a.rule == "payee_reuse"]
    depth = chain.provider.web3.eth.block_number - reuse.block + 1
    chain.provider.web3.provider.make_request("anvil_reorg", [depth, []])
    [reorg] = watch.poll()
    assert reorg.rule == "reorg" and reorg.block == reuse.block and reuse.key in reorg.what


def test_telegram_and_script_sinks_take_the_alert(program, tmp_path):
    from itgen_chain.watch import Alert, ScriptSink, TelegramSink

    sent = []

    class Bot(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            sent.append(
                (self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            )
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Bot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    alert = Alert("k", "payee_reuse", "critical", 1, "0x", "0xtx", "0xreg", "450.00", "what", "do")
    try:
        TelegramSink(f"http://127.0.0.1:{server.server_address[1]}", "T0KEN", "-100").deliver(alert)
    finally:
        server.shutdown()
    assert sent[0][0] == "/botT0KEN/sendMessage" and sent[0][1]["chat_id"] == "-100"
    assert "[critical] payee_reuse" in sent[0][1]["text"]
    script = tmp_path / "alert.sh"
    script.write_text(f"#!/bin/sh\ncat > {tmp_path / 'got.json'}\n")
    script.chmod(0o755)
    ScriptSink(str(script)).deliver(alert)
    assert json.loads((tmp_path / "got.json").read_text())["rule"] == "payee_reuse"


class MailRoom:
    """An SMTP receiver stand-in (the commands a mail server answers, nothing more) on a
    port of its own; `messages` holds what it was given."""

    def __init__(self, port=0):
        import socketserver

        room = self
        self.messages = []

        class Session(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 mailroom ESMTP\r\n")
                data = None
                for raw in self.rfile:
                    line = raw.decode().rstrip("\r\n")
                    if data is not None:
                        if line == ".":
                            room.messages.append("\n".join(data))
                            data = None
                            self.wfile.write(b"250 queued\r\n")
                        else:
                            data.append(line)
                        continue
                    verb = line[:4].upper()
                    if verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    if verb == "DATA":
                        data = []
                        self.wfile.write(b"354 go on\r\n")
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Session)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_an_email_reaches_the_mail_server_once_it_is_back(program, tmp_path):
    import socket

    escrow, _, registrar, admin = program
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = {"email_to": "ops@charity.example", "smtp_host": "127.0.0.1", "smtp_port": port}
    from itgen_chain.watch import sinks_from

    sinks = sinks_from(WatchSettings(**settings))
    watch = watch_for(tmp_path, admin, sinks, **settings)
    attest(tmp_path, registrar, [[f"m-{n}", wallet(910), "1", "registration"] for n in range(2)])
    raised = watch.poll()
    assert raised and len(watch.state.outbox) == len(raised)  # no mail server: kept
    socketserver_ready = MailRoom(port)
    try:
        watch.poll()
        messages = socketserver_ready.messages
    finally:
        socketserver_ready.close()
    assert len(messages) == len(raised) and watch.state.outbox == []
    reuse = next(m for m in messages if "payee_reuse" in m.split("\n\n")[0])
    assert "To: ops@charity.example" in reuse and "[critical] payee_reuse" in reuse


def test_a_burst_of_reverted_attestations_is_reported_as_probing(program, tmp_path, chain):
    """Someone holding a key tries attestations the escrow refuses, again and again."""
    from eth_utils import keccak

    escrow, _, registrar, admin = program
    watch = watch_for(tmp_path, admin, max_reverts=3)
    web3 = chain.provider.web3
    contract = web3.eth.contract(escrow.address, abi=watch.program.payouts.abi)
    for n in range(3):  # course 9 does not exist: each is refused, mined with a set gas
        item = (keccak(text=f"probe-{n}"), wallet(50 + n), 9, 0)
        tx = contract.functions.attestBatch([item]).transact(
            {"from": registrar.address, "gas": 200_000}
        )
        assert web3.eth.wait_for_transaction_receipt(tx)["status"] == 0
    [probe] = [a for a in watch.poll() if a.rule == "probing"]
    assert probe.registrar == registrar.address and "3 reverted" in probe.what
