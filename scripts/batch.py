"""`ape run batch` in the repository: the same command as `ape itgen batch`."""

from itgen_chain._cli.batch import cli  # noqa: F401
