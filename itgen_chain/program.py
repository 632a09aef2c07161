"""The program a command works on: its deployed escrow and token, with checks that explain
a revert in words before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itgen_chain.amounts import to_base_units


@dataclass
class Connected:
    """The escrow of the network ape is connected to, with its token."""

    deployment: Any
    escrow: Any
    token: Any
    decimals: int
    legacy_gas: bool

    def amount(self, text: str) -> int:
        return to_base_units(text, self.decimals)

    def tokens(self, base_units: int) -> str:
        """Base units as exact tokens: ``12.345678``."""
        from itgen_chain.amounts import format_tokens

        return format_tokens(base_units, self.decimals)

    def send(self, what: str, method: Any, *args: Any, sender: Any) -> Any:
        """Simulates `method` with eth_call first; a revert becomes one line naming `what`
        and the reason in words, and nothing is sent. Then sends it."""
        self.check(what, method, *args, sender=sender)
        return method(*args, sender=sender)

    def check(self, what: str, method: Any, *args: Any, sender: Any) -> None:
        """Raises ItgenError with the reason in words if `method` would revert."""
        from itgen_chain.escrow import _is_connection_error
        from itgen_chain.exceptions import ItgenError
        from itgen_chain.indexer import escrow_abi
        from itgen_chain.reverts import explain

        try:
            method.call(*args, sender=sender)
        except Exception as error:  # ape's ContractLogicError and its custom errors
            if _is_connection_error(error):
                raise
            abi = escrow_abi(self.escrow.contract_type) + escrow_abi(self.token.contract_type)
            reason = explain(error, abi, self.decimals) or _first_line(error)
            raise ItgenError(f"{what} would revert: {reason}; nothing was sent") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


@dataclass(frozen=True)
class Discovered:
    """What the chain itself tells of an escrow with no deployment record: enough to index,
    audit and verify it (an outside auditor's view). It has no program salt."""

    escrow: str
    token: str
    donor: str
    block: int
    chain_id: int
    salt_id: str = ""

    @property
    def salt(self) -> bytes:
        from itgen_chain.exceptions import DeploymentError

        raise DeploymentError(
            f"{self.escrow} has no deployment record here, so no program salt: a roster "
            "cross-check needs the program's record and salt"
        )


def discover(escrow: str) -> Discovered:
    """Reads token and donor from the escrow and finds its deployment block (a binary search
    on eth_getCode); raises DeploymentError when the address holds no ScholarshipEscrow."""
    from ape import chain
    from eth_utils import is_address, to_checksum_address

    from itgen_chain import compiled
    from itgen_chain.exceptions import DeploymentError
    from itgen_chain.verification import deployment_block

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
    return Discovered(escrow, token, donor, deployment_block(web3, escrow), chain.chain_id)


def connect(escrow: str | None = None, program: str = "main") -> Connected:
    """The recorded `program` of the connected network, or with `escrow` any
    ScholarshipEscrow by address alone (token, donor and deployment block from the chain)."""
    from ape import chain

    from itgen_chain import compiled, deployments

    provider = chain.provider
    deployment = discover(escrow) if escrow else deployments.current(provider, program)
    # The package's own compiled escrow, and the real token through the ERC-20 interface.
    contract = chain.contracts.instance_at(deployment.escrow, contract_type=compiled.escrow_type())
    token = chain.contracts.instance_at(deployment.token, contract_type=compiled.erc20_type())
    return Connected(
        deployment,
        contract,
        token,
        token.decimals(),
        legacy_gas=provider.network.ecosystem.name == "bsc",
    )
