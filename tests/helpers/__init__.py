"""Helpers shared by the tests: runs (compose, in-process runs, the CLI), interrupt callbacks,
broken video files."""
