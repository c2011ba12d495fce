"""Application layer: prices, quotes, settlement rules (pure). Lands with the trading issue."""
