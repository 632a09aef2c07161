"""itgen-chain: a scholarship escrow on BNB Chain, its operator tools, indexer and audit."""

__version__ = "0.1.0"
