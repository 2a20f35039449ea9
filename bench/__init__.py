"""Benchmarks: ``python -m bench`` (or ``make bench``) runs them and updates docs/benchmarks.md.

A benchmark is a module ``bench/NAME.py`` with a ``run(config: BenchConfig) -> str`` function
returning its Markdown section; ``python -m bench`` finds it by that function and writes the
section between ``<!-- bench:NAME -->`` markers, leaving the other sections alone. Helpers
shared by the benchmarks live in :mod:`bench.common` (options, timing, the Markdown file) and
:mod:`bench.datagen` (synthetic data at event scale).
"""
