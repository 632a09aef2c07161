"""One client for a deployed program (ApePay's StreamManager is the model): its escrow and
token, and every admin operation as a method that checks first and returns the change to
make, or raises a typed error in words. Whoever signs (an account, or a Safe in safe.py)
applies the changes; nothing here sends on its own except `apply`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from itgen_chain.payouts import Payouts

from itgen_chain.amounts import format_time, format_tokens, to_base_units
from itgen_chain.exceptions import AdminError, ItgenError, RegistrarExpiryError, WouldRevert


@dataclass(frozen=True)
class Change:
    """One transaction to the escrow (or another contract), checked: what it does in words,
    the contract method and its arguments."""

    what: str
    method: Any  # an ape ContractTransactionHandler
    args: tuple

    @property
    def to(self) -> str:
        return self.method.contract.address

    @property
    def data(self) -> bytes:
        return bytes(self.method.encode_input(*self.args))

    @property
    def abi(self) -> Any:
        """The method's ABI (the escrow and ERC-20 methods used have no overloads)."""
        return self.method.abis[0]


@dataclass(frozen=True)
class Funding:
    """Tokens to fund (base units) and the approvals to send first."""

    value: int
    approvals: list[int]


@dataclass
class Program:
    """The client of one program: its escrow and token. Admin changes (each a checked
    Change, sent by signers.carry_out), funding, and payouts (``payouts``) are its methods."""

    deployment: Any
    escrow: Any
    token: Any
    decimals: int
    legacy_gas: bool
    _payouts: Payouts | None = field(default=None, repr=False)

    def amount(self, text: str) -> int:
        return to_base_units(text, self.decimals)

    def tokens(self, base_units: int) -> str:
        """Base units as exact tokens: ``12.345678``."""
        return format_tokens(base_units, self.decimals)

    # ------------------------------------------------------------ admin changes

    @property
    def payouts(self) -> Payouts:
        """Paying rosters and signed files: the escrow's payouts (payouts.py), from this
        program's deployment block."""
        from ape import chain

        from itgen_chain.payouts import Payouts

        if self._payouts is None:
            self._payouts = Payouts(
                self.escrow, self.token, chain.provider, self.decimals, self.deployment.block
            )
        return self._payouts

    # ------------------------------------------------------------------ funding

    def funding(self, amount: str, funder: Any) -> Funding:
        """What funding `amount` (tokens as people write them) from `funder` takes, checked:
        not zero, the funder holds it; the approvals first (a Tether-style token refuses to
        change a non-zero allowance to another non-zero one, so a leftover one is reset)."""
        from itgen_chain.exceptions import InsufficientBalance, NothingSent

        value = self.amount(amount)
        if value == 0:
            raise NothingSent("the amount is zero")
        held = self.token.balanceOf(funder)
        if held < value:
            raise InsufficientBalance(funder.address, self.tokens(held), self.tokens(value))
        allowance = self.token.allowance(funder, self.escrow)
        approvals = [] if allowance >= value else ([0, value] if allowance else [value])
        return Funding(value, approvals)

    def funding_gas(self, funding: Funding, funder: Any) -> int:
        """About the gas of `funding`: the approvals' estimates, and 90,000 for `fund`
        itself, which cannot be estimated before the approval exists."""
        approve = self.token.approve
        return (
            sum(approve.estimate_gas_cost(self.escrow, 0, sender=funder) for _ in funding.approvals)
            + 90_000
        )

    def fund(self, funding: Funding, funder: Any) -> None:
        """The approvals, then `fund`, each simulated before it is sent."""
        for approval in funding.approvals:
            what = f"approving {self.tokens(approval)} tokens"
            self.send(what, self.token.approve, self.escrow, approval, sender=funder)
        self.send("funding", self.escrow.fund, funding.value, sender=funder)

    # ------------------------------------------------------------------ admin changes

    def set_course(
        self, course: int, registration: int, completion: int, provider: int | None = None
    ) -> Change:
        """Adds `course` or updates its amounts (base units); it becomes active. `provider`
        (whose registrars may attest it) defaults to the course's current one, 0 when new."""
        if provider is None:
            provider = self.escrow.course(course).provider
        return Change(
            f"set course {course}: {self.tokens(registration)} on registration, "
            f"{self.tokens(completion)} on completion, provider {provider}",
            self.escrow.setCourse,
            (course, registration, completion, True, provider),
        )

    def deactivate_course(self, course: int) -> Change:
        registration, completion, active, provider = self.escrow.course(course)
        if not active:
            raise AdminError(f"course {course} is not active")
        return Change(
            f"deactivate course {course}",
            self.escrow.setCourse,
            (course, registration, completion, False, provider),
        )

    def set_registrar(
        self,
        registrar: str,
        allowance: int,
        expiry: int | None = None,
        provider: int | None = None,
    ) -> Change:
        """Adds `registrar` or changes its allowance (base units), expiry (default: the
        program end, which it cannot outlive) and provider (whose courses it may attest;
        default: its current one, 0 when new). A removed address is refused: it is retired."""
        registrar = _address(registrar, "registrar")
        program_end = self.escrow.programEnd()
        if expiry is None:
            expiry = program_end
        elif expiry > program_end:
            raise RegistrarExpiryError(expiry, program_end)
        standing = self.escrow.registrar(registrar)
        if standing.retired:
            raise AdminError(
                f"{registrar} was removed as a registrar and is retired for good: "
                "give the registrar a new address"
            )
        if provider is None:
            provider = standing.provider
        return Change(
            f"set registrar {registrar}: allowance {self.tokens(allowance)} tokens, "
            f"expiry {format_time(expiry)}, provider {provider}",
            self.escrow.setRegistrar,
            (registrar, allowance, expiry, provider),
        )

    def remove_registrar(self, registrar: str) -> Change:
        registrar = _address(registrar, "registrar")
        if not self.escrow.registrar(registrar).active:
            raise AdminError(f"{registrar} is not an active registrar")
        return Change(
            f"remove registrar {registrar} (retired for good: the address can never be a "
            "registrar of this escrow again)",
            self.escrow.removeRegistrar,
            (registrar,),
        )

    def pause(self) -> Change:
        if self.escrow.paused():
            raise AdminError("releases are already paused")
        return Change("pause all releases", self.escrow.pause, ())

    def unpause(self) -> Change:
        if not self.escrow.paused():
            raise AdminError("releases are already running")
        return Change("resume releases", self.escrow.unpause, ())

    def extend(self, new_end: int) -> Change:
        """Moves the program end later, up to the latest end fixed at deployment."""
        current, latest = self.escrow.programEnd(), self.escrow.latestProgramEnd()
        if new_end <= current:
            raise AdminError(
                f"{format_time(new_end)} is not after the program end {format_time(current)}"
            )
        if new_end > latest:
            raise AdminError(
                f"{format_time(new_end)} is after the latest end fixed at deployment, "
                f"{format_time(latest)}"
            )
        return Change(
            f"extend the program end from {format_time(current)} to {format_time(new_end)}",
            self.escrow.extendProgramEnd,
            (new_end,),
        )

    def close(self, now: int) -> Change:
        """Returns what is left to the donor, once the program has ended (`now` is the
        pending block's time)."""
        end = self.escrow.programEnd()
        if now <= end:
            raise AdminError(f"the program runs until {format_time(end)}: close it after that")
        if (balance := self.escrow.budget()) == 0:
            raise AdminError("the escrow holds nothing: already closed")
        return Change(
            f"return {self.tokens(balance)} tokens to the donor {self.escrow.donor()}",
            self.escrow.reclaim,
            (),
        )

    def rescue(self, token: str, to: str, amount: int) -> Change:
        """Sends back `amount` base units of another token sent to the escrow by mistake."""
        token, to = _address(token, "token"), _address(to, "recipient")
        if token == self.token.address:
            raise AdminError("the scholarship token cannot be rescued: it is the students'")
        return Change(
            f"rescue {amount} base units of token {token} to {to}",
            self.escrow.rescueToken,
            (token, to, amount),
        )

    def begin_admin_transfer(self, new_admin: str) -> Change:
        new_admin = _address(new_admin, "new admin")
        delay = self.escrow.defaultAdminDelay()
        return Change(
            f"begin handing the admin role to {new_admin} (it accepts after {delay // 3600} h)",
            self.escrow.beginDefaultAdminTransfer,
            (new_admin,),
        )

    def accept_admin_transfer(self, now: int) -> Change:
        pending, schedule = self.escrow.pendingDefaultAdmin()
        if _is_zero(pending):
            raise AdminError("no admin handover is pending")
        if now < schedule:
            raise AdminError(f"{pending} may accept the admin role from {format_time(schedule)}")
        return Change(
            f"accept the admin role as {pending}", self.escrow.acceptDefaultAdminTransfer, ()
        )

    def cancel_admin_transfer(self) -> Change:
        pending, _ = self.escrow.pendingDefaultAdmin()
        if _is_zero(pending):
            raise AdminError("no admin handover is pending")
        return Change(
            f"cancel the handover to {pending}", self.escrow.cancelDefaultAdminTransfer, ()
        )

    def set_guardian(self, guardian: str) -> Change:
        """Grants the pauser role to `guardian` (a key or a Safe that may only pause)."""
        guardian = _address(guardian, "guardian")
        if self.escrow.hasRole(self.escrow.PAUSER_ROLE(), guardian):
            raise AdminError(f"{guardian} is a guardian already (it holds the pauser role)")
        return Change(
            f"make {guardian} a guardian (grant the pauser role: it may pause, nothing else)",
            self.escrow.grantRole,
            (self.escrow.PAUSER_ROLE(), guardian),
        )

    def revoke_guardian(self, guardian: str) -> Change:
        """Revokes the pauser role from `guardian` (a stolen or retired guardian key)."""
        guardian = _address(guardian, "guardian")
        if not self.escrow.hasRole(self.escrow.PAUSER_ROLE(), guardian):
            raise AdminError(f"{guardian} is not a guardian (it does not hold the pauser role)")
        return Change(
            f"revoke the pauser role from {guardian}: it can no longer pause",
            self.escrow.revokeRole,
            (self.escrow.PAUSER_ROLE(), guardian),
        )

    def roles(self) -> dict[str, str]:
        """Who holds each role: the admin, a pending admin and the pauser (from events)."""
        holders = {"admin": self.escrow.defaultAdmin()}
        pending, schedule = self.escrow.pendingDefaultAdmin()
        if not _is_zero(pending):
            holders["pending admin"] = f"{pending} (from {format_time(schedule)})"
        role = self.escrow.PAUSER_ROLE()
        logs = self.escrow.RoleGranted.query("event_arguments", start_block=self.deployment.block)[
            "event_arguments"
        ]
        pausers = sorted({args["account"] for args in logs if bytes(args["role"]) == bytes(role)})
        current = [p for p in pausers if self.escrow.hasRole(role, p)]
        holders["pauser"] = ", ".join(current) or "nobody"
        return holders

    # ------------------------------------------------------------ sending

    def apply(self, changes: list[Change], sender: Any) -> list[Any]:
        """Sends each change from `sender` in order, each simulated first; returns receipts."""
        receipts = []
        for change in changes:
            self.check(change.what, change.method, *change.args, sender=sender)
            receipts.append(change.method(*change.args, sender=sender))
        return receipts

    def send(self, what: str, method: Any, *args: Any, sender: Any) -> Any:
        """Simulates `method` with eth_call first; a revert becomes one line naming `what`
        and the reason in words, and nothing is sent. Then sends it."""
        self.check(what, method, *args, sender=sender)
        return method(*args, sender=sender)

    def check(self, what: str, method: Any, *args: Any, sender: Any) -> None:
        """Raises ItgenError with the reason in words if `method` would revert."""
        from ape import chain

        from itgen_chain.retrying import is_connection_error

        # Through web3's eth_call, not ape's: ape-foundry prints a call trace on each revert,
        # and a refusal is one line.
        call = {
            "from": getattr(sender, "address", sender),
            "to": method.contract.address,
            "data": "0x" + bytes(method.encode_input(*args)).hex(),
        }
        try:
            chain.provider.web3.eth.call(call)
        except Exception as error:  # web3's ContractLogicError, with the revert data
            if is_connection_error(error):
                raise
            raise WouldRevert(what, self.explain(error)) from None

    def explain(self, error: BaseException) -> str:
        """A revert of the escrow or its token, in words."""
        from itgen_chain.compiled import escrow_abi
        from itgen_chain.reverts import explain

        abi = escrow_abi(self.escrow.contract_type) + escrow_abi(self.token.contract_type)
        return explain(error, abi, self.decimals) or _first_line(error)

    def explain_data(self, data: bytes) -> str:
        """Raw revert data (of the escrow, its token, or the Safe) in words."""
        from eth_abi import decode as abi_decode

        from itgen_chain.safe import safe_error

        if not data:
            return "it reverted without a reason"
        if data[:4] == bytes.fromhex("08c379a0"):  # Error(string)
            try:
                (message,) = abi_decode(["string"], data[4:])
            except Exception:  # eth_abi's decoding errors
                return "it reverted with an unreadable message"
            return safe_error(message) or message
        return self.explain(ItgenError("0x" + data.hex()))


def _address(text: str, field: str) -> str:
    from eth_utils import is_address, to_checksum_address

    if not isinstance(text, str) or not is_address(text):
        raise AdminError(f"{field} {text!r} is not an address")
    return to_checksum_address(text)


def _is_zero(address: Any) -> bool:
    return int(str(address), 16) == 0


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


@dataclass(frozen=True)
class Discovered:
    """What the chain itself tells of an escrow with no deployment record: enough to index,
    audit and verify it (an outside auditor's view), and with the program salt file a
    registrar is handed, enough to attest and sign."""

    escrow: str
    token: str
    donor: str
    block: int
    chain_id: int
    salt_id: str = ""
    salt_file: Path | None = None
    reference_rule: int = 1

    @property
    def salt(self) -> bytes:
        from itgen_chain.exceptions import DeploymentError
        from itgen_chain.records import read_salt_file

        if self.salt_file is None:
            raise DeploymentError(
                f"{self.escrow} has no deployment record here, so no program salt: give the "
                "salt file the program admin handed you with --salt-file"
            )
        return read_salt_file(self.salt_file).salt


def with_salt_file(found: Discovered, path: Path) -> Discovered:
    """The escrow with its program salt file: its salt id, reference rule and (unless the
    chain already told) its deployment block; a file of another escrow is refused."""
    from itgen_chain.exceptions import DeploymentError
    from itgen_chain.records import read_salt_file, salt_id

    facts = read_salt_file(path)
    if facts.escrow and facts.escrow.lower() != found.escrow.lower():
        raise DeploymentError(f"{path} is the salt of escrow {facts.escrow}, not {found.escrow}")
    return replace(
        found,
        salt_id=salt_id(facts.salt),
        salt_file=path,
        reference_rule=facts.reference_rule,
        block=found.block or facts.block,
    )


def discover(escrow: str, find_block: bool = True) -> Discovered:
    """Reads token, donor and deployment block from the escrow at the head (a node without
    history answers); raises DeploymentError when the address holds no ScholarshipEscrow."""
    from ape import chain
    from eth_utils import is_address, to_checksum_address

    from itgen_chain import compiled
    from itgen_chain.exceptions import DeploymentError

    if not is_address(escrow):
        raise DeploymentError(f"--escrow {escrow!r} is not an address")
    escrow = to_checksum_address(escrow)
    web3 = chain.provider.web3
    if not web3.eth.get_code(escrow):
        raise DeploymentError(f"no contract at {escrow} on chain {chain.chain_id}")
    contract = web3.eth.contract(escrow, abi=compiled.escrow_artifact()["abi"])
    try:
        token, donor = contract.functions.token().call(), contract.functions.donor().call()
    except Exception as error:  # web3's ContractLogicError or a decoding error
        raise DeploymentError(f"{escrow} does not answer as a ScholarshipEscrow") from error
    block = _deployment_block(web3, contract) if find_block else 0
    return Discovered(escrow, token, donor, block, chain.chain_id)


def _deployment_block(web3: Any, contract: Any) -> int:
    """Where the escrow's events begin: read at the head from the escrow itself (3.1.0 on),
    which any node answers; an earlier escrow is found by a binary search on eth_getCode,
    which needs a node that keeps old state (an archive node)."""
    from itgen_chain.exceptions import DeploymentError
    from itgen_chain.verification import deployment_block

    try:
        return int(contract.functions.deploymentBlock().call())
    except Exception:  # noqa: BLE001 - an escrow before 3.1.0 has no such function
        pass
    try:
        return deployment_block(web3, contract.address)
    except Exception as error:  # noqa: BLE001 - a node without history
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DeploymentError(
            f"{contract.address} predates deploymentBlock() (version 3.1.0), and finding its "
            f"deployment block needs old state, which this node refused ({first}): use an "
            "archive node, or the program's salt file (--salt-file, its block= line)"
        ) from error


def connect(
    escrow: str | None = None,
    program: str = "main",
    find_block: bool = True,
    salt_file: Path | None = None,
) -> Program:
    """The recorded `program` of the connected network, or with `escrow` any
    ScholarshipEscrow by address alone (token, donor and, unless `find_block` is False,
    the deployment block from the chain; the program salt from `salt_file`)."""
    from ape import chain

    from itgen_chain import compiled, records

    provider = chain.provider
    deployment: Discovered | records.Deployment
    if escrow:
        known_block = salt_file is not None and records.read_salt_file(salt_file).block > 0
        found = discover(escrow, find_block and not known_block)
        deployment = with_salt_file(found, salt_file) if salt_file else found
    else:
        deployment = records.current(provider, program)
    # The package's own compiled escrow, and the real token through the ERC-20 interface.
    contract = chain.contracts.instance_at(deployment.escrow, contract_type=compiled.escrow_type())
    token = chain.contracts.instance_at(deployment.token, contract_type=compiled.erc20_type())
    return Program(
        deployment,
        contract,
        token,
        token.decimals(),
        legacy_gas=provider.network.ecosystem.name == "bsc",
    )


def to_index(
    escrows: Sequence[str] = (), all_programs: bool = False, program: str = "main"
) -> tuple[list[Any], list[str]]:
    """What `index` covers, and what to tell about it: escrows by address (discovered from
    the chain), every program recorded for the network that still has code, or one recorded
    program. Raises DeploymentError when there is nothing to index."""
    from ape import chain

    from itgen_chain import records
    from itgen_chain.exceptions import DeploymentError

    if escrows:
        found = [discover(address) for address in escrows]
        told = [f"escrow {d.escrow}: token {d.token}, deployed in block {d.block}" for d in found]
        return found, told
    if not all_programs:
        return [connect(None, program).deployment], []
    network = chain.provider.network
    recorded = records.programs(network.ecosystem.name, network.name)
    live = [d for d in recorded if chain.provider.web3.eth.get_code(d.escrow)]
    told = [
        f"program {d.program}: no contract at {d.escrow} any more, skipped"
        for d in recorded
        if d not in live
    ]
    if not live:
        raise DeploymentError(f"no program recorded for {network.ecosystem.name}:{network.name}")
    names = ", ".join(f"{d.program} ({d.escrow})" for d in live)
    return live, [*told, f"{len(live)} program(s) in one pass: {names}"]
