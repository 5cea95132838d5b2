"""Reserved for the lattice layer (later issues)."""
