"""Typed results: dataclasses that experiments and benchmarks write as JSON and the site reads back."""
