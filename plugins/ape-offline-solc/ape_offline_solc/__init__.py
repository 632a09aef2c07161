"""An ape plugin that keeps ape-solidity from downloading compilers.

ape-solidity installs a missing ``solc`` through py-solc-x, which downloads a binary; on
machines that reach only the package registries that fails after a time-out with an
unhelpful message. Loaded by ape at start-up (its distribution name starts with
``ape-``), this module makes ape-solidity ask for no compiler list on the network and
turns any install into an error that names the version and says how to add it from npm.

It also points py-solc-x at the virtual environment's own ``solcx`` folder, where
``tools/register-solc.sh`` writes the launchers, so that two checkouts never share one; a
launcher whose checkout is gone is reported with the command that repairs it.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from packaging.version import Version

# The launchers of this virtual environment's checkout (tools/register-solc.sh).
LAUNCHERS = Path(sys.prefix) / "solcx"

# Every released solc version, so that a pragma resolves to the exact version it needs
# and the error below can name it. Patch levels: the last release of each minor line.
_LAST_PATCH = {(0, 4): 26, (0, 5): 17, (0, 6): 12, (0, 7): 6, (0, 8): 40}
_FIRST_PATCH = {(0, 4): 11}


class SolcNotInstalledOffline(Exception):
    """A Solidity compiler version is needed that has no solc-js launcher here."""

    def __init__(self, version: Version) -> None:
        super().__init__(
            f"solc {version} is not installed, and compilers are never downloaded here. "
            f"Add it from npm and register it:\n"
            f"    npm install --save-exact solc-{version}@npm:solc@{version}\n"
            f"    sh tools/register-solc.sh\n"
            f"or pin the project's version in ape-config.yaml (solidity: version: ...)."
        )


def known_versions() -> list[Version]:
    return sorted(
        (
            Version(f"{major}.{minor}.{patch}")
            for (major, minor), last in _LAST_PATCH.items()
            for patch in range(_FIRST_PATCH.get((major, minor), 0), last + 1)
        ),
        reverse=True,
    )


def refuse_install(version: Version, *args, **kwargs) -> Version:
    raise SolcNotInstalledOffline(version)


class SolcLauncherBroken(Exception):
    """A registered launcher points at a solc-js that is no longer there."""

    def __init__(self, launcher: Path, missing: str) -> None:
        super().__init__(
            f"{launcher} runs {missing}, which is gone (a moved or deleted checkout?). "
            "Register the compiler again: make setup (or sh tools/register-solc.sh)"
        )


def check_launchers(folder: Path) -> None:
    """Raises SolcLauncherBroken for a launcher whose solc.js or solc-js package is gone."""
    for launcher in sorted(folder.glob("solc-v*")):
        text = launcher.read_text(errors="replace")
        if "register-solc.sh" not in text:
            continue
        for quoted in re.findall(r"'(/[^'\n]+)'", text):
            if not Path(quoted).exists():
                raise SolcLauncherBroken(launcher, quoted)


def _patch() -> None:
    from ape_solidity import compiler

    compiler.get_installable_solc_versions = known_versions
    compiler._install_solc = refuse_install
    compiler.install_solc = refuse_install
    if LAUNCHERS.is_dir():
        # py-solc-x reads its folder from the environment; ape reads no option for it.
        os.environ.setdefault("SOLCX_BINARY_PATH", str(LAUNCHERS))
    original = compiler.SolidityCompiler.compile

    def compile_checked(self, *args, **kwargs):
        check_launchers(Path(os.environ.get("SOLCX_BINARY_PATH", Path.home() / ".solcx")))
        return original(self, *args, **kwargs)

    compiler.SolidityCompiler.compile = compile_checked


_patch()
