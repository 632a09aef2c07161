"""bench/README.md: the figures of bench/gas.json and bench/index.json against baselines and
goals, the seed program's cost on BNB Chain, and the machine they were measured on."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

# The seed program: 2,000 registrations and 1,877 completions in batches of 100.
REGISTRATIONS, COMPLETIONS, BATCH = 2_000, 1_877, 100
GAS_PRICES_GWEI = (0.1, 1.0, 3.0)
# Gas of a course transaction, which the bench does not measure.
COURSE_ESTIMATE = 50_000


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    return f"{os.cpu_count()} cores ({model}){memory}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def seed_program_gas(gas: dict[str, int]) -> int:
    setup = gas["deploy"] + gas["fund"] + 5 * gas["set_registrar_new"] + 4 * COURSE_ESTIMATE
    payouts = REGISTRATIONS * gas["attest_batch_100_per_student"]
    payouts += COMPLETIONS * gas.get(
        "attest_completion_batch_100_per_student", gas["attest_batch_100_per_student"]
    )
    return setup + payouts + gas["reclaim"]


def watch_section(report: dict | None) -> str:
    """The watch's figures (bench/watch.json), as a table."""
    if report is None:
        return ""
    lines = [
        "",
        "## The watch (bench/watch.json)",
        "",
        "A thief with a stolen registrar key, inside its allowance of 200,000, batches of 10 a "
        "block; the watch reads every block. The floor is one block (0.45 s on BNB Chain).",
        "",
        "| scenario | first alert (students paid) | stopped by | students paid to the thief "
        "| tokens lost | blocks | seconds on BSC |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for name in (
        "thief_to_own_wallet",
        "thief_to_fresh_wallets",
        "thief_to_fresh_wallets_tight_rate",
    ):
        row = report[name]
        label = name.replace("_", " ") + (f" {row['settings']}" if row["settings"] else "")
        alert = row.get("first_alert")
        said = f"{alert['rule']} ({alert['students_paid']})" if alert else "none"
        lines.append(
            f"| {label} | {said} | {row['stopped_by']} | {row['students_paid_to_the_thief']} | "
            f"{row['tokens_lost']:,} | {row['blocks_from_first_payout_to_stop']} | "
            f"{row['seconds_on_bnb_chain']} |"
        )
    latency, honest = report["alert_latency"], report["honest_seed_program"]
    lines += [
        "",
        f"Alert latency, block to webhook ({latency['alerts']} alerts, polling every "
        f"{latency['poll_interval_seconds']} s): median {latency['median_seconds']} s, 95th "
        f"percentile {latency['p95_seconds']} s.",
        "",
        f"The seed program of `make demo` without its incident ({honest['registrations']:,} "
        f"registrations, {honest['completions']:,} completions, five registrars whose "
        f"allowances together are the fund, spent to within 1%): {honest['alerts']} alert(s)"
        + (f" ({', '.join(honest['rules'])})" if honest["rules"] else "")
        + ".",
        "",
    ]
    return "\n".join(lines)


def render(gas_report: dict, index_report: dict | None, roster_report: dict | None = None) -> str:
    gas = gas_report["gas"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured with `make bench` on {machine()}, anvil (npm), solc-js 0.8.28 via-IR.",
        "",
    ]
    lines += [
        "## Gas (bench/gas.json)",
        "",
        "| operation | gas | compare | goal |",
        "|---|---:|---|---|",
    ]
    goals = gas_report.get("goals", {})
    baseline = {
        "attest_single": ("floor_single", "floor, single release"),
        "attest_batch_100_per_student": ("floor_batch_100_per_student", "floor, per student"),
        "attest_by_sig_batch_100_per_student": (
            "floor_batch_100_per_student",
            "floor, per student",
        ),
        "reserve_single": ("floor_reserve_single", "floor reservation, single"),
        "reserve_batch_100_per_student": (
            "floor_reserve_batch_100_per_student",
            "floor reservation, per student",
        ),
        "claim_single": ("floor_claim_single", "floor claim, single"),
        "claim_batch_100_per_student": (
            "floor_claim_batch_100_per_student",
            "floor claim, per student",
        ),
        "floor_single": ("baseline_erc20_transfer_fresh", "bare ERC-20 transfer, fresh payee"),
        "floor_batch_100_per_student": (
            "baseline_disperse_100_per_student",
            "minimal disperse, per payee",
        ),
    }
    for name, value in gas.items():
        compare = ""
        if name in baseline:
            other, label = baseline[name]
            compare = f"{label}: {gas[other]:,} (+{value - gas[other]:,})"
        goal = ""
        if name in goals:
            goal = f"≤ {goals[name]['limit']:,}: {'met' if goals[name]['met'] else 'missed'}"
        lines.append(f"| {name} | {value:,} | {compare} | {goal} |")
    ratios = gas_report.get("ratios", {})
    if ratios:
        lines += ["", "| ratio to the floor | measured | goal |", "|---|---:|---|"]
        for name, value in ratios.items():
            goal = goals.get(name)
            verdict = f"≤ {goal['limit']}: {'met' if goal['met'] else 'missed'}" if goal else ""
            lines.append(f"| {name} | {value} | {verdict} |")
    lines += [
        "",
        "Realistic data: every studentId is keccak256(salt ‖ reference) and every payee a fresh "
        "random address. The floor (`contracts/test/FloorRelease.sol`, same compiler settings) "
        "is a registrar-gated release with one paid flag, one SafeERC20 transfer and one event; "
        "`skipped_item_in_batch` is what an already-paid item adds to a signed batch of 100.",
    ]
    total = seed_program_gas(gas)
    lines += [
        "",
        "## The seed program on BNB Chain",
        "",
        f"Deploy, fund, 5 registrars, 4 courses, {REGISTRATIONS:,} registrations and {COMPLETIONS:,} "
        f"completions in batches of {BATCH}, reclaim: about {total:,} gas.",
        "",
        "| gas price | cost |",
        "|---:|---:|",
    ]
    for gwei in GAS_PRICES_GWEI:
        lines.append(f"| {gwei} gwei | {total * gwei / 1e9:.5f} BNB |")
    lines += [
        "",
        f"Course transactions are estimated at {COURSE_ESTIMATE:,} gas; every other figure is measured.",
    ]
    if index_report:
        lines += [
            "",
            f"## Indexing (bench/index.json, {index_report.get('payouts', 0):,} payouts, "
            f"{index_report['blocks']:,} blocks)",
            "",
            "| reader | events | seconds | events/s |",
            "|---|---:|---:|---:|",
        ]
        for name in ("indexer", "indexer_postgresql", "bare_eth_getLogs", "ape_event_query"):
            row = index_report.get(name)
            if not isinstance(row, dict):
                continue
            lines.append(
                f"| {name} | {row['events']:,} | {row['seconds']} | {row['events_per_second']:,} |"
            )
        g = index_report["goals"]
        lines += [
            "",
            f"Indexer / bare fetch: {g['indexer_vs_bare']['ratio']} (goal ≥ 0.5: "
            f"{'met' if g['indexer_vs_bare']['met'] else 'missed'}). "
            f"Indexer / ape query: {g['indexer_vs_ape']['ratio']} (goal ≥ 5: "
            f"{'met' if g['indexer_vs_ape']['met'] else 'missed'}).",
            "The indexer decodes and stores the escrow's events (the program is funded through "
            "`fund`, so the balance matches the events and no transfer is scanned) and reads the "
            "balance once; the bare fetch runs the same eth_getLogs query, one a range, without "
            "decoding or storage; ape's query reads ScholarshipReleased only. `indexer` writes "
            "SQLite, `indexer_postgresql` a PostgreSQL database on a server the benchmark starts.",
        ]
    from devtools import rosterbench

    lines += rosterbench.section(roster_report)
    return "\n".join(lines) + "\n"


def write(out: Path) -> Path:
    gas_report = json.loads((out / "gas.json").read_text())
    index_path = out / "index.json"
    index_report = json.loads(index_path.read_text()) if index_path.exists() else None
    roster_path = out / "roster.json"
    roster_report = json.loads(roster_path.read_text()) if roster_path.exists() else None
    provider_path = out / "provider.json"
    provider_report = json.loads(provider_path.read_text()) if provider_path.exists() else None
    watch_path = out / "watch.json"
    watch_report = json.loads(watch_path.read_text()) if watch_path.exists() else None
    path = out / "README.md"
    from devtools import providerbench

    provider = "\n".join(providerbench.section(provider_report))
    path.write_text(
        render(gas_report, index_report, roster_report)
        + (provider + "\n" if provider else "")
        + watch_section(watch_report)
    )
    return path
