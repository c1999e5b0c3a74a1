"""Benchmarks: `python -m bench [NAME …]` (or `make bench`). Each builds its own data and prints
ratios against a baseline measured in the same run; absolute times on a noisy machine mean little."""
