"""Core: pure functions on pandas frames. No file, network or notebook I/O here."""
