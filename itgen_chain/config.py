r"""Settings of itgen-chain: the ``itgen:`` section of ``ape-config.yaml``, each field
overridable from the environment as ``ITGEN_<FIELD>`` (``ITGEN_BATCH_SIZE=50``).

    itgen:
      deployments_folder: deployments
      batch_size: 100
      reference_patterns:          # per program, applied by attest and sign by default
        main: 'ua-\d{4}-\d{5}'

The section is read and validated here (`settings`), not registered with ape as a plugin
config: ape loads plugins only from distributions whose names begin with ``ape-``
(``ape.plugins._utils._filter_plugins_from_dists``), and its config loading would put the
yaml over the environment, the reverse of what is documented. The defaults live once, in
``ItgenConfig``; ``--batch-size`` and ``--retries`` show theirs in ``--help``.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from ape.api import PluginConfig
from pydantic import ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from itgen_chain.retrying import DEFAULT_RETRIES


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

    retries: int = DEFAULT_RETRIES
    """Tries again, with exponential backoff, of any JSON-RPC call that a provider refuses
    for its rate limit (HTTP 429, -32005 "limit exceeded", -32029) or whose connection drops;
    every command, connecting included."""

    claim_page: str = ""
    """The charity's claim page (an https URL): claim links open it with their keys in the
    fragment. `attest --claim-page` overrides it."""

    relayer_url: str = ""
    """The charity's relayer (`ape itgen claims serve`), written into each link for the page."""

    watch: dict[str, Any] = {}
    """`ape itgen watch`: thresholds and sinks (watch.WatchSettings names each and its default)."""

    reference_patterns: dict[str, str] = {}
    """Per program name, a regular expression every normalised student_ref of its rosters
    must match whole; `attest` and `sign` apply it unless --reference-pattern is given."""

    @field_validator("reference_patterns")
    @classmethod
    def _compiles(cls, patterns: dict[str, str]) -> dict[str, str]:
        for program, pattern in patterns.items():
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"reference_patterns.{program}: {error}") from None
        return patterns


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
        env = os.environ.get(f"ITGEN_{name.upper()}")
        if env is not None and name != "reference_patterns":
            values[name] = env
    try:
        return ItgenConfig.model_validate(values)
    except ValidationError as error:
        from itgen_chain.exceptions import ItgenError

        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise ItgenError(f"the itgen: settings, {where}: {problem['msg']}") from None
