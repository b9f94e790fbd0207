"""Other rules engines run on the same data as Minzheng, for ``benchmarks/bench_rules.py``."""
