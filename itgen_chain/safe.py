"""Admin changes through a Safe (1.4.1), with ape-safe.

Each change is simulated with eth_call from the Safe's address; several go out as one Safe
transaction through MultiSendCallOnly. When the signatures at hand (the submitter's and the
co-signers') meet the threshold, the Safe transaction is executed; otherwise it is proposed
(to ape-safe's local stand-in for the transaction service on a local chain, to Safe's
transaction service on BNB Chain) and the owners still to sign are named.

ape-safe looks the Safe contracts' addresses up online (safe-deployments on GitHub); here
they are the canonical ones, the same on BNB Chain 56 and 97 and on a local chain set up by
`devtools/safe_contracts.py`, so nothing is looked up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from itgen_chain.exceptions import ItgenError, SafeError
from itgen_chain.program import Change, Program

VERSION = "1.4.1"
SAFE = "0x41675C099F32341bf84BFc5382aF534df5C7461a"
SAFE_L2 = "0x29fcB43b46531BcA003ddC8FCB67FFE91900C762"
PROXY_FACTORY = "0x4e1DCf7AD4e460CfD30791CCC4F9c8a4f820ec67"
MULTISEND_CALL_ONLY = "0x9641d764fc13c8B624c04430C7356C1C7C8102e2"
FALLBACK_HANDLER = "0xfd0732Dc9E303f09fCEf3a7388Ad10A83459Ec99"


@dataclass(frozen=True)
class Call:
    """One call the Safe makes: what it does in words, the target, value and calldata."""

    what: str
    to: str
    value: int
    data: bytes

    @classmethod
    def of(cls, change: Change) -> Call:
        return cls(change.what, change.to, 0, change.data)


@dataclass
class Outcome:
    """What became of a Safe transaction: executed (with its receipt) or proposed."""

    safe_tx_hash: str
    signed_by: list[str]
    threshold: int
    receipt: Any = None
    missing: list[str] = field(default_factory=list)

    @property
    def executed(self) -> bool:
        return self.receipt is not None


def load(alias_or_address: str) -> Any:
    """The Safe as an ape-safe account: an alias added with `ape safe add`, or an address
    (kept in the work folder like ape-safe keeps its own)."""
    from ape import accounts, chain
    from ape_safe.accounts import SafeAccount
    from ape_safe.types import SafeCacheData
    from eth_utils import is_address, to_checksum_address

    from itgen_chain.config import settings

    container = accounts.containers.get("safe")
    if container is not None and alias_or_address in list(container.aliases):
        account = container.load_account(alias_or_address)
    elif is_address(alias_or_address):
        address = to_checksum_address(alias_or_address)
        folder = settings().work_folder / "safes"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{address}.json"
        data = SafeCacheData(address=address, deployed_chain_ids=[chain.chain_id])
        path.write_text(data.model_dump_json())
        account = SafeAccount(account_file_path=path)
    else:
        raise SafeError(
            f"--safe {alias_or_address!r} is neither an address nor a Safe added with `ape safe add`"
        )
    if not chain.provider.web3.eth.get_code(account.address):
        raise SafeError(f"no Safe at {account.address} on chain {chain.chain_id}")
    _use_canonical_contracts(account)
    return account


def _use_canonical_contracts(account: Any) -> None:
    """Gives ape-safe the Safe contracts at their canonical addresses instead of the online
    lookup (which fails offline with a ConnectionError)."""
    from ape import chain
    from ape_safe.accounts import SafeAccount
    from ape_safe.packages import PackageType
    from eth_utils import to_checksum_address
    from packaging.version import Version

    try:
        version = account.version
    except Exception as error:  # ape-safe's NoVersionDetected or a decoding error
        raise SafeError(f"{account.address} does not answer as a Safe") from error
    if version != Version(VERSION):
        raise SafeError(f"the Safe at {account.address} is version {version}, not {VERSION}")
    master_copy = chain.provider.get_storage(account.address, 0)[-20:]
    singleton = "0x" + bytes(master_copy).hex()
    SafeAccount._factory._singleton[version] = PackageType.SINGLETON(version).at(singleton)
    SafeAccount._factory._factory[version] = PackageType.PROXY_FACTORY(version).at(PROXY_FACTORY)
    handler = chain.provider.get_storage(account.address, _FALLBACK_SLOT)[-20:]
    if any(handler):
        # ape-safe merges the fallback handler's ABI into the Safe's; ship it, never fetch it.
        address = to_checksum_address(bytes(handler))
        chain.contracts.cache_contract_type(address, _fallback_handler_type())


# keccak256("fallback_manager.handler.address"), where a Safe keeps its fallback handler.
_FALLBACK_SLOT = 0x6C9A6C4A39284E37ED1CF53D337577D14212A4870FB976A4366C693B939918D5


def _fallback_handler_type() -> Any:
    import json
    from importlib import resources

    from ethpm_types import ContractType

    text = resources.files("itgen_chain").joinpath("data/CompatibilityFallbackHandler.abi.json")
    return ContractType(
        contractName="CompatibilityFallbackHandler", abi=json.loads(text.read_text())
    )


def simulate(program: Program, account: Any, calls: list[Call]) -> None:
    """eth_call of each call from the Safe's address; a revert stops with its reason."""
    from ape import chain

    web3 = chain.provider.web3
    for call in calls:
        request = {"from": account.address, "to": call.to, "data": call.data, "value": call.value}
        try:
            web3.eth.call(request)
        except Exception as error:  # web3's ContractLogicError / ContractCustomError
            raise ItgenError(
                f"{call.what} would revert from the Safe {account.address}: "
                f"{program.explain(error)}; nothing was sent"
            ) from None


def safe_transaction(account: Any, calls: list[Call]) -> Any:
    """One call as itself; several as one MultiSendCallOnly delegate call. Its nonce is the
    Safe's next on chain, so the same changes proposed twice are one Safe transaction."""
    from ape_safe.multisend import MultiSend
    from ape_safe.packages import PackageType

    if len(calls) == 1:
        call = calls[0]
        return account.create_safe_tx(
            to=call.to, data=call.data, value=call.value, nonce=account.next_nonce
        )
    batch = MultiSend(safe=account, version=account.version)
    batch.contract = PackageType.MULTISEND(account.version).at(MULTISEND_CALL_ONLY)
    batch.calls.extend(
        {"target": call.to, "value": call.value, "callData": call.data} for call in calls
    )
    value = sum(call.value for call in calls)
    return batch.as_safe_tx(account, value=value, nonce=account.next_nonce)


def submit(
    program: Program, account: Any, calls: list[Call], submitter: Any, cosigners: list[Any]
) -> Outcome:
    """Simulates, signs with the submitter (when an owner) and the co-signers, then executes
    when the threshold is met, or proposes."""
    from ape_safe.accounts import get_signatures
    from ape_safe.utils import get_safe_tx_hash

    if not calls:
        raise SafeError("nothing to send")
    simulate(program, account, calls)
    owners = list(account.contract.getOwners())
    threshold = int(account.contract.getThreshold())
    for cosigner in cosigners:
        if cosigner.address not in owners:
            raise SafeError(f"{cosigner.address} is not an owner of the Safe {account.address}")
    safe_tx = safe_transaction(account, calls)
    tx_hash = str(get_safe_tx_hash(safe_tx))
    signers = [s for s in [submitter, *cosigners] if s.address in owners]
    signatures = {**account.get_api_confirmations(safe_tx), **get_signatures(safe_tx, signers)}
    signed_by = sorted(signatures)
    if len(signatures) >= threshold:
        transaction = account.create_execute_transaction(safe_tx, signatures, submitter=submitter)
        receipt = submitter.call(transaction)
        if receipt.failed or any(log.event_name == "ExecutionFailure" for log in receipt.events):
            raise SafeError(f"the Safe transaction {tx_hash} failed")
        return Outcome(tx_hash, signed_by, threshold, receipt=receipt)
    account.propose_safe_tx(safe_tx, sigs_by_signer=signatures, contractTransactionHash=tx_hash)
    missing = [owner for owner in owners if owner not in signatures]
    return Outcome(tx_hash, signed_by, threshold, missing=missing)
