"""`ape run fund` in the repository: the same command as `ape itgen fund`."""

from itgen_chain._cli.fund import cli  # noqa: F401
