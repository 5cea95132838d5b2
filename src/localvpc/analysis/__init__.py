"""Analyses over the compiled network: Network Access Analyzer (access scopes -> findings)."""
