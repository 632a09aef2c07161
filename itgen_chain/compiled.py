"""The compiled contracts shipped inside the package: ScholarshipEscrow (ABI, bytecode,
runtime bytecode, immutables' positions, the standard-JSON input and compiler settings) and
the ERC-20 interface through which the real token is read. Nobody who installs the
package needs a compiler; ``tools/package_contracts.py`` writes the data in the repository.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

# The standard ERC-20 interface with the optional metadata (name, symbol, decimals): what
# the tool reads from BSC-USD or any other scholarship token. Never a test mock's ABI.
ERC20_ABI: list[dict[str, Any]] = [
    *(
        {
            "type": "function",
            "name": name,
            "stateMutability": "view",
            "inputs": [],
            "outputs": [{"name": "", "type": kind}],
        }
        for name, kind in (
            ("name", "string"),
            ("symbol", "string"),
            ("decimals", "uint8"),
            ("totalSupply", "uint256"),
        )
    ),
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "account", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "allowance",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    *(
        {
            "type": "function",
            "name": name,
            "stateMutability": "nonpayable",
            "inputs": inputs,
            "outputs": [{"name": "", "type": "bool"}],
        }
        for name, inputs in (
            (
                "approve",
                [{"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}],
            ),
            ("transfer", [{"name": "to", "type": "address"}, {"name": "value", "type": "uint256"}]),
            (
                "transferFrom",
                [
                    {"name": "from", "type": "address"},
                    {"name": "to", "type": "address"},
                    {"name": "value", "type": "uint256"},
                ],
            ),
        )
    ),
    *(
        {
            "type": "event",
            "name": name,
            "anonymous": False,
            "inputs": [
                {"name": first, "type": "address", "indexed": True},
                {"name": second, "type": "address", "indexed": True},
                {"name": "value", "type": "uint256", "indexed": False},
            ],
        }
        for name, first, second in (("Transfer", "from", "to"), ("Approval", "owner", "spender"))
    ),
]


@cache
def escrow_artifact() -> dict[str, Any]:
    """The packaged ScholarshipEscrow (see tools/package_contracts.py)."""
    data = resources.files("itgen_chain") / "data" / "ScholarshipEscrow.json"
    return json.loads(data.read_text())


def escrow_type() -> Any:
    """ScholarshipEscrow as an ape ContractType, for ``instance_at`` and deployment."""
    from ethpm_types import ContractType

    artifact = escrow_artifact()
    return ContractType.model_validate(
        {
            "contractName": artifact["contractName"],
            "sourceId": artifact["sourceId"],
            "abi": artifact["abi"],
            "deploymentBytecode": {"bytecode": artifact["bytecode"]},
            "runtimeBytecode": {"bytecode": artifact["runtimeBytecode"]},
        }
    )


def erc20_type() -> Any:
    """The ERC-20 interface as an ape ContractType."""
    from ethpm_types import ContractType

    return ContractType.model_validate({"contractName": "ERC20", "abi": ERC20_ABI})


def standard_json_input() -> dict[str, Any]:
    """The solc standard-JSON input a block explorer needs to verify the escrow."""
    return escrow_artifact()["standardJsonInput"]


def escrow_abi(contract_type: Any) -> list[dict[str, Any]]:
    """A contract type's ABI as plain JSON dicts (for web3, eth-abi and the decoders)."""
    return [entry.model_dump(mode="json", by_alias=True) for entry in contract_type.abi]
