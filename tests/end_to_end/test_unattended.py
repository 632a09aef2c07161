"""A registrar's keystore account in an unattended run: no terminal (a new session, stdin
closed), the passphrase from ape's variable, `--yes`; one line a batch, not ape's dump."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from shared import DONOR

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_attest_and_sign_with_a_keystore_account_and_no_terminal(
    start_anvil, deploy_test_token, tmp_path
):
    from eth_account import Account
    from web3 import HTTPProvider, Web3

    port = start_anvil("--block-base-fee-per-gas", "0")
    web3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}"))
    key = Account.create()
    machine = tmp_path / "registrar-machine"
    (machine / "accounts").mkdir(parents=True)
    (machine / "accounts" / "clerk.json").write_text(
        json.dumps(Account.encrypt(key.key, "clerk passphrase"))
    )
    web3.eth.wait_for_transaction_receipt(
        web3.eth.send_transaction(
            {"from": web3.eth.accounts[0], "to": key.address, "value": 10**18}
        )
    )
    work = tmp_path / "charity"
    work.mkdir()
    shutil.copy(ROOT / "ape-config.yaml", work / "ape-config.yaml")
    base = {**os.environ, "APE_FOUNDRY_HOST": f"http://127.0.0.1:{port}"}
    base.pop("ITGEN_LOCAL_FOLDER", None)

    def itgen(*args: str, env=None, ok=True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [shutil.which("ape") or "ape", "itgen", *args, "--network", "ethereum:local:foundry"],
            cwd=work, env=env or base, capture_output=True, text=True, timeout=300,
            stdin=subprocess.DEVNULL, start_new_session=True,  # setsid: no controlling terminal
        )  # fmt: skip
        said = result.stdout + result.stderr
        assert "Traceback" not in said and "Aborted!" not in said, said
        assert (result.returncode == 0) == ok, f"ape itgen {' '.join(args)}:\n{said}"
        return result

    token = deploy_test_token(port, DONOR, mint=10**24)
    admin = ("--account", "TEST::0", "--yes")
    itgen("deploy", "--token", token, "--donor", DONOR, "--program-end", "2030-01-01", *admin)
    itgen("fund", "10000", "--account", "TEST::1", "--yes")
    itgen("courses", "set", "1", "--registration", "450", *admin)
    itgen("registrars", "add", key.address, "--allowance", "5000", *admin)
    roster = work / "roster.csv"
    with roster.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_ref", "payee", "course", "milestone"])
        for n in range(6):
            writer.writerow([f"UA-{n}", Web3.to_checksum_address(f"0x{0xA77E000 + n:040x}"), 1,
                             "registration"])  # fmt: skip
    registrar = {**base, "APE_DATA_FOLDER": str(machine)}
    # No passphrase and no terminal: one line naming the variable; nothing paid.
    refused = itgen("attest", str(roster), "--account", "clerk", "--yes", "--batch-size", "2",
                    env=registrar, ok=False)  # fmt: skip
    assert refused.stderr.strip().splitlines() == [
        "Error: the keystore account clerk needs its passphrase and there is no terminal to ask "
        "at: set APE_ACCOUNTS_clerk_PASSPHRASE for an unattended run; nothing was sent"
    ]
    unattended = {**registrar, "APE_ACCOUNTS_clerk_PASSPHRASE": "clerk passphrase"}
    wrong = itgen("attest", str(roster), "--account", "clerk", "--yes",
                  env={**unattended, "APE_ACCOUNTS_clerk_PASSPHRASE": "not it"}, ok=False)  # fmt: skip
    assert len(wrong.stderr.strip().splitlines()) == 1 and "Error: " in wrong.stderr
    paid = itgen("attest", str(roster), "--account", "clerk", "--yes", "--batch-size", "2",
                 env=unattended)  # fmt: skip
    lines = paid.stdout.splitlines()
    assert [line.split(" in ")[0] for line in lines if line.startswith("batch ")] == [
        "batch 1: 2 attestation(s)",
        "batch 2: 2 attestation(s)",
        "batch 3: 2 attestation(s)",
    ]
    assert "paid 6 in 3 transaction(s)" in paid.stdout
    assert len(lines) < 15 and "DynamicFeeTransaction" not in paid.stdout + paid.stderr
    # sign, the same way; the roster now paid, it says so and writes nothing.
    signed = itgen("sign", str(roster), "--out", str(work / "signed.json"), "--account", "clerk",
                   "--yes", env=unattended, ok=False)  # fmt: skip
    assert "nothing to sign (every row is already paid)" in signed.stderr
    assert not (work / "signed.json").exists()
