"""Clients of the web APIs the update script reads: arXiv (Atom), GitHub REST, Semantic Scholar Graph.

Every base URL is configurable (flags or GRAPHLLM_*_API environment variables), so tests run the real
client code against local servers.
"""
