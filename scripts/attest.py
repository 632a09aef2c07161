"""`ape run attest` in the repository: the same command as `ape itgen attest`."""

from itgen_chain._cli.attest import cli  # noqa: F401
