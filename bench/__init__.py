"""Benchmarks: timing and memory, never pass/fail. Results are recorded in bench/README.md."""
