"""Where each network's deployment lives: ``deployments/<ecosystem>-<network>.json``.

Local chains (anvil) start empty each time, so their records go under ``.build/`` and are
never committed; testnet and mainnet records are meant to be committed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from itgen_chain.exceptions import DeploymentError

ROOT = Path("deployments")
LOCAL_ROOT = Path(".build") / "deployments"


@dataclass
class Deployment:
    """A deployed escrow and what it takes to verify and use it."""

    ecosystem: str
    network: str
    chain_id: int
    escrow: str
    token: str
    donor: str
    admin: str
    program_end: int
    block: int
    transaction: str
    program_salt: str
    compiler: dict[str, Any] = field(default_factory=dict)

    @property
    def salt(self) -> bytes:
        return bytes.fromhex(self.program_salt.removeprefix("0x"))


def path_for(ecosystem: str, network: str) -> Path:
    root = LOCAL_ROOT if network == "local" or network.endswith("-fork") else ROOT
    return root / f"{ecosystem}-{network}.json"


def save(deployment: Deployment) -> Path:
    path = path_for(deployment.ecosystem, deployment.network)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(deployment), indent=2) + "\n")
    return path


def load(ecosystem: str, network: str) -> Deployment:
    path = path_for(ecosystem, network)
    if not path.exists():
        raise DeploymentError(
            f"no deployment for {ecosystem}:{network} ({path} is missing): run `ape run deploy` first"
        )
    return Deployment(**json.loads(path.read_text()))


def current(provider: Any) -> Deployment:
    """The deployment of the network ape is connected to, checked to still have code."""
    network = provider.network
    deployment = load(network.ecosystem.name, network.name)
    if deployment.chain_id != provider.chain_id:
        raise DeploymentError(
            f"{path_for(network.ecosystem.name, network.name)} is for chain {deployment.chain_id}, "
            f"but the node is chain {provider.chain_id}"
        )
    if not provider.get_code(deployment.escrow):
        raise DeploymentError(
            f"no contract at {deployment.escrow} on {network.ecosystem.name}:{network.name} "
            "(a local chain restarted?): run `ape run deploy` again"
        )
    return deployment
