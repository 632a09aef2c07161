"""`ape itgen watch`: follows a program's escrow, raises alerts on what a thief or a rogue
registrar does, and pauses the escrow with the guardian key when a rule is critical.

The watch reads the escrow's events from a checkpoint that survives restarts (no block
missed, no alert repeated), through the same retry layer and range planner as the indexer,
from the head for speed; each alert is marked final once its block is, and an alerted block
that was reorganised away is reported. Alerts wait in an outbox, kept in the checkpoint,
until every sink took them: a sink that is down gets them when it is back.

Rules (thresholds in the ``itgen:`` config, section ``watch``):

- ``rate`` (critical): a registrar's payouts in a sliding window beyond its usual count or
  amount;
- ``payee_reuse`` (critical): one payee receiving for more than one student;
- ``payee_role`` (critical): a payee that is a registrar, the admin or the relayer; a payee
  that is a contract is a warning;
- ``probing`` (warning): a burst of reverted transactions to the escrow from one sender
  (someone trying which attestations pass), read from the recent blocks' receipts;
- ``allowance`` (warning): a registrar's allowance nearly spent: what it has left no longer
  covers the completions it owes the students it registered (and ``allowance_margin``
  tokens more), or, when ``allowance_warn`` is set, that share of it is spent;
- ``underfunded`` (warning): the escrow holds less than its registrars may still release;
- ``admin`` (info): every role change, pause and unpause, program end moved, rescue, close.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from pydantic import BaseModel

from itgen_chain.amounts import format_tokens
from itgen_chain.attestations import Milestone
from itgen_chain.console import Echo, quiet

ADMIN_EVENTS = {
    "RegistrarSet": "registrar added or changed",
    "RegistrarRemoved": "registrar removed",
    "RoleGranted": "role granted",
    "RoleRevoked": "role revoked",
    "DefaultAdminTransferScheduled": "admin handover scheduled",
    "DefaultAdminTransferCanceled": "admin handover cancelled",
    "DefaultAdminDelayChangeScheduled": "admin delay change scheduled",
    "PauseSet": "releases paused or resumed",
    "ProgramEndExtended": "program end moved",
    "TokenRescued": "another token rescued",
    "Reclaimed": "program closed: remainder returned to the donor",
    "CourseSet": "course set",
}
WHAT_TO_DO = {
    "rate": "Check the registrar's recent batches with it; if the key may be stolen, keep the "
    "escrow paused and remove the registrar through the Safe.",
    "payee_reuse": "One wallet is collecting for several students: a stolen or rogue key. Keep "
    "the escrow paused, remove the registrar, and check the students it paid.",
    "payee_role": "A registrar, the admin or the relayer is being paid as a student: keep the "
    "escrow paused and investigate the registrar.",
    "payee_contract": "A contract is being paid as a student: check the row with the registrar.",
    "probing": "Someone sends transactions the escrow refuses, again and again: if it is a "
    "registrar, ask it; if not, someone may be testing a stolen key.",
    "allowance": "Raise the registrar's allowance through the Safe before its students "
    "complete, or find out where it went.",
    "underfunded": "The donor should fund the escrow before registrars run out of funds.",
    "admin": "Check that this change was meant (a Safe transaction you know of).",
    "reorg": "The alert's block is no longer on the chain: check whether the alert still stands.",
}


class WatchSettings(BaseModel):
    """The ``watch:`` section of the ``itgen:`` config, with the defaults."""

    window_seconds: int = 3_600
    max_payouts: int = 500
    max_amount: str = "250000"  # tokens, as people write them
    allowance_margin: str = "0"  # tokens beyond the completions a registrar still owes
    allowance_warn: float = 0.0  # also warn once this share of an allowance is spent; 0: off
    max_reverts: int = 5  # reverted transactions to the escrow per sender per window
    receipts_blocks: int = 500  # how far back a read looks at receipts (probing)
    relayer: str = ""
    webhook_url: str = ""
    webhook_secret_env: str = "ITGEN_WATCH_WEBHOOK_SECRET"
    telegram_chat_id: str = ""
    telegram_token_env: str = "ITGEN_WATCH_TELEGRAM_TOKEN"
    telegram_api: str = "https://api.telegram.org"
    email_to: str = ""
    email_from: str = "itgen-watch@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    script: str = ""


@dataclass
class Alert:
    """One finding: the rule, how bad, where, who, how much, and what to do."""

    key: str
    rule: str
    severity: str
    block: int
    block_hash: str
    tx: str
    registrar: str
    amount: str
    what: str
    todo: str
    final: bool = False

    def line(self) -> str:
        who = f" registrar {self.registrar}" if self.registrar else ""
        much = f" {self.amount} tokens" if self.amount else ""
        return f"[{self.severity}] {self.rule}:{who}{much} in {self.tx} (block {self.block}): {self.what}"


# ------------------------------------------------------------------ sinks


class Sink:
    name = "sink"

    def deliver(self, alert: Alert) -> None:
        raise NotImplementedError


class WebhookSink(Sink):
    """POSTs the alert as JSON, signed: ``X-Itgen-Signature: sha256=<hex HMAC of the body>``."""

    name = "webhook"

    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret.encode()

    def deliver(self, alert: Alert) -> None:
        body = json.dumps(asdict(alert), sort_keys=True).encode()
        signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self.url,
            body,
            {"Content-Type": "application/json", "X-Itgen-Signature": f"sha256={signature}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            if answer.status >= 300:
                raise OSError(f"webhook answered {answer.status}")


class TelegramSink(Sink):
    """Telegram's bot API, sendMessage to one chat."""

    name = "telegram"

    def __init__(self, api: str, token: str, chat_id: str) -> None:
        self.url = f"{api.rstrip('/')}/bot{token}/sendMessage"
        self.chat_id = chat_id

    def deliver(self, alert: Alert) -> None:
        body = json.dumps({"chat_id": self.chat_id, "text": f"{alert.line()}\n{alert.todo}"})
        request = urllib.request.Request(
            self.url, body.encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            if not json.loads(answer.read()).get("ok"):
                raise OSError("telegram refused the message")


class EmailSink(Sink):
    name = "email"

    def __init__(self, host: str, port: int, sender: str, to: str) -> None:
        self.host, self.port, self.sender, self.to = host, port, sender, to

    def deliver(self, alert: Alert) -> None:
        import smtplib
        from email.message import EmailMessage

        message = EmailMessage()
        message["Subject"] = f"itgen watch [{alert.severity}] {alert.rule}"
        message["From"], message["To"] = self.sender, self.to
        message.set_content(f"{alert.line()}\n\n{alert.todo}\n")
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            if user := os.environ.get("ITGEN_WATCH_SMTP_USER"):
                smtp.starttls()
                smtp.login(user, os.environ.get("ITGEN_WATCH_SMTP_PASSWORD", ""))
            smtp.send_message(message)


class ScriptSink(Sink):
    """A local program, given the alert as JSON on its standard input; exit 0 is delivered."""

    name = "script"

    def __init__(self, path: str) -> None:
        self.path = path

    def deliver(self, alert: Alert) -> None:
        subprocess.run(
            [self.path], input=json.dumps(asdict(alert)), text=True, check=True, timeout=30
        )


def sinks_from(settings: WatchSettings) -> list[Sink]:
    """The sinks the settings name; secrets from the environment, never from a file."""
    found: list[Sink] = []
    if settings.webhook_url:
        found.append(
            WebhookSink(settings.webhook_url, os.environ.get(settings.webhook_secret_env, ""))
        )
    if settings.telegram_chat_id:
        token = os.environ.get(settings.telegram_token_env, "")
        found.append(TelegramSink(settings.telegram_api, token, settings.telegram_chat_id))
    if settings.email_to:
        found.append(
            EmailSink(
                settings.smtp_host, settings.smtp_port, settings.email_from, settings.email_to
            )
        )
    if settings.script:
        found.append(ScriptSink(settings.script))
    return found


def chain_key() -> str:
    """The chain id and the start of its genesis hash: a local chain started anew (anvil)
    gets files of its own, not the checkpoint of the chain before it."""
    from ape import chain

    genesis = chain.provider.web3.eth.get_block(0)["hash"]
    return f"{chain.chain_id}-{bytes(genesis).hex()[:8]}"


# ------------------------------------------------------------------ the watch


@dataclass
class State:
    """What survives a restart: the next block, the alerts raised, the outbox, the windows."""

    next_block: int
    raised: list[str] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    recent: list[dict[str, Any]] = field(default_factory=list)
    window: dict[str, list[list[int]]] = field(default_factory=dict)
    reverts: dict[str, list[int]] = field(default_factory=dict)
    payees: dict[str, str] = field(default_factory=dict)
    paused_in: str = ""
    # Each student registered (paid or reserved) and not completed: [registrar, course].
    owed: dict[str, list[Any]] = field(default_factory=dict)
    # The block where the escrow last became underfunded; 0 while it is not.
    underfunded_since: int = 0


class Watch:
    """One escrow watched: `poll` reads what is new, applies the rules, delivers, saves."""

    def __init__(
        self,
        program: Any,
        state_path: Path,
        sinks: Iterable[Sink] = (),
        guardian: Any = None,
        dry_run: bool = False,
        settings: WatchSettings | None = None,
        echo: Echo = quiet,
        start_block: int | None = None,
    ) -> None:
        from ape import chain

        from itgen_chain.compiled import escrow_abi
        from itgen_chain.indexer import EventDecoder, rpc

        self.program, self.path, self.sinks = program, state_path, list(sinks)
        self.guardian, self.dry_run, self.echo = guardian, dry_run, echo
        self.settings = settings or WatchSettings()
        self.provider = chain.provider
        self.web3 = chain.provider.web3
        self.request: Callable[[str, list], Any] = rpc(chain.provider)
        self.decoder = EventDecoder(escrow_abi(program.escrow.contract_type))
        self.escrow = program.escrow.address.lower()
        self.max_amount = program.amount(self.settings.max_amount)
        self.margin = program.amount(self.settings.allowance_margin)
        self._completion: dict[int, int] = {}
        if state_path.exists():
            self.state = State(**json.loads(state_path.read_text()))
        else:
            first = self.web3.eth.block_number + 1 if start_block is None else start_block
            self.state = State(next_block=first)
        self._contracts: dict[str, bool] = {}
        self._registrars: set[str] = set()
        self._batches_refused = False
        self._admin = ""

    # -------------------------------------------------------------- polling

    def poll(self) -> list[Alert]:
        """Reads the blocks since the checkpoint, applies the rules, pauses if a critical
        rule fired, delivers the outbox and saves; returns the new alerts."""
        from itgen_chain.claims import logs

        head = self.web3.eth.block_number
        new: list[Alert] = []
        if head >= self.state.next_block:
            found = logs(
                self.request, {"address": self.program.escrow.address}, self.state.next_block, head
            )
            events = []
            for log in sorted(
                found, key=lambda x: (int(x["blockNumber"], 16), int(x["logIndex"], 16))
            ):
                decoded = self.decoder.decode(log, {self.escrow})
                if decoded is not None:
                    events.append((decoded[0], json.loads(decoded[1]), log))
            times = self._prefetch(events)
            last_payout: dict[str, dict[str, Any]] = {}
            for name, args, log in events:
                new += self._rules(name, args, log, times[int(log["blockNumber"], 16)])
                self._owing(name, args)
                if name in ("ScholarshipReleased", "ScholarshipReserved"):
                    last_payout[args["registrar"]] = log
            new += self._allowances(last_payout)
            new += self._probing(
                max(self.state.next_block, head - self.settings.receipts_blocks + 1), head
            )
            new += self._funding(head)
            self.state.next_block = head + 1
        unique: dict[str, Alert] = {}
        for alert in new:
            if alert.key not in self.state.raised:
                unique.setdefault(alert.key, alert)
        new = list(unique.values())
        if any(a.severity == "critical" for a in new):
            self._pause(new)
        for alert in new:
            self.state.raised.append(alert.key)
            self.echo(alert.line())
        for alert in new:
            self.state.outbox.append({"alert": asdict(alert), "to": [s.name for s in self.sinks]})
            self.state.recent.append(
                {"key": alert.key, "block": alert.block, "hash": alert.block_hash}
            )
        new += self._finality()
        self.deliver()
        self.save()
        return new

    def _event_alert(
        self,
        rule: str,
        severity: str,
        log: dict[str, Any],
        registrar: str,
        amount: int,
        what: str,
        key: str = "",
    ) -> Alert:
        """An alert on an event; `key` (default: the event itself) says when it repeats."""
        event = f"{log['transactionHash']}:{int(log['logIndex'], 16)}"
        return Alert(
            key=f"{rule}:{key or event}",
            rule=rule, severity=severity, block=int(log["blockNumber"], 16),
            block_hash=log["blockHash"], tx=log["transactionHash"],
            registrar=to_checksum_address(registrar) if registrar else "",
            amount=format_tokens(amount, self.program.decimals) if amount else "",
            what=what, todo=WHAT_TO_DO["payee_contract" if rule == "payee_role" and "contract" in what else rule],
        )  # fmt: skip

    def _rules(
        self, name: str, args: dict[str, Any], log: dict[str, Any], time: int
    ) -> list[Alert]:
        if name == "PauseSet" and log["transactionHash"] == self.state.paused_in:
            return []  # the watch's own pause, said in the alert that caused it
        if name in ADMIN_EVENTS:
            detail = ", ".join(f"{k}={v}" for k, v in args.items())
            return [
                self._event_alert("admin", "info", log, "", 0, f"{ADMIN_EVENTS[name]} ({detail})")
            ]
        if name != "ScholarshipReleased":
            return []
        alerts = []
        registrar, payee, amount = args["registrar"], args["payee"], int(args["amount"])
        student = args["studentId"]
        # rate: a sliding window of (time, amount) per registrar
        window = [
            w
            for w in self.state.window.get(registrar, [])
            if time - w[0] < self.settings.window_seconds
        ]
        window.append([time, amount])
        self.state.window[registrar] = window
        count, total = len(window), sum(w[1] for w in window)
        if count > self.settings.max_payouts or total > self.max_amount:
            alerts.append(self._event_alert(
                "rate", "critical", log, registrar, total,
                f"{count} payouts, {format_tokens(total, self.program.decimals)} tokens in "
                f"{self.settings.window_seconds} s (usual at most {self.settings.max_payouts} and "
                f"{self.settings.max_amount})", key=f"{registrar}:{time // self.settings.window_seconds}",
            ))  # fmt: skip
        earlier = self.state.payees.get(payee)
        if earlier is not None and earlier != student:
            alerts.append(self._event_alert(
                "payee_reuse", "critical", log, registrar, amount,
                f"{to_checksum_address(payee)} was paid for student {student[:12]}… after "
                f"student {earlier[:12]}…", key=payee,
            ))  # fmt: skip
        self.state.payees.setdefault(payee, student)
        role = self._role_of(payee)
        if role:
            severity = "warning" if role == "a contract" else "critical"
            alerts.append(self._event_alert(
                "payee_role", severity, log, registrar, amount,
                f"the payee {to_checksum_address(payee)} is {role}", key=payee,
            ))  # fmt: skip
        return alerts

    def _prefetch(self, events: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> dict[int, int]:
        """What the rules need, read once per poll in JSON-RPC batches: the blocks' times,
        the registrars and the admin, and whether each new payee holds code. Returns the
        blocks' times."""
        batch = self._batch
        blocks = sorted({int(log["blockNumber"], 16) for _, _, log in events})
        times: dict[int, int] = {}
        for start in range(0, len(blocks), 100):
            chunk = blocks[start : start + 100]
            for number, block in zip(
                chunk,
                batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk]),
                strict=True,
            ):
                times[number] = int(block["timestamp"], 16)
        self._registrars = {a.lower() for a in self.program.escrow.activeRegistrars()}
        self._registrars |= {
            args["registrar"]
            for name, args, _ in events
            if name in ("RegistrarSet", "RegistrarRemoved")
        }
        self._admin = self.program.escrow.defaultAdmin().lower()
        payees = sorted(
            {args["payee"] for name, args, _ in events if name == "ScholarshipReleased"}
            - set(self._contracts)
        )
        for start in range(0, len(payees), 100):
            some: list[str] = payees[start : start + 100]
            codes = batch([("eth_getCode", [to_checksum_address(p), "latest"]) for p in some])
            for payee, code in zip(some, codes, strict=True):
                self._contracts[payee] = code not in ("0x", "0x0", "")
        return times

    def _probing(self, first: int, head: int) -> list[Alert]:
        """Reverted transactions to the escrow in blocks first..head, per sender in the
        window: a burst is someone probing (one JSON-RPC batch of receipts per 100 blocks)."""
        batch = self._batch
        alerts = []
        numbers = list(range(first, head + 1))
        for start in range(0, len(numbers), 100):
            chunk = numbers[start : start + 100]
            blocks = batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
            receipts = batch([("eth_getBlockReceipts", [hex(n)]) for n in chunk])
            for block, found in zip(blocks, receipts, strict=True):
                time = int(block["timestamp"], 16)
                for receipt in found or []:
                    if (receipt.get("to") or "").lower() != self.escrow or receipt[
                        "status"
                    ] != "0x0":
                        continue
                    sender = receipt["from"].lower()
                    times = [
                        t
                        for t in self.state.reverts.get(sender, [])
                        if time - t < self.settings.window_seconds
                    ]
                    times.append(time)
                    self.state.reverts[sender] = times
                    if len(times) >= self.settings.max_reverts:
                        alerts.append(Alert(
                            key=f"probing:{sender}:{time // self.settings.window_seconds}",
                            rule="probing", severity="warning", block=int(block["number"], 16),
                            block_hash=block["hash"], tx=receipt["transactionHash"],
                            registrar=to_checksum_address(sender), amount="",
                            what=f"{len(times)} reverted transactions to the escrow from "
                            f"{to_checksum_address(sender)} in {self.settings.window_seconds} s",
                            todo=WHAT_TO_DO["probing"],
                        ))  # fmt: skip
        return alerts

    def _batch(self, calls: list[tuple[str, list]]) -> list[Any]:
        """Calls in one JSON-RPC batch; a provider that refuses or limits batches gets them
        one by one, through the retries (as the indexer does)."""
        from itgen_chain.indexer import rpc_batch

        if not self._batches_refused:
            try:
                return rpc_batch(self.provider)(calls)
            except Exception as error:  # noqa: BLE001 - one by one from now on
                self._batches_refused = True
                self.echo(
                    f"the provider refused a batch ({str(error).splitlines()[0]}): one by one"
                )
        return [self.request(method, params) for method, params in calls]

    def _owing(self, name: str, args: dict[str, Any]) -> None:
        """Keeps, per student registered and not completed, who registered it for which
        course: what each registrar still owes in completions."""
        student = str(args.get("studentId"))
        registration = int(args.get("milestone", -1)) == Milestone.REGISTRATION
        if name in ("ScholarshipReleased", "ScholarshipReserved") and registration:
            self.state.owed[student] = [args["registrar"], int(args["courseId"])]
        elif name == "ScholarshipReleased" or (name == "ReservationCancelled" and registration):
            self.state.owed.pop(student, None)
        elif name == "CourseSet":
            self._completion.pop(int(args["courseId"]), None)

    def _allowances(self, last_payout: dict[str, dict[str, Any]]) -> list[Alert]:
        """A warning for each registrar that paid or reserved in this poll and whose
        allowance left no longer covers the completions it owes (its standing read once)."""
        owes: dict[str, tuple[int, int]] = {}
        for registrar, course in self.state.owed.values():
            if registrar in last_payout:
                count, amount = owes.get(registrar, (0, 0))
                owes[registrar] = (count + 1, amount + self._completion_of(course))
        alerts = []
        for registrar, log in last_payout.items():
            standing = self.program.escrow.registrar(to_checksum_address(registrar))
            if not standing.active:
                continue
            left = max(standing.allowance - standing.released, 0)
            students, owed = owes.get(registrar, (0, 0))
            share = self.settings.allowance_warn
            if left < owed + self.margin:
                what = (
                    f"{format_tokens(left, self.program.decimals)} tokens of allowance left; the "
                    f"completions it owes {students} student{'s' * (students != 1)} need "
                    f"{format_tokens(owed, self.program.decimals)}"
                )
            elif share and standing.released >= share * standing.allowance:
                what = f"{format_tokens(left, self.program.decimals)} tokens of allowance left"
            else:
                continue
            alerts.append(self._event_alert(
                "allowance", "warning", log, registrar, left, what,
                key=f"{registrar}:{standing.allowance}",
            ))  # fmt: skip
        return alerts

    def _completion_of(self, course: int) -> int:
        if course not in self._completion:
            self._completion[course] = self.program.escrow.course(course).completionAmount
        return self._completion[course]

    def _role_of(self, payee: str) -> str:
        if payee in self._registrars:
            return "a registrar"
        if payee == self._admin:
            return "the admin"
        if self.settings.relayer and payee == self.settings.relayer.lower():
            return "the relayer"
        return "a contract" if self._contracts.get(payee) else ""

    def _funding(self, head: int) -> list[Alert]:
        escrow = self.program.escrow
        remaining = 0
        for registrar in escrow.activeRegistrars():
            standing = escrow.registrar(registrar)
            remaining += max(standing.allowance - standing.released, 0)
        balance = escrow.budget() - escrow.reservedTotal()
        if balance >= remaining:
            self.state.underfunded_since = 0
            return []
        if self.state.underfunded_since:
            return []  # said when it began; said again only after it was resolved
        self.state.underfunded_since = head
        block = self.web3.eth.get_block(head)
        return [Alert(
            key=f"underfunded:{head}", rule="underfunded", severity="warning",
            block=head, block_hash=block["hash"].hex() if hasattr(block["hash"], "hex") else str(block["hash"]),
            tx="", registrar="", amount=format_tokens(remaining - balance, self.program.decimals),
            what=f"the escrow holds {format_tokens(balance, self.program.decimals)} tokens free; its "
            f"registrars may still release {format_tokens(remaining, self.program.decimals)}",
            todo=WHAT_TO_DO["underfunded"],
        )]  # fmt: skip

    def _pause(self, alerts: list[Alert]) -> None:
        critical = [a for a in alerts if a.severity == "critical"]
        if self.dry_run or self.guardian is None:
            for alert in critical:
                alert.what += (
                    " (dry run: not paused)" if self.dry_run else " (no guardian key: not paused)"
                )
            return
        if self.state.paused_in or self.program.escrow.paused():
            done = self.state.paused_in or "another transaction"
            for alert in critical:
                alert.what += f" (already paused once, in {done}: the watch pauses only once)"
            return
        receipt = self.program.send("pausing", self.program.escrow.pause, sender=self.guardian)
        self.state.paused_in = receipt.txn_hash
        for alert in critical:
            alert.what += f"; the watch paused the escrow in {receipt.txn_hash}"
        self.echo(f"paused the escrow in {receipt.txn_hash}")

    def _finality(self) -> list[Alert]:
        """Checks every alert not yet final against the chain: a block now of another hash
        was reorganised away (reported); a block at or below the finalized one is final."""
        try:
            final = self.web3.eth.get_block("finalized")["number"]
        except Exception:  # noqa: BLE001 - a node without the tag: 15 blocks deep
            final = self.web3.eth.block_number - 15
        head = self.web3.eth.block_number
        kept, reorgs = [], []
        for entry in self.state.recent:
            now = self.web3.eth.get_block(entry["block"])["hash"] if entry["block"] <= head else b""
            now = bytes(now).hex()
            if now != str(entry["hash"]).removeprefix("0x"):
                reorgs.append(Alert(
                    key=f"reorg:{entry['key']}", rule="reorg", severity="warning", block=entry["block"],
                    block_hash=now, tx="", registrar="", amount="",
                    what=f"block {entry['block']} of alert {entry['key']} was reorganised away",
                    todo=WHAT_TO_DO["reorg"],
                ))  # fmt: skip
            elif entry["block"] > final:
                kept.append(entry)
                continue
            for item in self.state.outbox:
                if item["alert"]["key"] == entry["key"]:
                    item["alert"]["final"] = True
        self.state.recent = kept
        for alert in reorgs:
            self.state.raised.append(alert.key)
            self.state.outbox.append({"alert": asdict(alert), "to": [s.name for s in self.sinks]})
            self.echo(alert.line())
        return reorgs

    # -------------------------------------------------------------- delivery and state

    def deliver(self) -> None:
        """Gives each waiting alert to each sink that has not taken it; a failure keeps it."""
        by_name = {s.name: s for s in self.sinks}
        left = []
        for item in self.state.outbox:
            alert = Alert(**item["alert"])
            pending = []
            for name in item["to"]:
                try:
                    by_name[name].deliver(alert)
                except Exception as error:  # noqa: BLE001 - kept, tried again next poll
                    pending.append(name)
                    self.echo(
                        f"{name} did not take alert {alert.key}: {str(error).splitlines()[0]}"
                    )
            if pending:
                left.append({**item, "to": pending})
        self.state.outbox = left

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self.state)))
        os.replace(temporary, self.path)
