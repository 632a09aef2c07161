"""Compile ScholarshipEscrow from its standard-JSON input and ship the result inside the
package (itgen_chain/data/ScholarshipEscrow.json), so that registrars and auditors who
install itgen-chain with pip need no compiler.

    .venv/bin/python tools/package_contracts.py          (make package-contracts)

The input is the one a block explorer verifies (sources under their import names, the
project's compiler settings), compiled by the same solc-js launcher ape uses; the output
keeps the ABI, both bytecodes, the immutables' positions (for `verify`) and the input.
tests/tools/test_packaged_contracts.py fails when the package lags behind the sources.
"""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "itgen_chain" / "data" / "ScholarshipEscrow.json"
SOURCE = "contracts/ScholarshipEscrow.sol"


# Import prefixes and where their sources live in the repository (npm packages).
IMPORT_ROOTS = {"@openzeppelin/contracts/": Path("node_modules/@openzeppelin/contracts")}
IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']""", re.MULTILINE)


def _source_path(name: str) -> Path:
    for prefix, root in IMPORT_ROOTS.items():
        if name.startswith(prefix):
            return root / name[len(prefix) :]
    return Path(name)


def standard_json_input(entry: str = "contracts/ScholarshipEscrow.sol") -> dict[str, Any]:
    """The solc standard-JSON input a block explorer needs to verify ScholarshipEscrow:
    `entry` and every source it imports, under their import names, with the project's
    compiler settings. Built in the repository (it reads the sources and node_modules)."""
    from ape import project

    manifest = json.loads((Path(project.path) / ".build" / "__local__.json").read_text())
    settings = {
        key: value
        for key, value in manifest["compilers"][0]["settings"].items()
        if key not in ("outputSelection", "remappings")
    }
    settings["outputSelection"] = {
        "*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "metadata"]}
    }
    root = Path(project.path)
    sources: dict[str, dict[str, str]] = {}
    pending = [entry]
    while pending:
        name = pending.pop()
        if name in sources:
            continue
        content = (root / _source_path(name)).read_text()
        sources[name] = {"content": content}
        for imported in IMPORT.findall(content):
            if imported.startswith("."):
                imported = posixpath.normpath(posixpath.join(posixpath.dirname(name), imported))
            pending.append(imported)
    return {
        "language": "Solidity",
        "sources": dict(sorted(sources.items())),
        "settings": settings,
        "compilerVersion": manifest["compilers"][0]["version"],
    }


def compile_package() -> dict:
    """The packaged artifact, compiled now from the sources."""
    verify_input = standard_json_input()
    version = verify_input.pop("compilerVersion")
    compile_input = json.loads(json.dumps(verify_input))
    compile_input["settings"]["outputSelection"] = {
        SOURCE: {
            "ScholarshipEscrow": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
            ]
        }
    }
    result = subprocess.run(
        ["node", str(ROOT / "tools" / "solc.js"), "--standard-json"],
        input=json.dumps(compile_input),
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(result.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise SystemExit("\n".join(e["formattedMessage"] for e in errors))
    contract = output["contracts"][SOURCE]["ScholarshipEscrow"]
    return {
        "contractName": "ScholarshipEscrow",
        "sourceId": SOURCE,
        "compiler": {"version": version, "settings": verify_input["settings"]},
        "abi": contract["abi"],
        "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
        "runtimeBytecode": "0x" + contract["evm"]["deployedBytecode"]["object"],
        "immutableReferences": contract["evm"]["deployedBytecode"]["immutableReferences"],
        "standardJsonInput": {**verify_input, "compilerVersion": version},
    }


# Safe 1.4.1's ABIs, shipped so that nothing is fetched: the Safe (SafeL2, the singleton
# Safe{Wallet} deploys on BNB Chain: the Safe's functions and its events) to read, decode,
# simulate and execute; MultiSendCallOnly to unpack batches; SimulateTxAccessor to simulate the
# exact Safe transaction; the fallback handler, which ape-safe merges into the Safe's ABI.
SAFE_ARTIFACTS = "node_modules/@safe-global/safe-contracts/build/artifacts/contracts/"
SAFE_ABIS = {
    "Safe": "SafeL2.sol/SafeL2.json",
    "MultiSendCallOnly": "libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json",
    "SimulateTxAccessor": "accessors/SimulateTxAccessor.sol/SimulateTxAccessor.json",
    "CompatibilityFallbackHandler": (
        "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"
    ),
}


def write_safe_abis() -> None:
    for name, artifact in SAFE_ABIS.items():
        abi = json.loads((ROOT / SAFE_ARTIFACTS / artifact).read_text())["abi"]
        out = OUT.parent / f"{name}.abi.json"
        out.write_text(json.dumps(abi, indent=1, sort_keys=True) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")


def main() -> None:
    artifact = compile_package()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(artifact, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(artifact['runtimeBytecode']) // 2 - 1:,} bytes)")
    write_safe_abis()


if __name__ == "__main__":
    main()
