"""The commands as separate processes, where a process is what is tested: killed in the
middle of a batch, its node stopping, the relayer killed after it accepted a claim, and the
plugin's entry point. (Everything else the commands do is tested in-process, in
tests/commands.) One anvil outlives the commands; ape-foundry reaches it through
APE_FOUNDRY_HOST."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from shared import setup_program, token_call, wallet, write_roster

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def node(start_anvil, tmp_path):
    """A standalone anvil enforcing BNB Chain's 2^24 gas per transaction, and a runner of
    `ape run` commands against it, with the records and journals under tmp_path."""
    port = start_anvil("--accounts", "10", "--block-base-fee-per-gas", "0", "--enable-tx-gas-limit")
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": f"http://127.0.0.1:{port}",
        "ITGEN_LOCAL_FOLDER": str(tmp_path / "local"),
        "ITGEN_WORK_FOLDER": str(tmp_path / "var"),
    }

    def ape(
        *args: str,
        check: bool = True,
        background: bool = False,
        network: str = "ethereum:local:foundry",
        settings: dict[str, str] | None = None,
    ):
        """`ape run ARGS`, the repository's scripts (`ape itgen` is the same click group);
        `settings` are ITGEN_* variables for a background run."""
        command = [shutil.which("ape") or "ape", "run", *args, "--network", network]
        if background:
            return subprocess.Popen(
                command, cwd=ROOT, env={**env, **(settings or {})}, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"ape run {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    ape.port = port
    ape.process = start_anvil.processes[port]
    ape.records = tmp_path / "local" / "deployments"
    ape.journals = tmp_path / "var" / "journal"
    ape.web3 = web3_for(port)
    return ape


def web3_for(port: int):
    from web3 import HTTPProvider, Web3

    return Web3(HTTPProvider(f"http://127.0.0.1:{port}"))


def balance(ape, token: str, who: str) -> int:
    return token_call(ape.web3, token, "balanceOf(address)", who)


def wait_for_sending(node, since: float, count: int, timeout: float = 120) -> Path:
    """The run's journal, once it says `count` batches are being sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        journals = sorted(node.journals.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
        if (
            journals
            and journals[-1].stat().st_mtime >= since
            and journals[-1].read_text().count('"sending"') >= count
        ):
            return journals[-1]
        time.sleep(0.02)
    raise AssertionError("the run never journalled a batch")


def attest_in_background(node, roster: Path, sent: int, **settings: str):
    """Starts attesting ROSTER (400 rows, batches of 40) with these ITGEN_* settings; returns
    once `sent` batches went out."""
    started = time.time()
    run = node(
        "attest",
        str(roster),
        "--account",
        "TEST::2",
        "--batch-size",
        "40",
        "--yes",
        background=True,
        settings=settings,
    )
    wait_for_sending(node, started, sent)
    return run


def test_a_run_killed_mid_batch_is_resumed_and_pays_nobody_twice(node, tmp_path):
    record = setup_program(node, funds="400000")
    roster = write_roster(
        tmp_path / "big.csv", [[f"k-{n}", wallet(n), "1", "registration"] for n in range(400)]
    )
    run = attest_in_background(node, roster, sent=3)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    resumed = node("attest", str(roster), "--account", "TEST::2", "--batch-size", "40", "--yes")
    assert "paid" in resumed.stdout
    token = record["token"]
    paid = [balance(node, token, wallet(n)) for n in range(400)]
    assert paid == [450 * 10**18] * 400
    assert balance(node, token, record["escrow"]) == (400_000 - 400 * 450) * 10**18


def test_the_node_stopping_mid_run_names_the_command_that_resumes(node, tmp_path):
    setup_program(node, funds="400000")
    roster = write_roster(
        tmp_path / "big.csv", [[f"n-{n}", wallet(n), "1", "registration"] for n in range(400)]
    )
    # One retry, not the default five: what is said once they are spent is the same.
    run = attest_in_background(node, roster, sent=2, ITGEN_RETRIES="1")
    node.process.kill()
    output, _ = run.communicate(timeout=300)
    assert run.returncode != 0
    assert "the node stopped answering" in output
    assert f"ape itgen attest {roster} --network ethereum:local:foundry --account TEST::2" in output


def test_ape_itgen_lists_every_command_with_one_line_each():
    said = subprocess.run(
        [shutil.which("ape") or "ape", "itgen", "--help"], capture_output=True, text=True
    ).stdout
    commands = [line.split()[0] for line in said.split("Commands:")[1].splitlines() if line.strip()]
    assert commands == sorted(
        [
            "admin",
            "attest",
            "audit",
            "batch",
            "claims",
            "close",
            "courses",
            "deploy",
            "extend",
            "fund",
            "guardian",
            "index",
            "pause",
            "programs",
            "registrars",
            "relay",
            "rescue",
            "safe",
            "sign",
            "verify",
            "watch",
        ]
    )
    assert "..." not in said.split("Commands:")[1]


def test_the_relayer_killed_after_accepting_a_claim_pays_it_once_when_restarted(node, tmp_path):
    """kill -9 of `ape itgen claims serve` after it answered 'accepted': the claim is in its
    journal, and the restarted relayer pays it, once."""
    import socket
    import urllib.error
    import urllib.request

    from itgen_chain.reservations import Link, sign_claim

    record = setup_program(node)
    links = tmp_path / "links.csv"
    links.write_text("student_ref,course,milestone\nk-1,1,registration\n")
    sheet = tmp_path / "sheet"
    node("attest", str(links), "--account", "TEST::2", "--yes",
         "--claim-page", "https://claim.example.org/", "--links-out", str(sheet))  # fmt: skip
    link = Link.parse((sheet / "links.csv").read_text().splitlines()[1].split(",")[-1])
    web3 = node.web3
    claim = sign_claim(
        link.student_id, link.milestone, wallet(501), web3.eth.get_block("latest").timestamp + 86_400,
        link.chain_id, link.escrow, link.claim_key,
    )  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def relayer(interval: str):
        run = node("claims", "serve", "--account", "TEST::8", "--port", str(port),
                   "--interval", interval, background=True)  # fmt: skip
        for line in run.stdout:
            if "relayer on" in line:
                return run
        raise AssertionError("the relayer did not start")

    def post():
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/claims", json.dumps(claim.as_json()).encode(),
            {"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    first = relayer("3600")  # would submit only in an hour
    status, answer = post()
    assert status == 202 and answer["status"] == "accepted", answer
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert balance(node, record["token"], wallet(501)) == 0
    second = relayer("1")
    try:
        for _ in range(120):
            if balance(node, record["token"], wallet(501)):
                break
            time.sleep(0.5)
        assert balance(node, record["token"], wallet(501)) == 450 * 10**18
        status, answer = post()  # the same claim again: nothing left to pay
        assert status == 400 and "claimed already" in answer["message"]
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert balance(node, record["token"], wallet(501)) == 450 * 10**18
