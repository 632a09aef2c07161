"""ape-etherscan asks Etherscan's chain list online (``/v2/chainlist``) whenever ape looks
for the explorer of a network it does not register (a local chain, after any revert) and
whenever it prints a transaction's explorer link (after every transaction on BNB Chain).
When that request fails (offline, a firewall, Etherscan down) the command ends with a
ConnectionError, after the transaction was sent. Here a local chain has no explorer,
without asking; and a failed chain-list request falls back to BNB Chain's two entries, the
chains this tool is made for; other chains then have no explorer."""

from __future__ import annotations

from functools import cache
from typing import Any

LOCAL_CHAIN_IDS = {1337, 31337}

# The chain list's entries for BNB Chain (Etherscan's V2 API serves both with one key).
BNB_CHAINS = [
    {
        "chainname": "BNB Smart Chain Mainnet",
        "chainid": "56",
        "blockexplorer": "https://bscscan.com",
        "apiurl": "https://api.etherscan.io/v2/api?chainid=56",
    },
    {
        "chainname": "BNB Smart Chain Testnet",
        "chainid": "97",
        "blockexplorer": "https://testnet.bscscan.com",
        "apiurl": "https://api.etherscan.io/v2/api?chainid=97",
    },
]


def keep_explorer_lookups_offline() -> None:
    try:
        from ape_etherscan import client, explorer
    except ImportError:  # ape-etherscan is not installed: nothing asks
        return
    if getattr(client.get_supported_chains, "_itgen_offline", False):
        return
    online = client.get_supported_chains

    @cache
    def get_supported_chains() -> list[dict[str, Any]]:
        import requests

        try:
            return online()
        except requests.RequestException:
            return BNB_CHAINS

    get_supported_chains._itgen_offline = True  # type: ignore[attr-defined]
    client.get_supported_chains = get_supported_chains
    explorer.get_supported_chains = get_supported_chains
    original = explorer.Etherscan.supports_chain.__func__  # type: ignore[attr-defined]

    def supports_chain(cls: Any, chain_id: int) -> bool:
        return chain_id not in LOCAL_CHAIN_IDS and original(cls, chain_id)

    explorer.Etherscan.supports_chain = classmethod(supports_chain)  # type: ignore[method-assign,assignment]
