"""`ape run pause` in the repository: the same command as `ape itgen pause`."""

from itgen_chain._cli.pause import cli  # noqa: F401
