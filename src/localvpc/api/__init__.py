"""Reserved for the api layer (later issues)."""
