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
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from itgen_chain.config import settings
from itgen_chain.exceptions import DeploymentError

# One network holds many programs, each with its record and salt; the default program's
# files carry no name (``bsc-mainnet.json``), another's do (``bsc-mainnet.spring-2027.json``).
DEFAULT_PROGRAM = "main"
PROGRAM_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def _suffix(program: str) -> str:
    if not PROGRAM_NAME.fullmatch(program):
        raise DeploymentError(
            f"program name {program!r}: lowercase letters, digits and dashes, at most 32"
        )
    return "" if program == DEFAULT_PROGRAM else f".{program}"


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
    program: str = DEFAULT_PROGRAM
    pauser: str = ""
    admin_delay: int = 0
    latest_program_end: int = 0
    # The edition of the student reference rule its ids are made with (roster.py); records
    # written before the second edition carry none and keep the first.
    reference_rule: int = 1

    @property
    def salt(self) -> bytes:
        """The program salt, from its secret file; checked against ``salt_id``."""
        path = salt_path(self.ecosystem, self.network, self.program)
        if not path.exists():
            raise DeploymentError(
                f"the program salt {path} is missing: ask the program admin for it "
                f"(salt id {self.salt_id}) and save it there"
            )
        salt = read_salt_file(path).salt
        if salt_id(salt) != self.salt_id:
            raise DeploymentError(
                f"{path} holds another program's salt (expected salt id {self.salt_id})"
            )
        return salt


@dataclass(frozen=True)
class SaltFile:
    """A program salt file, as the admin hands it to a registrar: the salt on its first line,
    then what a registrar needs without the deployment record (``escrow=``, ``block=`` and
    ``reference_rule=`` lines; files written before these lines hold the salt alone)."""

    salt: bytes
    escrow: str = ""
    block: int = 0
    reference_rule: int = 1


def read_salt_file(path: Path) -> SaltFile:
    lines = [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
    try:
        salt = bytes.fromhex(lines[0].removeprefix("0x"))
        facts = dict(line.split("=", 1) for line in lines[1:])
        return SaltFile(
            salt,
            facts.get("escrow", ""),
            int(facts.get("block", 0)),
            int(facts.get("reference_rule", 1)),
        )
    except (IndexError, ValueError):
        raise DeploymentError(
            f"{path} is not a program salt file (a 0x line of hex, then key=value lines)"
        ) from None


def salt_id(salt: bytes) -> str:
    """A public name for a secret salt: the first 8 bytes of its hash."""
    return "0x" + keccak(b"itgen-chain salt id" + salt)[:8].hex()


def salt_path(ecosystem: str, network: str, program: str = DEFAULT_PROGRAM) -> Path:
    root = (
        settings().local_folder / "secrets"
        if network == "local" or network.endswith("-fork")
        else settings().secrets_folder
    )
    return root / f"{ecosystem}-{network}{_suffix(program)}.salt"


def save_salt(
    ecosystem: str,
    network: str,
    salt: bytes,
    program: str = DEFAULT_PROGRAM,
    facts: dict[str, Any] | None = None,
) -> Path:
    path = salt_path(ecosystem, network, program)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    extra = "".join(f"{key}={value}\n" for key, value in (facts or {}).items())
    path.write_text("0x" + salt.hex() + "\n" + extra)
    return path


def path_for(ecosystem: str, network: str, program: str = DEFAULT_PROGRAM) -> Path:
    local = network == "local" or network.endswith("-fork")
    root = settings().local_folder / "deployments" if local else settings().deployments_folder
    return root / f"{ecosystem}-{network}{_suffix(program)}.json"


def programs(ecosystem: str, network: str) -> list[Deployment]:
    """Every program recorded for the network, the default first."""
    folder = path_for(ecosystem, network).parent
    found = []
    for path in sorted(folder.glob(f"{ecosystem}-{network}*.json")):
        if path.name.endswith(".standard-input.json"):
            continue
        record = Deployment(**json.loads(path.read_text()))
        if record.network == network:  # not ethereum-local-fork's records for ethereum-local
            found.append(record)
    return sorted(found, key=lambda d: (d.program != DEFAULT_PROGRAM, d.program))


def save(deployment: Deployment) -> Path:
    path = path_for(deployment.ecosystem, deployment.network, deployment.program)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(deployment), indent=2) + "\n")
    return path


def load(ecosystem: str, network: str, program: str = DEFAULT_PROGRAM) -> Deployment:
    path = path_for(ecosystem, network, program)
    if not path.exists():
        named = "" if program == DEFAULT_PROGRAM else f" program {program}"
        raise DeploymentError(
            f"no deployment record for {ecosystem}:{network}{named} here ({path} is missing): "
            "a registrar or auditor names the escrow with --escrow ADDRESS (a registrar also "
            "--salt-file FILE, from the program admin); `ape itgen programs` lists the "
            "programs recorded here; the admin deploys one with `ape itgen deploy`"
        )
    return Deployment(**json.loads(path.read_text()))


def current(provider: Any, program: str = DEFAULT_PROGRAM) -> Deployment:
    """The deployment of `program` on the network ape is connected to, checked to still
    have code."""
    network = provider.network
    deployment = load(network.ecosystem.name, network.name, program)
    if deployment.chain_id != provider.chain_id:
        raise DeploymentError(
            f"{path_for(network.ecosystem.name, network.name, program)} is for chain "
            f"{deployment.chain_id}, "
            f"but the node is chain {provider.chain_id}"
        )
    if not provider.get_code(deployment.escrow):
        raise DeploymentError(
            f"no contract at {deployment.escrow} on {network.ecosystem.name}:{network.name} "
            "(a local chain restarted?): run `ape itgen deploy` again"
        )
    return deployment
