"""audit.html: one self-contained page (inline CSS, SVG charts, a little script), offline."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2733;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{padding:.3rem .5rem;border-bottom:1px solid #eaeef2;text-align:left}
th{cursor:pointer;background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem}.chart{border:1px solid #eaeef2;padding:.5rem}
code{font-size:.85em}input{padding:.3rem;width:20rem}
"""
SCRIPT = """
document.querySelectorAll('th').forEach(function (th) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows), asc = th.dataset.asc !== '1';
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.v || a.cells[index].textContent, y = b.cells[index].dataset.v || b.cells[index].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    th.dataset.asc = asc ? '1' : '0';
    rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
  });
});
var filter = document.getElementById('filter');
if (filter) filter.addEventListener('input', function () {
  var q = filter.value.toLowerCase();
  document.querySelectorAll('#payouts tbody tr').forEach(function (r) {
    r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
  });
});
"""


def _tokens(value: dict[str, str]) -> str:
    return f"{float(value['tokens']):,.2f}"


def _bars(title: str, items: list[tuple[str, float]]) -> str:
    if not items:
        return ""
    width, bar, gap = 520, 22, 8
    top = max(v for _, v in items) or 1
    height = len(items) * (bar + gap) + 10
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for i, (label, value) in enumerate(items):
        y = i * (bar + gap) + 5
        w = max(value / top * (width - 260), 1)
        parts.append(f'<text x="0" y="{y + 16}" font-size="12">{escape(label[:22])}</text>')
        parts.append(f'<rect x="160" y="{y}" width="{w:.1f}" height="{bar}" fill="#2f6feb"></rect>')
        parts.append(f'<text x="{165 + w:.1f}" y="{y + 16}" font-size="12">{value:,.0f}</text>')
    parts.append("</svg>")
    return f'<div class="chart"><h3>{escape(title)}</h3>{"".join(parts)}</div>'


def _cumulative(payouts: list[dict[str, Any]]) -> str:
    if not payouts:
        return ""
    width, height, pad = 520, 220, 40
    points, total = [], 0.0
    for p in payouts:
        total += float(p["amount_tokens"])
        points.append((p["time"] or 0, total))
    t0, t1 = points[0][0], points[-1][0] or 1
    span = (t1 - t0) or 1
    coords = " ".join(
        f"{pad + (t - t0) / span * (width - 2 * pad):.1f},{height - pad - v / total * (height - 2 * pad):.1f}"
        for t, v in points[:: max(len(points) // 400, 1)] + [points[-1]]
    )
    return (
        '<div class="chart"><h3>Cumulative disbursement</h3>'
        f'<svg role="img" aria-label="cumulative disbursement" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"></line>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#888"></line>'
        f'<polyline fill="none" stroke="#2f6feb" stroke-width="2" points="{coords}"></polyline>'
        f'<text x="{pad}" y="{pad - 8}" font-size="12">{total:,.0f}</text></svg></div>'
    )


def _table(head: list[str], rows: list[list[str]], numeric: set[int], table_id: str = "") -> str:
    ident = f' id="{table_id}"' if table_id else ""
    out = [
        f"<table{ident}><thead><tr>"
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
    ]
    for row in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
                for i, cell in enumerate(row)
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _grouped_table(label: str, groups: dict[str, dict[str, Any]], sym: str) -> str:
    """One of the per-course, per-milestone, per-day tables: payouts and amount per key."""
    rows = [[escape(key), str(v["count"]), _tokens(v["released"])] for key, v in groups.items()]
    return _table([label, "Payouts", f"Released ({sym})"], rows, {1, 2})


def _delays(days: list[float]) -> str:
    """How long students took to claim their links: counts per span of days."""
    if not days:
        return ""
    spans = [(0, 1), (1, 3), (3, 7), (7, 14), (14, 30), (30, 10**9)]
    names = ["< 1 day", "1-3 days", "3-7 days", "7-14 days", "14-30 days", "> 30 days"]
    counts = [sum(1 for d in days if low <= d < high) for low, high in spans]
    return _bars("Days from reservation to claim (students)", list(zip(names, counts, strict=True)))


def _links(links: dict[str, Any], sym: str) -> str:
    if not links or not float(links["reserved"]["tokens"]):
        return ""
    books = _table(
        ["Students paid by link", sym],
        [
            [label.replace("_", " ").capitalize(), _tokens(links[label])]
            for label in ("reserved", "claimed", "cancelled", "returned_unclaimed", "open")
        ],
        {1},
    )
    per_registrar = _table(
        ["Registrar", f"Reserved ({sym})", f"Claimed ({sym})", f"Cancelled ({sym})"],
        [
            [
                f"<code>{escape(r)}</code>",
                _tokens(v["reserved"]),
                _tokens(v["claimed"]),
                _tokens(v["cancelled"]),
            ]
            for r, v in links["per_registrar"].items()
        ],
        {1, 2, 3},
    )
    per_course = _table(
        ["Course", f"Reserved ({sym})", f"Claimed ({sym})", f"Cancelled ({sym})"],
        [
            [escape(c), _tokens(v["reserved"]), _tokens(v["claimed"]), _tokens(v["cancelled"])]
            for c, v in links["per_course"].items()
        ],
        {1, 2, 3},
    )
    unclaimed = "".join(
        f"<li><code>{escape(s)}</code></li>" for s in links["unclaimed_student_ids"]
    )
    return (
        f"<h2>Students paid by link</h2>{books}<h3>Per registrar</h3>{per_registrar}"
        f"<h3>Per course</h3>{per_course}<h3>Student ids still to claim</h3>"
        f'<ul id="unclaimed">{unclaimed or "<li>none</li>"}</ul>'
    )


def render(report: dict[str, Any]) -> str:
    t = report["totals"]
    sym = escape(report["token_symbol"])
    status = (
        '<span class="ok" id="reconciled">Reconciled</span>'
        if report["reconciled"]
        else '<span class="bad" id="reconciled">NOT reconciled</span>'
    )
    books = _table(
        ["", sym],
        [
            ["Funded", _tokens(t["funded"])],
            ["Direct transfers in", _tokens(t["direct_transfers_in"])],
            ["Released to students", _tokens(t["released"])],
            ["Reclaimed by the donor", _tokens(t["reclaimed"])],
            ["Balance at the indexed block", _tokens(t["balance"])],
        ],
        {1},
    )
    differences = (
        "".join(f"<li><code>{escape(str(d))}</code></li>" for d in report["differences"])
        or "<li>none</li>"
    )
    registrars = _table(
        ["Registrar", "Payouts", f"Released ({sym})", f"Allowance ({sym})"],
        [
            [
                f"<code>{escape(r)}</code>",
                str(v["count"]),
                _tokens(v["released"]),
                _tokens(v["allowance"]),
            ]
            for r, v in report["per_registrar"].items()
        ],
        {1, 2, 3},
    )
    courses = _grouped_table("Course", report["per_course"], sym)
    milestones = _grouped_table("Milestone", report["per_milestone"], sym)
    days = _grouped_table("Day (UTC)", report["per_day"], sym)
    payout_rows = [
        [
            str(p["block"]),
            f'<a href="{escape(p["url"])}">{escape(p["tx_hash"][:18])}…</a>'
            if p["url"]
            else f"<code>{escape(p['tx_hash'][:18])}…</code>",
            f"<code>{escape(p['payee'])}</code>",
            f"<code>{escape(p['registrar'][:10])}…</code>",
            str(p["courseId"]),
            escape(p["milestone"]),
            f"{float(p['amount_tokens']):,.2f}",
        ]
        for p in report["payouts"]
    ]
    links = report.get("reservations") or {}
    charts = (
        _cumulative(report["payouts"])
        + _delays(links.get("claim_delay_days", []))
        + _bars(
            f"Released per registrar ({sym})",
            [
                (r[:10] + "…", float(v["released"]["tokens"]))
                for r, v in report["per_registrar"].items()
            ],
        )
        + _bars(
            f"Released per course ({sym})",
            [
                (f"course {c}", float(v["released"]["tokens"]))
                for c, v in report["per_course"].items()
            ],
        )
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Scholarship escrow audit</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body><h1>Scholarship escrow audit</h1>
<p>Escrow <code>{escape(report["escrow"])}</code> on chain {report["chain_id"]}, indexed to block
{report["indexed_to_block"]}. {report["payout_count"]} payouts. {status}</p>
<h2>Books</h2>{books}
<p>funded + direct transfers in = released + reclaimed + balance.</p>
<h2>Differences</h2><ul>{differences}</ul>
<h2>Charts</h2><div class="charts">{charts}</div>
<h2>Per registrar</h2>{registrars}
<h2>Per course</h2>{courses}
<h2>Per milestone</h2>{milestones}
<h2>Per day</h2>{days}
{_links(links, sym)}
<h2>Payouts</h2><p><input id="filter" placeholder="filter by payee, tx, course…"></p>
{_table(["Block", "Transaction", "Payee", "Registrar", "Course", "Milestone", f"Amount ({sym})"], payout_rows, {0, 4, 6}, "payouts")}
<script>{SCRIPT}</script></body></html>
"""
