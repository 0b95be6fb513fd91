"""Shared plotting helpers (mean with a band over seeds, PNG + PDF output)."""
