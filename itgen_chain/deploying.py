"""Deploying the escrow: the record every other command reads, and the explorer's input."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from itgen_chain import deployments
from itgen_chain.exceptions import DeploymentError


def standard_json_input() -> dict[str, Any]:
    """The solc standard-JSON input a block explorer needs to verify ScholarshipEscrow."""
    from ape import project

    manifest = json.loads((Path(project.path) / ".build" / "__local__.json").read_text())
    settings = dict(manifest["compilers"][0]["settings"])
    settings["outputSelection"] = {
        "*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "metadata"]}
    }
    remappings = settings.pop("remappings", [])
    sources: dict[str, dict[str, str]] = {}
    for path in sorted(Path(project.contracts_folder).rglob("*.sol")):
        relative = path.relative_to(project.path).as_posix()
        if "/test/" in relative:
            continue
        name = relative
        for mapping in remappings:
            prefix, target = mapping.split("=", 1)
            if relative.startswith(target):
                name = prefix + relative[len(target) :]
        sources[name] = {"content": path.read_text()}
    settings["remappings"] = []
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": settings,
        "compilerVersion": manifest["compilers"][0]["version"],
    }


def deploy(
    account: Any, token: str, donor: str, admin: str, program_end: int, force: bool
) -> deployments.Deployment:
    from ape import chain, project

    provider = chain.provider
    network = provider.network
    path = deployments.path_for(network.ecosystem.name, network.name)
    if path.exists() and not force:
        existing = deployments.load(network.ecosystem.name, network.name)
        if existing.chain_id == provider.chain_id and provider.get_code(existing.escrow):
            raise DeploymentError(
                f"{path} records a live escrow at {existing.escrow}; pass --force to replace it"
            )
    escrow = project.ScholarshipEscrow.deploy(token, donor, admin, program_end, sender=account)
    salt = os.urandom(32)
    deployments.save_salt(network.ecosystem.name, network.name, salt)
    receipt = chain.get_receipt(escrow.txn_hash)
    verify = standard_json_input()
    record = deployments.Deployment(
        ecosystem=network.ecosystem.name,
        network=network.name,
        chain_id=provider.chain_id,
        escrow=escrow.address,
        token=token,
        donor=donor,
        admin=admin,
        program_end=program_end,
        block=receipt.block_number,
        transaction=receipt.txn_hash,
        salt_id=deployments.salt_id(salt),
        compiler={"version": verify["compilerVersion"], "settings": verify["settings"]},
    )
    written = deployments.save(record)
    written.with_suffix(".standard-input.json").write_text(json.dumps(verify, indent=1) + "\n")
    return record
