"""What the repository runs but the package does not ship: the demo and the benchmarks
(``ape run demo``, ``ape run bench``)."""
