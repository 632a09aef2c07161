"""An append-only journal of the transactions a run sends, so a killed run resumes safely.

Each batch is written down (nonce, hash, signed bytes) *before* it is broadcast. The next
run first settles every journalled transaction that has no receipt: it rebroadcasts the
same signed bytes (same nonce, so it can be mined at most once) and waits, or finds that
the nonce was used and the chain moved on. Only then does it plan again from the chain,
where every paid (student, milestone) is recorded: nobody is paid twice.

A transaction the node refuses for good (a broadcast error other than "already known" or
"nonce too low") is recorded as rejected and given up, so that it cannot wedge later runs.
Every line is flushed and fsynced before the transaction goes out; a last line torn by a
kill in the middle of writing is reported and ignored (its transaction was never sent).

The journal holds student ids (hashes) and transaction data, never student references.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Lines that could not be read (a torn last line), by line number.
        self.torn: list[int] = []

    @classmethod
    def for_run(cls, chain_id: int, escrow: str, sender: str, deployment: str = "") -> Journal:
        """One journal per chain, deployment and sender. `deployment` tells apart two
        deployments at one address (a restarted local chain): pass the program salt."""
        tag = f"-{deployment[2:10]}" if deployment else ""
        from itgen_chain.config import settings

        root = settings().work_folder / "journal"
        return cls(root / f"{chain_id}-{escrow.lower()}{tag}-{sender.lower()}.jsonl")

    def entries(self) -> list[dict[str, Any]]:
        """Every readable line; unreadable ones are listed in `torn` and skipped."""
        if not self.path.exists():
            return []
        entries, self.torn = [], []
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                self.torn.append(number)
        return entries

    def append(self, **entry: Any) -> None:
        with self.path.open("a") as handle:
            if handle.tell() and not self._ends_with_newline():
                handle.write("\n")  # close a torn line, so this entry stays readable
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    def unsettled(self) -> list[dict[str, Any]]:
        """Transactions written as sent and never settled."""
        state: dict[str, dict[str, Any]] = {}
        for entry in self.entries():
            if entry["event"] == "sending":
                state[entry["hash"]] = entry
            elif entry["event"] == "settled":
                state.pop(entry["hash"], None)
        return list(state.values())
