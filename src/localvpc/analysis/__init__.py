"""Reserved for the analysis layer (later issues)."""
