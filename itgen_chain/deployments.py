"""Where each network's deployment lives: ``deployments/<ecosystem>-<network>.json``.

Local chains (anvil) start empty each time, so their records go under ``.build/`` and are
never committed; testnet and mainnet records are meant to be committed.

The program salt is a secret: with it and guessable student references (``UA-2025-00017``)
anyone could tell which wallet belongs to which student. It is kept apart from the record,
in ``secrets/<ecosystem>-<network>.salt`` (git-ignored, readable by its owner only), and
handed to registrars privately. The record carries only ``salt_id``, a hash naming it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

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
    salt_id: str
    compiler: dict[str, Any] = field(default_factory=dict)
    pauser: str = ""
    admin_delay: int = 0
    latest_program_end: int = 0

    @property
    def salt(self) -> bytes:
        """The program salt, from its secret file; checked against ``salt_id``."""
        path = salt_path(self.ecosystem, self.network)
        if not path.exists():
            raise DeploymentError(
                f"the program salt {path} is missing: ask the program admin for it "
                f"(salt id {self.salt_id}) and save it there"
            )
        salt = bytes.fromhex(path.read_text().strip().removeprefix("0x"))
        if salt_id(salt) != self.salt_id:
            raise DeploymentError(
                f"{path} holds another program's salt (expected salt id {self.salt_id})"
            )
        return salt


def salt_id(salt: bytes) -> str:
    """A public name for a secret salt: the first 8 bytes of its hash."""
    return "0x" + keccak(b"itgen-chain salt id" + salt)[:8].hex()


def salt_path(ecosystem: str, network: str) -> Path:
    root = (
        LOCAL_ROOT.parent / "secrets"
        if network == "local" or network.endswith("-fork")
        else Path("secrets")
    )
    return root / f"{ecosystem}-{network}.salt"


def save_salt(ecosystem: str, network: str, salt: bytes) -> Path:
    path = salt_path(ecosystem, network)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("0x" + salt.hex() + "\n")
    return path


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
