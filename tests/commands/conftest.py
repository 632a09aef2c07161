"""The commands run in-process through click's CliRunner, against the session's anvil (the
one `ape test` started, which refuses a transaction above BNB Chain's 2^24 gas), each test
with its own records and working files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Said:
    """What a command printed and its exit code, named as a subprocess's are."""

    stdout: str
    stderr: str
    returncode: int


class Commands:
    """`ape itgen ARGS --network NETWORK`, in-process; `records` is where the deployment
    records go, `work` the journals, checkpoints and indexes, `web3` the node's."""

    def __init__(self, folder: Path) -> None:
        from click.testing import CliRunner

        self.records = folder / "local" / "deployments"
        self.secrets = folder / "local" / "secrets"
        self.work = folder / "var"
        self._runner = CliRunner(mix_stderr=False)

    @property
    def web3(self):
        from ape import chain

        return chain.provider.web3

    @property
    def uri(self) -> str:
        from ape import chain

        return chain.provider.uri

    @contextmanager
    def _through(self, host: str | None) -> Iterator[None]:
        """Every call to the session's node goes through `host` (a provider stand-in before
        it), then directly again. (ape gives a command a new web3 client, so the URL is
        changed where web3 posts.)"""
        from web3._utils.http_session_manager import HTTPSessionManager

        if host is None:
            yield
            return
        direct, post = self.uri, HTTPSessionManager.make_post_request

        def rerouted(manager, endpoint_uri, data, **kwargs):
            return post(manager, host if endpoint_uri == direct else endpoint_uri, data, **kwargs)

        HTTPSessionManager.make_post_request = rerouted
        try:
            yield
        finally:
            HTTPSessionManager.make_post_request = post

    def __call__(
        self,
        *args: str,
        check: bool = True,
        network: str = "ethereum:local:foundry",
        host: str | None = None,
    ) -> Said:
        """`host` reaches the node through another URL (a provider stand-in before it)."""
        from itgen_chain._cli import cli

        with self._through(host):
            result = self._runner.invoke(cli, [*args, "--network", network])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a traceback a user would see: the test fails with it
        said = Said(result.stdout, result.stderr, result.exit_code)
        if check and said.returncode != 0:
            raise AssertionError(f"ape itgen {' '.join(args)} failed:\n{said.stdout}{said.stderr}")
        return said


def _reuse_connected_nodes(monkeypatch) -> None:
    """A command given `--network X` in-process takes the node this session is connected to
    on X, instead of starting another anvil (ape compares providers by their command line,
    whose port it picks anew)."""
    from ape.api.networks import ProviderContextManager
    from ape.managers.networks import NetworkManager

    choose = NetworkManager.get_provider_from_choice

    def connected_first(self, network_choice=None, provider_settings=None):
        for provider in ProviderContextManager.connected_providers.values():
            if provider.is_connected and provider.network_choice == network_choice:
                return provider
        return choose(self, network_choice=network_choice, provider_settings=provider_settings)

    monkeypatch.setattr(NetworkManager, "get_provider_from_choice", connected_first)


@pytest.fixture
def itgen(tmp_path, monkeypatch):
    """Runs the commands in-process, with records and working files under tmp_path."""
    from itgen_chain.config import settings

    commands = Commands(tmp_path)
    monkeypatch.setenv("ITGEN_LOCAL_FOLDER", str(tmp_path / "local"))
    monkeypatch.setenv("ITGEN_WORK_FOLDER", str(commands.work))
    settings.cache_clear()
    _reuse_connected_nodes(monkeypatch)
    yield commands
    settings.cache_clear()


@pytest.fixture
def bsc_local():
    """The session connected to a local chain under the bsc ecosystem (another anvil), for
    the duration of the test; commands given --network bsc:local:foundry use it."""
    from ape import networks

    with networks.parse_network_choice("bsc:local:foundry", disconnect_after=True) as provider:
        yield provider
