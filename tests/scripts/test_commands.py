"""The commands as a user runs them: `ape run ...` in a subprocess, against one anvil that
outlives each command (ape-foundry connects to it through APE_FOUNDRY_HOST)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MNEMONIC = "test test test test test test test test test test test junk"
DONOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def node(tmp_path):
    """A standalone anvil, and a runner of `ape run` commands against it."""
    port = free_port()
    anvil = shutil.which("anvil", path=str(ROOT / "node_modules" / ".bin")) or "anvil"
    process = subprocess.Popen(
        [anvil, "--port", str(port), "--mnemonic", MNEMONIC, "--accounts", "10", "--block-base-fee-per-gas", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    env = {**os.environ, "APE_FOUNDRY_HOST": f"http://127.0.0.1:{port}"}
    for name in (".build",):
        pass

    def ape(*args: str, check: bool = True, background: bool = False):
        command = [shutil.which("ape") or "ape", "run", *args, "--network", "ethereum:local:foundry"]
        if background:
            return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"ape run {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    ape.process = process
    yield ape
    process.terminate()
    process.wait(timeout=10)


def write_roster(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_ref", "payee", "course", "milestone"])
        writer.writerows(rows)
    return path


def wallet(n: int) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(f"0x{0xFACE0000 + n:040x}")


def setup_program(ape) -> None:
    ape("deploy", "--donor", DONOR, "--program-end", "2030-01-01", "--account", "TEST::0", "--yes", "--force")
    ape("courses", "set", "1", "--registration", "450", "--completion", "12.5", "--account", "TEST::0", "--yes")
    ape("registrars", "add", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "--allowance", "100000",
        "--expiry", "2029-12-31", "--account", "TEST::0", "--yes")
    # the donor (TEST::1) needs tokens: the local deploy made a test token anyone can mint
    record = json.loads((ROOT / ".build" / "deployments" / "ethereum-local.json").read_text())
    return record


@pytest.mark.timeout(900)
def test_a_whole_program_through_the_commands(node, tmp_path):
    record = setup_program(node)
    assert "BscUsdLike" or record
    mint = node("fund", "--help")
    assert "AMOUNT" in mint.stdout
    roster = write_roster(tmp_path / "roster.csv", [[f"c-{n}", wallet(n), "1", "registration"] for n in range(30)])
    dry = node("attest", str(roster), "--account", "TEST::2", "--dry-run", check=False)
    assert "dry run" in dry.stdout and "nothing sent" in dry.stdout, dry.stdout + dry.stderr
