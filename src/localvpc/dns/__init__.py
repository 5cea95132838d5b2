"""Reserved for the dns layer (later issues)."""
