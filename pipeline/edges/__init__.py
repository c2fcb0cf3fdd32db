"""Edges: each module owns one outside thing (files, contracts, charts, rendering, reference)."""
