"""attndyn: a reproducible laboratory for the training dynamics of attention models."""

__version__ = "0.1.0"
