"""Safe 1.4.1 on a local chain at its canonical addresses, the same as on BNB Chain 56 and 97.

The contracts come from the npm packages `@safe-global/safe-contracts` 1.4.1 (the compiled
artifacts) and `@safe-global/safe-singleton-factory` (the presigned deployment of the
CREATE2 factory for chain 31337, or 97). Each contract is created through that factory with salt 0,
as Safe's own deployments are, so the addresses are the canonical ones; a mismatch stops.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from itgen_chain import safe

ROOT = Path(__file__).resolve().parent.parent / "node_modules" / "@safe-global"
ARTIFACTS = ROOT / "safe-contracts" / "build" / "artifacts" / "contracts"
FACTORY_ARTIFACTS = ROOT / "safe-singleton-factory" / "artifacts"

CONTRACTS = {
    safe.SAFE: "Safe.sol/Safe.json",
    safe.SAFE_L2: "SafeL2.sol/SafeL2.json",
    safe.PROXY_FACTORY: "proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
    safe.MULTISEND_CALL_ONLY: "libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json",
    safe.FALLBACK_HANDLER: "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json",
    safe.SIMULATE_TX_ACCESSOR: "accessors/SimulateTxAccessor.sol/SimulateTxAccessor.json",
}


def deploy_canonical(web3: Any, funder: str) -> None:
    """Deploys the singleton factory and the Safe contracts where they are missing; `funder`
    is an unlocked account of the local node that pays for the factory's presigned deployment."""
    # The factory's deployment is presigned per chain: 31337 for a local chain, 97 for a
    # local chain that says it is BNB Chain testnet.
    factory = json.loads(
        (FACTORY_ARTIFACTS / str(web3.eth.chain_id) / "deployment.json").read_text()
    )
    if not web3.eth.get_code(factory["address"]):
        cost = factory["gasPrice"] * factory["gasLimit"]
        _wait(
            web3,
            web3.eth.send_transaction(
                {"from": funder, "to": factory["signerAddress"], "value": cost}
            ),
        )
        _wait(web3, web3.eth.send_raw_transaction(factory["transaction"]))
    for address, artifact in CONTRACTS.items():
        if web3.eth.get_code(address):
            continue
        bytecode = json.loads((ARTIFACTS / artifact).read_text())["bytecode"]
        data = "0x" + "00" * 32 + bytecode[2:]
        _wait(
            web3,
            web3.eth.send_transaction({"from": funder, "to": factory["address"], "data": data}),
        )
        if not web3.eth.get_code(address):
            raise RuntimeError(f"{artifact} did not land at its canonical address {address}")


def create_safe(web3: Any, sender: str, owners: list[str], threshold: int, salt: int = 0) -> str:
    """A Safe proxy of SafeL2 1.4.1 with the compatibility fallback handler, as Safe{Wallet}
    creates on BNB Chain; returns its address."""
    from eth_utils import to_checksum_address

    singleton = web3.eth.contract(safe.SAFE_L2, abi=_abi(CONTRACTS[safe.SAFE_L2]))
    zero = "0x" + "00" * 20
    setup = singleton.encode_abi(
        "setup", [owners, threshold, zero, b"", safe.FALLBACK_HANDLER, zero, 0, zero]
    )
    factory = web3.eth.contract(safe.PROXY_FACTORY, abi=_abi(CONTRACTS[safe.PROXY_FACTORY]))
    create = factory.functions.createProxyWithNonce(safe.SAFE_L2, setup, salt)
    address = create.call({"from": sender})
    _wait(web3, create.transact({"from": sender}))
    return to_checksum_address(address)


def _abi(artifact: str) -> list[dict]:
    return json.loads((ARTIFACTS / artifact).read_text())["abi"]


def _wait(web3: Any, tx_hash: Any) -> None:
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {tx_hash.hex()} failed")
