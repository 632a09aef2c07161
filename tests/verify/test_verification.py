"""The contracts inside the package: current with the source, and `verify` telling the
package's escrow from one built from changed source."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
from shared import DAY

from itgen_chain import compiled
from itgen_chain.deployer import Terms, deploy
from itgen_chain.verification import compare, deployment_block

ROOT = Path(__file__).resolve().parents[2]


def packager():
    spec = importlib.util.spec_from_file_location(
        "packager", ROOT / "tools" / "package_contracts.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fresh_compile():
    return packager().compile_package()


def test_the_packaged_escrow_is_compiled_from_the_current_source(fresh_compile):
    stored = compiled.escrow_artifact()
    assert fresh_compile["runtimeBytecode"] == stored["runtimeBytecode"], (
        "contracts changed: run `make package-contracts` and commit itgen_chain/data"
    )
    assert fresh_compile == stored


def test_the_packaged_input_compiles_alone_with_no_repository(fresh_compile):
    """What a block explorer receives: every source inside, under its import name."""
    sources = fresh_compile["standardJsonInput"]["sources"]
    assert "contracts/ScholarshipEscrow.sol" in sources
    assert "@openzeppelin/contracts/utils/cryptography/EIP712.sol" in sources
    assert not any(name.startswith(("node_modules", "contracts/.cache")) for name in sources)


@pytest.fixture
def deployed(project, chain, accounts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    admin, donor = accounts[0], accounts[1]
    token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 270 * DAY
    record = deploy(admin, Terms(token.address, donor.address, admin.address, end), force=True)
    return record


def test_verify_matches_an_escrow_the_tool_deployed(deployed, chain):
    code = bytes(chain.provider.web3.eth.get_code(deployed.escrow))
    verdict = compare(deployed.escrow, code)
    assert verdict.match, verdict.detail
    from itgen_chain import records

    written = records.path_for("ethereum", "local").with_suffix(".standard-input.json")
    assert json.loads(written.read_text()) == compiled.standard_json_input()


def test_verify_reports_a_mismatch_for_an_escrow_built_from_changed_source(
    fresh_compile, chain, accounts
):
    source_input = json.loads(json.dumps(fresh_compile["standardJsonInput"]))
    source_input.pop("compilerVersion")
    text = source_input["sources"]["contracts/ScholarshipEscrow.sol"]["content"]
    source_input["sources"]["contracts/ScholarshipEscrow.sol"]["content"] = text.replace(
        'return "3.1.0";', 'return "3.1.1";'
    )
    source_input["settings"]["outputSelection"] = {
        "contracts/ScholarshipEscrow.sol": {"ScholarshipEscrow": ["evm.bytecode.object"]}
    }
    output = json.loads(
        subprocess.run(
            ["node", str(ROOT / "tools" / "solc.js"), "--standard-json"],
            input=json.dumps(source_input), capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    bytecode = output["contracts"]["contracts/ScholarshipEscrow.sol"]["ScholarshipEscrow"]
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    changed = ContractType.model_validate(
        {
            "contractName": "ScholarshipEscrow",
            "abi": fresh_compile["abi"],
            "deploymentBytecode": {"bytecode": "0x" + bytecode["evm"]["bytecode"]["object"]},
        }
    )
    admin = accounts[0]
    end = chain.pending_timestamp + DAY
    args = Terms(admin.address, admin.address, admin.address, end).arguments()
    escrow = ContractContainer(changed).deploy(*args, sender=admin)
    verdict = compare(escrow.address, bytes(chain.provider.web3.eth.get_code(escrow.address)))
    assert not verdict.match
    assert "MISMATCH" in str(verdict)


def test_verify_reports_an_address_without_code(accounts):
    verdict = compare(accounts[5].address, b"")
    assert not verdict.match and verdict.detail == "no contract at this address"


def test_the_deployment_block_is_found_from_the_code_alone(deployed, chain):
    chain.mine(25)
    assert deployment_block(chain.provider.web3, deployed.escrow) == deployed.block
