"""Analyses that read the flat event records."""
