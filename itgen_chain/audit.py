"""The audit run against a node: the books from the index, the balance read at the head
(never from historical state), the code verified, the report written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from itgen_chain import books, claims, report


def run_audit(
    db: Path | str,
    out: Path,
    roster_path: Path | None = None,
    echo: Callable[[str], None] = lambda line: None,
    escrow: str | None = None,
    program_name: str = "main",
) -> tuple[dict[str, Any], dict[str, Path]]:
    from ape import chain

    from itgen_chain.program import connect
    from itgen_chain.roster import LATEST_RULE, read_roster
    from itgen_chain.verification import compare

    program = connect(escrow, program_name)
    address = program.escrow.address
    events_meta = books.load_events(db, address)[1]
    indexed = int(events_meta["checkpoint"])
    # Never historical state: a normal node keeps only recent blocks. The balance is read at
    # the head and compared with the events, plus the transfers since the indexed block.
    head_check = _head_check(program, chain.provider, indexed)
    roster = None
    if roster_path is not None:
        rule = getattr(program.deployment, "reference_rule", LATEST_RULE)
        rows = read_roster(roster_path, program.deployment.salt, rule=rule)
        roster = [
            (r.row, r.attestation.student_id, int(r.attestation.milestone), r.attestation.payee)
            for r in rows
        ]
    symbol = program.token.symbol()
    audit = books.build(
        db, None, program.decimals, chain.chain_id, symbol, roster, head_check, escrow=address
    )
    code = bytes(chain.provider.web3.eth.get_code(program.escrow.address))
    verdict = compare(program.escrow.address, code)
    audit["code_verification"] = {"match": verdict.match, "detail": verdict.detail}
    paths = report.write(audit, out)
    for line in report.summary(audit):
        echo(line)
    echo(f"code: {verdict}")
    return audit, paths


def _head_check(program: Any, provider: Any, indexed: int) -> dict[str, int]:
    """The escrow's token balance at the head, and the net of the token's transfers into
    and out of the escrow after block `indexed` up to it (eth_getLogs, 5,000 blocks a call)."""
    from eth_utils import keccak

    from itgen_chain.indexer import rpc

    request = rpc(provider)
    head = int(request("eth_blockNumber", []), 16)
    balance = program.token.balanceOf(program.escrow, block_id=head)
    topic = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
    escrow = "0x" + bytes(12).hex() + program.escrow.address[2:].lower()
    net = 0
    for start in range(indexed + 1, head + 1, 5_000):
        end = min(start + 4_999, head)
        for sign, topics in ((1, [topic, None, escrow]), (-1, [topic, escrow])):
            logs = request(
                "eth_getLogs",
                [
                    {
                        "address": program.token.address,
                        "fromBlock": hex(start),
                        "toBlock": hex(end),
                        "topics": topics,
                    }
                ],
            )
            net += sign * sum(
                int(log["data"], 16) for log in logs if log["topics"][1] != log["topics"][2]
            )
    # The payouts mined after the indexed block: the books do not count them yet.
    newer = (
        claims.logs(
            request,
            {"address": program.escrow.address, "topics": [claims.RELEASED_TOPIC]},
            indexed + 1,
            head,
        )
        if head > indexed
        else []
    )
    return {"block": head, "balance": balance, "net_since": net, "payouts_since": len(newer)}


def charity_summary(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The whole charity's books: every program's totals added up per token (programs on
    different tokens are never summed together), reconciled when every program is."""
    by_token: dict[str, dict[str, Any]] = {}
    for one in reports.values():
        entry = by_token.setdefault(
            one["token"],
            {"symbol": one["token_symbol"], "decimals": one["decimals"], "sums": {}},
        )
        for key, value in one["totals"].items():
            entry["sums"][key] = entry["sums"].get(key, 0) + int(value["base_units"])
    return {
        "programs": {
            name: {"escrow": b["escrow"], "token": b["token"], "reconciled": b["reconciled"]}
            for name, b in reports.items()
        },
        "reconciled": all(b["reconciled"] for b in reports.values()),
        "totals_by_token": {
            token: {
                "symbol": entry["symbol"],
                "decimals": entry["decimals"],
                "totals": {k: books.money(v, entry["decimals"]) for k, v in entry["sums"].items()},
            }
            for token, entry in by_token.items()
        },
    }
