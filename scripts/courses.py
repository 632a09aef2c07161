"""`ape run courses` in the repository: the same command as `ape itgen courses`."""

from itgen_chain._cli.courses import cli  # noqa: F401
