"""An append-only journal of the transactions a run sends, so a killed run resumes safely.

Each batch is written down (nonce, hash, signed bytes) *before* it is broadcast. The next
run first settles every journalled transaction that has no receipt: it rebroadcasts the
same signed bytes (same nonce, so it can be mined at most once) and waits, or finds that
the nonce was used and the chain moved on. Only then does it plan again from the chain,
where every paid (student, milestone) is recorded: nobody is paid twice.

The journal holds student ids (hashes) and transaction data, never student references.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path("var") / "journal"


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_run(cls, chain_id: int, escrow: str, sender: str, deployment: str = "") -> Journal:
        """One journal per chain, deployment and sender. `deployment` tells apart two
        deployments at one address (a restarted local chain): pass the program salt."""
        tag = f"-{deployment[2:10]}" if deployment else ""
        return cls(ROOT / f"{chain_id}-{escrow.lower()}{tag}-{sender.lower()}.jsonl")

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def append(self, **entry: Any) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()

    def unsettled(self) -> list[dict[str, Any]]:
        """Transactions written as sent and never settled."""
        state: dict[str, dict[str, Any]] = {}
        for entry in self.entries():
            if entry["event"] == "sending":
                state[entry["hash"]] = entry
            elif entry["event"] == "settled":
                state.pop(entry["hash"], None)
        return list(state.values())
