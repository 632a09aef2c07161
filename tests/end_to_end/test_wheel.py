"""The package as people install it: the wheel, built from this repository, installed with
pip into a fresh virtual environment in a temporary folder, with no npm and no solc on the
PATH, runs a whole program against anvil through `ape itgen`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shared import DONOR, REGISTRAR

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding the built wheel and what it depends on, pinned by the lock."""
    where = tmp_path_factory.mktemp("outside")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    # setuptools keeps build/lib between builds and would ship stale modules from it.
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(where / "dist"), str(ROOT)], check=True)
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    wheel = next((where / "dist").glob("itgen_chain-*.whl"))
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "-q",
         "-c", str(ROOT / "requirements.lock"), str(wheel)],
        check=True,
    )  # fmt: skip
    return where, venv


@pytest.mark.timeout(900)
def test_the_installed_wheel_runs_a_whole_program_outside_the_repository(
    installed, start_anvil, deploy_test_token, tmp_path
):
    from web3 import Web3

    where, venv = installed
    chain_node = start_anvil("--block-base-fee-per-gas", "0")
    work = tmp_path / "charity"
    work.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",  # no node_modules, no solc, no repo venv
        "HOME": os.environ["HOME"],
        "APE_FOUNDRY_HOST": f"http://127.0.0.1:{chain_node}",
    }
    assert shutil.which("solc", path=env["PATH"]) is None
    assert shutil.which("node", path=f"{venv / 'bin'}") is None

    def itgen(*args: str) -> str:
        result = subprocess.run(
            [str(venv / "bin" / "ape"), "itgen", *args, "--network", "ethereum:local:foundry"],
            cwd=work, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, (
            f"ape itgen {' '.join(args)}:\n{result.stdout}{result.stderr}"
        )
        return result.stdout

    # The token is the chain's business, not the package's: a BSC-USD-like one, by web3.
    token = deploy_test_token(chain_node, DONOR, mint=10**24)

    admin = ("--account", "TEST::0", "--yes")
    itgen("deploy", "--token", token, "--donor", DONOR, "--program-end", "2030-01-01", *admin)
    record = json.loads((work / ".build" / "deployments" / "ethereum-local.json").read_text())
    itgen("fund", "10000", "--account", "TEST::1", "--yes")
    itgen("courses", "set", "1", "--registration", "450", *admin)
    itgen("registrars", "add", REGISTRAR, "--allowance", "5000", *admin)
    roster = work / "roster.csv"
    roster.write_text(
        "student_ref;payee;course;milestone\n"
        + "".join(
            f"UA-2026-{n:05d};{Web3.to_checksum_address(f'0x{0xBEE0000 + n:040x}')};1;registration\n"
            for n in range(6)
        )
    )
    itgen("attest", str(roster), "--account", "TEST::2", "--yes")
    itgen("index", "--db", str(work / "index.sqlite"))
    audited = itgen("audit", "--db", str(work / "index.sqlite"), "--out", str(work / "audit"))
    report = json.loads((work / "audit" / "audit.json").read_text())
    assert report["reconciled"] is True and report["totals"]["released"]["tokens"] == "2700"
    assert f"code: {record['escrow']}: match" in audited
    assert f"{record['escrow']}: match" in itgen("verify", "--out", str(work / "verify"))


@pytest.mark.timeout(900)
def test_the_wheel_reaches_bsc_testnet_by_the_documented_variable_in_empty_folders(
    installed, start_anvil, deploy_test_token, tmp_path
):
    """README's way to BNB Chain testnet, outside the repository: `--network
    bsc:testnet:node` and BSC_TESTNET_RPC_URL, here pointed at an anvil that says it is
    chain 97. The admin, a registrar (the escrow's address and its salt file only) and an
    auditor (the address only) each work in an empty folder of their own."""
    from web3 import Web3

    where, venv = installed
    port = start_anvil("--chain-id", "97", "--block-base-fee-per-gas", "0", "--block-time", "1")
    base = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": os.environ["HOME"]}
    node = {**base, "BSC_TESTNET_RPC_URL": f"http://127.0.0.1:{port}"}

    def itgen(folder: Path, *args: str, env=node, ok: bool = True) -> subprocess.CompletedProcess:
        folder.mkdir(exist_ok=True)
        result = subprocess.run(
            [str(venv / "bin" / "ape"), "itgen", *args, "--network", "bsc:testnet:node"],
            cwd=folder, env=env, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        said = result.stdout + result.stderr
        assert "Traceback" not in said, said
        assert (result.returncode == 0) == ok, f"ape itgen {' '.join(args)}:\n{said}"
        return result

    # Without the variable: one line, at once, not minutes of public endpoints.
    lost = itgen(tmp_path / "nowhere", "programs", env=base, ok=False)
    assert "export BSC_TESTNET_RPC_URL=" in lost.stderr and len(lost.stderr.splitlines()) == 1

    admin_folder, admin = tmp_path / "admin", ("--account", "TEST::0", "--yes")
    token = deploy_test_token(port, DONOR, mint=10**24)
    itgen(admin_folder, "deploy", "--token", token, "--donor", DONOR, "--program-end", "2030-01-01", *admin)  # fmt: skip
    record = json.loads((admin_folder / "deployments" / "bsc-testnet.json").read_text())
    itgen(admin_folder, "fund", "10000", "--account", "TEST::1", "--yes")
    itgen(admin_folder, "courses", "set", "1", "--registration", "450", *admin)
    itgen(admin_folder, "registrars", "add", REGISTRAR, "--allowance", "5000", *admin)

    registrar = tmp_path / "registrar"
    registrar.mkdir()
    shutil.copy(admin_folder / "secrets" / "bsc-testnet.salt", registrar / "program.salt")
    (registrar / "roster.csv").write_text(
        "student_ref,payee,course,milestone\n"
        + "".join(
            f"UA-{n},{Web3.to_checksum_address(f'0x{0xB5C0000 + n:040x}')},1,registration\n"
            for n in range(3)
        )
    )
    escrow = ("--escrow", record["escrow"])
    paid = itgen(registrar, "attest", "roster.csv", *escrow, "--salt-file", "program.salt",
                 "--account", "TEST::2", "--yes")  # fmt: skip
    assert "paid 3 in 1 transaction(s)" in paid.stdout
    assert sorted(p.name for p in registrar.iterdir()) == ["program.salt", "roster.csv", "var"]

    auditor = tmp_path / "auditor"
    itgen(auditor, "index", *escrow, "--db", "index.sqlite", "--confirmations", "0")
    itgen(auditor, "audit", *escrow, "--db", "index.sqlite", "--out", "audit")
    report = json.loads((auditor / "audit" / "audit.json").read_text())
    assert report["reconciled"] is True and report["totals"]["released"]["tokens"] == "1350"
    assert report["chain_id"] == 97
