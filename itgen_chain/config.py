"""Settings of itgen-chain: the ``itgen:`` section of ``ape-config.yaml``, each field
overridable from the environment as ``ITGEN_<FIELD>`` (``ITGEN_BATCH_SIZE=50``).

    itgen:
      deployments_folder: deployments
      batch_size: 100
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from ape.api import PluginConfig
from pydantic_settings import SettingsConfigDict


class ItgenConfig(PluginConfig):
    """The ``itgen:`` section of ape-config.yaml."""

    model_config = SettingsConfigDict(extra="ignore", env_prefix="ITGEN_")

    deployments_folder: Path = Path("deployments")
    """Where testnet and mainnet deployment records are written (meant to be committed)."""

    local_folder: Path = Path(".build")
    """Where a local chain's records and salts go (never committed: anvil starts empty)."""

    secrets_folder: Path = Path("secrets")
    """Where testnet and mainnet program salts go (git-ignored; files mode 0600)."""

    work_folder: Path = Path("var")
    """Working files: the journals of sending runs and the default index database."""

    confirmations: int = 15
    """Blocks below the head that `index` leaves for later when the node does not answer for
    its finalized block (BNB Chain answers with fast finality)."""

    batch_size: int = 100
    """Attestations per transaction at most for `attest` and `relay` (batches are cut
    further to stay under BNB Chain's 2^24 gas per transaction)."""

    retries: int = 6
    """Tries again, with exponential backoff, of any JSON-RPC call that a provider refuses
    for its rate limit (HTTP 429, -32005 "limit exceeded", -32029) or whose connection drops;
    every command, connecting included."""


@cache
def settings() -> ItgenConfig:
    """The project's ``itgen:`` settings, the environment's ``ITGEN_*`` over them."""
    try:
        from ape import config

        section = config.get_config("itgen").model_dump(by_alias=True)
    except Exception:  # no ape project here, or no such section: the defaults
        section = {}
    values = {key: value for key, value in section.items() if key in ItgenConfig.model_fields}
    for name in ItgenConfig.model_fields:
        if (env := os.environ.get(f"ITGEN_{name.upper()}")) is not None:
            values[name] = env
    return ItgenConfig.model_validate(values)
