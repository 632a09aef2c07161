"""A BNB Chain testnet rehearsal: the whole program through `--network bsc:testnet:node`,
with BSC_TESTNET_RPC_URL pointing at an anvil that says it is chain 97 and mines a block a
second, so the paths a local chain skips run as they will on BNB Chain testnet: the record
meant to be committed, the salt in secrets/, legacy gas-price transactions, confirmations."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest
from shared import DONOR, REGISTRAR, wallet, write_roster

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_the_whole_program_through_bsc_testnet(start_anvil, deploy_test_token, tmp_path):
    from web3 import HTTPProvider, Web3

    testnet = start_anvil("--chain-id", "97", "--block-time", "1")
    work = tmp_path / "charity"
    work.mkdir()
    shutil.copy(ROOT / "ape-config.yaml", work / "ape-config.yaml")
    env = {**os.environ, "BSC_TESTNET_RPC_URL": f"http://127.0.0.1:{testnet}"}

    def itgen(*args: str) -> str:
        result = subprocess.run(
            [shutil.which("ape") or "ape", "itgen", *args, "--network", "bsc:testnet:node"],
            cwd=work, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, (
            f"ape itgen {' '.join(args)}:\n{result.stdout}{result.stderr}"
        )
        return result.stdout

    web3 = Web3(HTTPProvider(f"http://127.0.0.1:{testnet}"))
    assert web3.eth.chain_id == 97
    token = deploy_test_token(testnet, DONOR, mint=10**24)

    admin = ("--account", "TEST::0", "--yes")
    itgen("deploy", "--token", token, "--donor", DONOR, "--program-end", "2030-01-01", *admin)
    record_path = work / "deployments" / "bsc-testnet.json"  # meant to be committed
    record = json.loads(record_path.read_text())
    assert record["chain_id"] == 97 and record["network"] == "testnet"
    salt = work / "secrets" / "bsc-testnet.salt"
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600
    assert salt.read_text().strip()[2:] not in record_path.read_text()

    itgen("fund", "5000", "--account", "TEST::1", "--yes")
    itgen("courses", "set", "1", "--registration", "450", *admin)
    itgen("registrars", "add", REGISTRAR, "--allowance", "4000", *admin)
    roster = write_roster(
        work / "roster.csv",
        [[f"T-{n}", wallet(n, 0xCAFE000), "1", "registration"] for n in range(5)],
    )
    itgen("attest", str(roster), "--account", "TEST::2", "--yes")
    registrar_txs = [
        tx
        for n in range(record["block"], web3.eth.block_number + 1)
        for tx in web3.eth.get_block(n, full_transactions=True)["transactions"]
        if tx["from"] == REGISTRAR
    ]
    assert registrar_txs and all(tx["type"] == 0 for tx in registrar_txs)  # legacy gasPrice
    time.sleep(3)
    indexed = itgen("index", "--confirmations", "2", "--db", str(work / "index.sqlite"))
    assert "(2 confirmation(s) below the head)" in indexed
    itgen("audit", "--db", str(work / "index.sqlite"), "--out", str(work / "audit"))
    report = json.loads((work / "audit" / "audit.json").read_text())
    assert report["reconciled"] is True and report["totals"]["released"]["tokens"] == "2250"
    assert report["code_verification"]["match"] is True
