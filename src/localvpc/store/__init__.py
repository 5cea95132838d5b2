"""Reserved for the store layer (later issues)."""
