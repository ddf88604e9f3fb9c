"""Benchmarks that measure us and a peer in the same run and print the ratio (`graphllm bench ...`)."""
