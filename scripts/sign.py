"""`ape run sign` in the repository: the same command as `ape itgen sign`."""

from itgen_chain._cli.sign import cli  # noqa: F401
