"""Reserved for the flowlogs layer (later issues)."""
