"""Cloud WAN: the core network policy engine (validation, compilation into per-segment,
per-edge route tables, change sets). Above the data plane, below the API (layer order)."""
