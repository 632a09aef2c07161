"""The solc launcher over solc-js: answers like native solc, offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "tools" / "solc.js"
REMAP = "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"


def run_solc(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(LAUNCHER), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def standard_json(sources: dict[str, str], selection: list[str] | None = None) -> str:
    return json.dumps(
        {
            "language": "Solidity",
            "sources": {name: {"content": text} for name, text in sources.items()},
            "settings": {
                "remappings": [REMAP],
                "outputSelection": {"*": {"*": selection or ["abi", "evm.bytecode.object"]}},
            },
        }
    )


def test_version_line_names_the_solc_js_build():
    result = run_solc("--version")
    assert result.returncode == 0
    assert "Version: 0.8.28+commit.7893614a" in result.stdout.splitlines()[-1]


def test_registered_launcher_is_what_py_solc_x_runs():
    from solcx import wrapper
    from solcx.install import get_executable

    path = get_executable("0.8.28")
    assert str(wrapper.get_solc_version(path, with_commit_hash=True)).startswith(
        "0.8.28+commit.7893614a"
    )


def test_compiles_a_contract_importing_openzeppelin():
    source = (
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n"
        'import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";\n'
        'contract Coin is ERC20 { constructor() ERC20("c", "C") {} }\n'
    )
    result = run_solc(
        "--standard-json", "--base-path", ".", stdin=standard_json({"Coin.sol": source})
    )
    output = json.loads(result.stdout)
    assert [e for e in output.get("errors", []) if e["severity"] == "error"] == []
    assert len(output["contracts"]["Coin.sol"]["Coin"]["evm"]["bytecode"]["object"]) > 1000


def test_compile_error_names_file_and_line():
    source = (
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract Broken { uint x = }\n"
    )
    result = run_solc("--standard-json", stdin=standard_json({"Broken.sol": source}))
    errors = json.loads(result.stdout)["errors"]
    assert errors[0]["severity"] == "error"
    assert "Broken.sol:3:" in errors[0]["formattedMessage"]
    assert errors[0]["sourceLocation"]["file"] == "Broken.sol"


def test_output_larger_than_64_kib_arrives_whole_through_a_pipe():
    source = (
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n"
        'import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";\n'
        'contract Coin is ERC20 { constructor() ERC20("c", "C") {} }\n'
    )
    request = standard_json({"Coin.sol": source}, ["*"])
    result = run_solc("--standard-json", "--base-path", ".", stdin=request)
    assert len(result.stdout.encode()) > 64 * 1024 * 4
    assert json.loads(result.stdout)["contracts"]["Coin.sol"]["Coin"]["abi"]


def test_sources_given_by_url_are_read_from_disk(tmp_path):
    contract = tmp_path / "Url.sol"
    contract.write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract Url {}\n"
    )
    request = json.dumps(
        {
            "language": "Solidity",
            "sources": {"Url.sol": {"urls": [str(contract)]}},
            "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
        }
    )
    output = json.loads(run_solc("--standard-json", stdin=request).stdout)
    assert output["contracts"]["Url.sol"]["Url"]["abi"] == []


def test_unsupported_mode_fails_with_a_hint():
    result = run_solc("--combined-json", "abi")
    assert result.returncode == 1
    assert "--solc-standard-json" in result.stderr


def test_a_missing_compiler_version_is_named_with_how_to_add_it(tmp_path):
    (tmp_path / "contracts").mkdir()
    (tmp_path / "ape-config.yaml").write_text("name: old-pragma\n")
    (tmp_path / "contracts" / "Old.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.20;\ncontract Old {}\n"
    )
    ape = shutil.which("ape") or str(Path(sys.executable).with_name("ape"))
    result = subprocess.run(
        [ape, "compile"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "solc 0.8.20 is not installed" in message
    assert "npm install --save-exact solc-0.8.20@npm:solc@0.8.20" in message


@pytest.mark.parametrize("flag", ["--base-path", "--include-path"])
def test_an_option_without_its_value_is_an_error(flag):
    result = run_solc("--standard-json", flag)
    assert result.returncode == 1
    assert f"option {flag} needs a value" in result.stderr


def test_launchers_live_in_this_checkouts_virtual_environment():
    import os
    import sys

    assert Path(os.environ["SOLCX_BINARY_PATH"]) == Path(sys.prefix) / "solcx"
    assert (Path(sys.prefix) / "solcx" / "solc-v0.8.28").exists()


def test_a_launcher_of_a_deleted_checkout_is_reported_with_the_repair(tmp_path):
    from ape_offline_solc import SolcLauncherBroken, check_launchers

    launcher = tmp_path / "solc-v0.8.28"
    launcher.write_text(
        "#!/bin/sh\n# solc over solc-js, written by itgen-chain's tools/register-solc.sh\n"
        "SOLCJS_PACKAGE='/gone/node_modules/solc' exec '/usr/bin/node' '/gone/tools/solc.js' \"$@\"\n"
    )
    with pytest.raises(SolcLauncherBroken, match="make setup"):
        check_launchers(tmp_path)


def test_the_packaged_claim_page_is_built_from_the_current_source(tmp_path):
    """itgen_chain/data/claim.html is claim-page/ bundled with @noble from npm (make
    claim-page): a test fails while the shipped page lags its source."""
    import subprocess

    built = tmp_path / "claim.html"
    subprocess.run(
        ["node", str(ROOT / "tools" / "build-claim-page.mjs"), str(built)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert built.read_bytes() == (ROOT / "itgen_chain" / "data" / "claim.html").read_bytes()
    page = built.read_text()
    for loads_something in ("<script src", "<link", "<img", "@import", "<iframe"):
        assert loads_something not in page
