"""The skipjack version."""

__version__ = "0.1.0"
