"""The inference engine: batched decoding from soft tokens or graph prefixes, speculative decoding with a token
tree, and SelFee-style self-revision."""
