"""`ape run extend` in the repository: the same command as `ape itgen extend`."""

from itgen_chain._cli.extend import cli  # noqa: F401
