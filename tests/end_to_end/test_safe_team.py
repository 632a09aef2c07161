"""A 2-of-3 Safe team on BNB Chain testnet with no hosted service: three owners, each a
separate process with a keystore of its own (ape's encrypted keyfiles, the passphrase from
the environment), on an anvil that says it is chain 97, reached as `bsc:testnet:node`.

Each change travels as a Safe transaction file: one owner makes it, another signs it (or
approves its hash on chain), a third executes it; each is shown the calls decoded and the
Safe transaction hash first. A whole drill is one Transaction Builder file. An export
altered to add a Safe owner is refused with the call shown as it is."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shared import DONOR, REGISTRAR

ROOT = Path(__file__).resolve().parents[2]
GUARDIAN = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # TEST::5
NEW_KEY = "0x" + "7e" * 20
HASH = re.compile(r"Safe transaction hash: (0x[0-9a-f]{64})")


@pytest.fixture
def team(start_anvil, tmp_path):
    """The chain-97 node, the charity's folder (its committed deployment record), three
    owners with keystores of their own, and their 2-of-3 Safe."""
    from eth_account import Account
    from web3 import HTTPProvider, Web3

    sys.path.insert(0, str(ROOT))
    from devtools import safe_contracts

    port = start_anvil("--chain-id", "97", "--block-time", "1")
    web3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}"))
    assert web3.eth.chain_id == 97
    work = tmp_path / "charity"
    work.mkdir()
    shutil.copy(ROOT / "ape-config.yaml", work / "ape-config.yaml")
    owners = {}
    for n in (1, 2, 3):
        key = Account.create()
        folder = tmp_path / f"owner{n}-machine"
        (folder / "accounts").mkdir(parents=True)
        keyfile = Account.encrypt(key.key, f"passphrase of owner {n}")
        (folder / "accounts" / f"owner{n}.json").write_text(json.dumps(keyfile))
        web3.eth.wait_for_transaction_receipt(
            web3.eth.send_transaction(
                {"from": web3.eth.accounts[0], "to": key.address, "value": 10**18}
            )
        )
        owners[n] = (key.address, folder)
    safe_contracts.deploy_canonical(web3, web3.eth.accounts[0])
    safe = safe_contracts.create_safe(
        web3, web3.eth.accounts[0], sorted(a for a, _ in owners.values()), 2
    )

    def run(who: int | None, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`ape itgen ARGS` on `bsc:testnet:node` in owner `who`'s process (its keystore and
        passphrase only), or with who=None as the charity's operator."""
        env = {**os.environ, "BSC_TESTNET_RPC_URL": f"http://127.0.0.1:{port}"}
        if who is not None:
            env["APE_DATA_FOLDER"] = str(owners[who][1])
            env[f"APE_ACCOUNTS_owner{who}_PASSPHRASE"] = f"passphrase of owner {who}"
        result = subprocess.run(
            [shutil.which("ape") or "ape", "itgen", *args, "--network", "bsc:testnet:node"],
            cwd=work, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        said = result.stdout + result.stderr
        assert "Traceback" not in said, said
        if check:
            assert result.returncode == 0, f"ape itgen {' '.join(args)}:\n{said}"
        return result

    run.web3, run.safe, run.work, run.owners = web3, safe, work, owners
    return run


def owner(n: int, safe: str) -> tuple[str, ...]:
    return ("--safe", safe, "--account", f"owner{n}")


def hashes(text: str) -> set[str]:
    return set(HASH.findall(text))


@pytest.mark.timeout(900)
def test_three_owners_on_three_machines_run_the_program_through_safe_transaction_files(
    team, deploy_test_token
):
    run, safe, work = team, team.safe, team.work
    token = deploy_test_token(
        int(run.web3.provider.endpoint_uri.rsplit(":", 1)[1]), DONOR, mint=10**24
    )
    run(None, "deploy", "--token", token, "--donor", DONOR, "--program-end", "2030-01-01", "--latest-program-end", "2031-01-01",
        "--admin", safe, "--pauser", GUARDIAN, "--account", "TEST::0", "--yes")  # fmt: skip

    # Signatures in the file: owner 1 makes it, owner 2 signs it, owner 3 executes it.
    made = run(
        1,
        "courses",
        "set",
        "1",
        "--registration",
        "450",
        *owner(1, safe),
        "--safe-tx",
        "course.json",
        "--yes",
    )
    assert "setCourse" in made.stdout and "registrationAmount: 450" in made.stdout
    assert "1 of 2 signatures" in made.stdout
    signed = run(2, "safe", "sign", "course.json", "--account", "owner2", "--yes")
    assert "setCourse" in signed.stdout and hashes(signed.stdout) == hashes(made.stdout)
    assert len(hashes(made.stdout)) == 1
    done = run(3, "safe", "execute", "course.json", "--account", "owner3", "--yes")
    assert "executed Safe transaction" in done.stdout
    assert "active" in run(None, "courses", "list").stdout
    again = run(3, "safe", "execute", "course.json", "--account", "owner3", "--yes", check=False)
    assert again.returncode == 1 and "executed already" in again.stdout + again.stderr

    # An on-chain approveHash counts as owner 2's signature.
    run(
        1,
        "registrars",
        "add",
        REGISTRAR,
        "--allowance",
        "1000",
        *owner(1, safe),
        "--safe-tx",
        "registrar.json",
        "--yes",
    )
    approved = run(2, "safe", "approve", "registrar.json", "--account", "owner2", "--yes")
    assert "approved on chain" in approved.stdout and "2 of 2: ready to execute" in approved.stdout
    run(3, "safe", "execute", "registrar.json", "--account", "owner3", "--yes")
    assert REGISTRAR in run(None, "registrars", "list").stdout

    # A stolen guardian key: its pauser role is revoked through the Safe.
    run(1, "guardian", "revoke", GUARDIAN, *owner(1, safe), "--safe-tx", "guardian.json", "--yes")
    shown = run(3, "safe", "show", "guardian.json").stdout
    assert "revokeRole" in shown and "PAUSER_ROLE" in shown and GUARDIAN in shown
    run(3, "safe", "sign", "guardian.json", "--account", "owner3", "--yes")
    run(2, "safe", "execute", "guardian.json", "--account", "owner2", "--yes")
    refused = run(None, "pause", "on", "--account", "TEST::5", check=False)
    assert refused.returncode == 1 and "does not hold the role" in refused.stdout + refused.stderr

    # The drill as one Transaction Builder file, made with no account, then carried.
    drill = ("--safe", safe, "--tx-builder", "drill.json")
    run(None, "registrars", "remove", REGISTRAR, *drill)
    run(None, "registrars", "add", NEW_KEY, "--allowance", "500", *drill, "--append")
    run(None, "guardian", "set", GUARDIAN, *drill, "--append")
    run(None, "extend", "2030-06-01", *drill, "--append")
    again = run(None, "extend", "2030-07-01", *drill, check=False)
    assert again.returncode == 1 and "exists already" in again.stdout + again.stderr
    checked = run(2, "batch", "drill.json", "--safe", safe, "--check").stdout
    assert [
        m
        for m in ("removeRegistrar", "setRegistrar", "grantRole", "extendProgramEnd")
        if m in checked
    ]
    assert "nothing was signed or sent" in checked
    run(1, "batch", "drill.json", *owner(1, safe), "--safe-tx", "drill.safe.json", "--yes")
    run(2, "safe", "sign", "drill.safe.json", "--account", "owner2", "--yes")
    run(3, "safe", "execute", "drill.safe.json", "--account", "owner3", "--yes")
    listing = run(None, "registrars", "list").stdout
    assert NEW_KEY.lower() in listing.lower() and f"pauser         {GUARDIAN}" in listing

    # The altered export: "set course 31" made to add an owner to the Safe, checksum redone.
    run(
        None,
        "courses",
        "set",
        "31",
        "--registration",
        "100",
        "--safe",
        safe,
        "--tx-builder",
        "course31.json",
    )
    sys.path.insert(0, str(ROOT))
    from itgen_chain import safe as safes
    from itgen_chain import tx_builder

    batch = json.loads((work / "course31.json").read_text())
    contract = run.web3.eth.contract(safe, abi=safes.abi("Safe"))
    batch["transactions"][0] = {
        "to": safe, "value": "0", "data": contract.encode_abi("addOwnerWithThreshold", [DONOR, 1]),
        "contractMethod": None, "contractInputsValues": None,
    }  # fmt: skip
    del batch["meta"]["checksum"]
    batch["meta"]["checksum"] = tx_builder.checksum(batch)
    (work / "course31.json").write_text(json.dumps(batch))
    attack = run(
        1,
        "batch",
        "course31.json",
        *owner(1, safe),
        "--safe-tx",
        "attack.json",
        "--yes",
        check=False,
    )
    said = attack.stdout + attack.stderr
    assert attack.returncode == 1 and "the file says: 'set course 31" in said
    assert "the Safe itself" in said and "addOwnerWithThreshold" in said
    assert [line for line in said.splitlines() if line.startswith("Error: ")] == [
        line
        for line in said.splitlines()
        if "calls the Safe itself" in line and line.startswith("Error: ")
    ]
    assert not (work / "attack.json").exists()
    assert DONOR not in contract.functions.getOwners().call()
