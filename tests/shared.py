"""What many tests share: the test chain's well-known accounts, units, and roster files.
(Imported as `shared`: pytest puts tests/ on the path through tests/conftest.py.)"""

from __future__ import annotations

import csv
from pathlib import Path

DAY = 86_400
UNIT = 10**18
# The public test mnemonic of the local chain, and its first accounts (TEST::N in ape).
MNEMONIC = "test test test test test test test test test test test junk"
DONOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1
REGISTRAR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # TEST::2
HEADER = ["student_ref", "payee", "course", "milestone"]


def wallet(n: int, base: int = 0xCAFE0000) -> str:
    """A fresh payee address of its own for each n."""
    from eth_utils import to_checksum_address

    return to_checksum_address(f"0x{base + n:040x}")


def write_roster(path: Path, rows: list[list]) -> Path:
    """A roster CSV with the header and `rows` (student_ref, payee, course, milestone)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path
