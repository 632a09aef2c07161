"""Shared fixtures: accounts by role, the token flavours, a funded escrow on anvil."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from itgen_chain.attestations import Attestation, Milestone
from itgen_chain.offline import keep_explorer_lookups_offline

keep_explorer_lookups_offline()


def _enforce_bnb_chains_gas_cap() -> None:
    """The session's anvil refuses any transaction above 2^24 gas, as BNB Chain does since
    BEP-652 (EIP-7825): ape-foundry has no setting for the flag, so it is added to the
    command that starts the node."""
    from ape_foundry.provider import FoundryProvider

    build = FoundryProvider.build_command
    if getattr(build, "caps_gas", False):
        return

    def build_command(self):
        return [*build(self), "--enable-tx-gas-limit"]

    build_command.caps_gas = True
    FoundryProvider.build_command = build_command


_enforce_bnb_chains_gas_cap()

settings.register_profile(
    "dev",
    max_examples=10,
    stateful_step_count=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=15,
    stateful_step_count=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "slow",
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DAY = 86_400
# Each flavour: contract name, decimals, how it behaves.
TOKEN_FLAVOURS = {
    "BscUsdLike": 18,  # BSC-USD: returns bool, reverts on failure
    "UsdtLike": 6,  # Ethereum USDT: returns nothing, reverts on failure
    "FalseReturnToken": 18,  # returns false instead of reverting
}


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def donor(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def registrar(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def other_registrar(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def pauser(accounts):
    return accounts[5]


@pytest.fixture(scope="module", params=list(TOKEN_FLAVOURS))
def token(project, admin, request):
    return getattr(project, request.param).deploy(sender=admin)


@pytest.fixture(scope="module")
def unit(token):
    return 10 ** token.decimals()


@pytest.fixture(scope="module")
def program_end(chain):
    return chain.pending_timestamp + 270 * DAY


# The latest program end the tests' escrows agree with their donor: a year past the end.
LATEST_END_MARGIN = 365 * DAY


@pytest.fixture(scope="session")
def deploy_escrow(project):
    """Deploys a ScholarshipEscrow; the pauser defaults to the admin, the admin handover delay
    to a day and the latest program end to a year past the end."""
    from itgen_chain.deployer import Terms

    def deploy(token, donor, admin, program_end, *, pauser=None, delay=DAY, latest_end=None):
        arguments = Terms(
            _address(token),
            _address(donor),
            _address(admin),
            program_end,
            pauser=_address(pauser) if pauser else None,
            admin_delay=delay,
            latest_program_end=latest_end or program_end + LATEST_END_MARGIN,
        ).arguments()
        return project.ScholarshipEscrow.deploy(*arguments, sender=admin)

    return deploy


def _address(value) -> str:
    return value if isinstance(value, str) else value.address


@pytest.fixture(scope="module")
def escrow(deploy_escrow, token, unit, admin, donor, registrar, program_end):
    contract = deploy_escrow(token, donor, admin, program_end)
    token.mint(donor, 1_000_000 * unit, sender=donor)
    token.approve(contract, 100_000 * unit, sender=donor)
    contract.fund(100_000 * unit, sender=donor)
    contract.setCourse(1, 450 * unit, 50 * unit, True, 0, sender=admin)
    contract.setCourse(2, 300 * unit, 0, True, 0, sender=admin)
    contract.setRegistrar(registrar, 10_000 * unit, program_end, 0, sender=admin)
    return contract


@pytest.fixture(scope="session")
def new_student():
    counter = iter(range(1, 10**9))

    def make(course_id: int = 1, milestone: Milestone = Milestone.REGISTRATION, payee=None):
        n = next(counter)
        student_id = n.to_bytes(32, "big")
        payee = payee or "0x" + (0xA11CE000 + n).to_bytes(20, "big").hex()
        from eth_utils import to_checksum_address

        return Attestation(student_id, to_checksum_address(payee), course_id, milestone)

    return make


@pytest.fixture
def start_anvil():
    """Starts standalone anvils from npm (the test mnemonic, any extra flags) and returns
    their ports; stops them at the end of the test."""
    import socket
    import subprocess
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    started: dict[int, subprocess.Popen] = {}

    def start(*flags: str) -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        command = [str(root / "node_modules" / ".bin" / "anvil"), "--port", str(port)]
        command += ["--mnemonic", "test test test test test test test test test test test junk"]
        process = subprocess.Popen(
            [*command, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        started[port] = process
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return port
            time.sleep(0.1)
        raise AssertionError(f"anvil did not start on port {port}")

    start.processes = started  # by port, for a test that stops its node on purpose
    yield start
    for process in started.values():
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def deploy_test_token(project):
    """Deploys a test token compiled in this repository through web3 (the package under
    test never carries one) and mints `mint` base units to the sender; returns its address.
    The bytecode comes through ape's project, which compiles first where nothing is built
    yet (a fresh clone)."""
    from web3 import HTTPProvider, Web3

    def deploy(node, sender: str, name: str = "BscUsdLike", mint: int = 0) -> str:
        """`node`: a port on loopback, or a Web3."""
        web3 = Web3(HTTPProvider(f"http://127.0.0.1:{node}")) if isinstance(node, int) else node
        bytecode = getattr(project, name).contract_type.deployment_bytecode.bytecode
        receipt = web3.eth.wait_for_transaction_receipt(
            web3.eth.send_transaction({"from": sender, "data": bytecode})
        )
        token = receipt["contractAddress"]
        if mint:
            data = Web3.keccak(text="mint(address,uint256)")[:4] + bytes(12)
            data += bytes.fromhex(sender[2:]) + mint.to_bytes(32, "big")
            web3.eth.wait_for_transaction_receipt(
                web3.eth.send_transaction({"from": sender, "to": token, "data": "0x" + data.hex()})
            )
        return token

    return deploy
