"""Tartan: reproducible benchmarking reports for regional children's-services groups."""

__version__ = "0.1.0"
