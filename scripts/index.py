"""`ape run index` in the repository: the same command as `ape itgen index`."""

from itgen_chain._cli.index import cli  # noqa: F401
