"""`ape run relay` in the repository: the same command as `ape itgen relay`."""

from itgen_chain._cli.relay import cli  # noqa: F401
