"""Benchmarks (not tests); see benchmarks/__main__.py and benchmarks/ledger_bench.py."""
