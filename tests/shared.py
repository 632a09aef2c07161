"""What many tests share: the test chain's well-known accounts, units, and roster files.
(Imported as `shared`: pytest puts tests/ on the path through tests/conftest.py.)"""

from __future__ import annotations

import csv
from pathlib import Path

DAY = 86_400
UNIT = 10**18
# The public test mnemonic of the local chain, and its first accounts (TEST::N in ape).
MNEMONIC = "test test test test test test test test test test test junk"
DONOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1
REGISTRAR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # TEST::2
HEADER = ["student_ref", "payee", "course", "milestone"]


def wallet(n: int, base: int = 0xCAFE0000) -> str:
    """A fresh payee address of its own for each n."""
    from eth_utils import to_checksum_address

    return to_checksum_address(f"0x{base + n:040x}")


def write_roster(path: Path, rows: list[list]) -> Path:
    """A roster CSV with the header and `rows` (student_ref, payee, course, milestone)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def token_call(web3, token: str, signature: str, *args, sender: str | None = None) -> int | None:
    """Calls a token function by its signature ('balanceOf(address)') and returns the
    number it answers; with `sender`, sends it instead and waits for the receipt."""
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    types = signature[signature.index("(") + 1 : -1].split(",") if "()" not in signature else []
    data = function_signature_to_4byte_selector(signature) + encode(types, list(args))
    if sender is None:
        return int(web3.eth.call({"to": token, "data": "0x" + data.hex()}).hex() or "0", 16)
    web3.eth.wait_for_transaction_receipt(
        web3.eth.send_transaction({"from": sender, "to": token, "data": "0x" + data.hex()})
    )
    return None


def setup_program(run, funds: str = "50000", network: str = "ethereum:local:foundry") -> dict:
    """A program through the commands, as an admin starts one: deployed (with a test token
    minted to the donor), funded with `funds`, course 1 (450 + 12.5) active, course 2 (300)
    deactivated, REGISTRAR with 400,000. `run` runs a command (in-process or as a
    subprocess) and has `records` (the deployment records' folder) and `web3`; returns the
    deployment record."""
    import json

    admin = ("--account", "TEST::0", "--yes")
    run("deploy", "--donor", DONOR, "--program-end", "2030-01-01", "--force", *admin,
        network=network)  # fmt: skip
    ecosystem = network.split(":")[0]
    record = json.loads((run.records / f"{ecosystem}-local.json").read_text())
    token_call(run.web3, record["token"], "mint(address,uint256)", DONOR, 10**24, sender=DONOR)
    run("fund", funds, "--account", "TEST::1", "--yes", network=network)
    run("courses", "set", "1", "--registration", "450", "--completion", "12.5", *admin,
        network=network)  # fmt: skip
    run("courses", "set", "2", "--registration", "300", *admin, network=network)
    run("courses", "deactivate", "2", *admin, network=network)
    run("registrars", "add", REGISTRAR, "--allowance", "400000", "--expiry", "2029-12-31",
        *admin, network=network)  # fmt: skip
    return record


def refusal(result) -> str:
    """The one line a refused command prints; asserts exit code 1 and no traceback."""
    said = (result.stdout + result.stderr).strip()
    assert result.returncode == 1, said
    assert "Traceback" not in said, said
    errors = [line for line in said.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, said
    return errors[0]
