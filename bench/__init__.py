"""Benchmarks of the catalog and the sync engine at marketplace scale (docs/performance.md)."""
