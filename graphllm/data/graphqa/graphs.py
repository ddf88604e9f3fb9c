"""Random graphs for GraphQA (Fatemi et al. 2023, "Talk like a Graph"), written from the paper's description.

Graphs are undirected and simple (no self-loops, no multi-edges) with nodes 0..n-1; sizes follow the
paper's three size classes (5-9, 10-14, 15-19 nodes). Every generator takes a `random.Random`, so a
dataset is a pure function of its seed.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import cached_property

SIZE_CLASSES = {"small": (5, 9), "medium": (10, 14), "large": (15, 19)}
MAX_SBM_BLOCKS = {"small": 3, "medium": 7, "large": 9}


@dataclass(frozen=True)
class Graph:
    n: int
    edges: tuple[tuple[int, int], ...]  # u < v, sorted
    generator: str
    blocks: tuple[int, ...] | None = field(default=None, compare=False)  # SBM community of each node

    @staticmethod
    def build(n: int, edges, generator: str, blocks=None) -> Graph:
        clean = sorted({(min(u, v), max(u, v)) for u, v in edges if u != v})
        return Graph(n, tuple(clean), generator, tuple(blocks) if blocks is not None else None)

    @cached_property
    def adjacency(self) -> tuple[frozenset[int], ...]:
        neighbours: list[set[int]] = [set() for _ in range(self.n)]
        for u, v in self.edges:
            neighbours[u].add(v)
            neighbours[v].add(u)
        return tuple(frozenset(s) for s in neighbours)

    def wl_hash(self, iterations: int = 3) -> str:
        """Weisfeiler-Lehman colour refinement: isomorphic graphs get the same hash, so splitting by it keeps
        isomorphic copies of a graph in one split."""
        colours = [str(len(a)) for a in self.adjacency]
        for _ in range(iterations):
            colours = [hashlib.blake2b((colours[v] + "|" + ",".join(sorted(colours[u] for u in self.adjacency[v])))
                                       .encode(), digest_size=8).hexdigest() for v in range(self.n)]
        return hashlib.blake2b(",".join(sorted(colours)).encode() + b"/" + str(self.n).encode(),
                               digest_size=8).hexdigest()


def graph_size(rng: random.Random) -> tuple[str, int]:
    size_class = rng.choice(list(SIZE_CLASSES))
    low, high = SIZE_CLASSES[size_class]
    return size_class, rng.randint(low, high)


def erdos_renyi(rng: random.Random, n: int) -> Graph:
    p = rng.random()
    return Graph.build(n, [(u, v) for u in range(n) for v in range(u + 1, n) if rng.random() < p], "er")


def barabasi_albert(rng: random.Random, n: int) -> Graph:
    """Preferential attachment: start from a star on m+1 nodes; each new node links to m distinct nodes
    chosen with probability proportional to degree."""
    m = rng.randint(1, n - 1)
    edges = [(0, v) for v in range(1, m + 1)]
    ends = [x for e in edges for x in e]  # each node listed once per incident edge
    for new in range(m + 1, n):
        targets: set[int] = set()
        while len(targets) < m:
            targets.add(rng.choice(ends))
        for t in sorted(targets):
            edges.append((t, new))
            ends += [t, new]
    return Graph.build(n, edges, "ba")


def stochastic_block_model(rng: random.Random, n: int, size_class: str, blocks: int | None = None) -> Graph:
    k = blocks or rng.randint(2, min(MAX_SBM_BLOCKS[size_class], n))
    cuts = sorted(rng.sample(range(1, n), k - 1))
    sizes = [b - a for a, b in zip([0] + cuts, cuts + [n], strict=True)]
    membership = [b for b, size in enumerate(sizes) for _ in range(size)]
    raw = [[rng.random() for _ in range(k)] for _ in range(k)]
    symmetrise = max if rng.random() < 0.5 else min
    p = [[symmetrise(raw[a][b], raw[b][a]) for b in range(k)] for a in range(k)]
    edges = [(u, v) for u in range(n) for v in range(u + 1, n) if rng.random() < p[membership[u]][membership[v]]]
    return Graph.build(n, edges, "sbm", membership)


def scale_free(rng: random.Random, n: int, alpha: float = 0.41, beta: float = 0.54,
               delta_in: float = 0.2, delta_out: float = 0.0) -> Graph:
    """Bollobás et al.'s directed scale-free growth (networkx's defaults), then directions, self-loops and
    repeated edges dropped."""
    edges = [(0, 1), (1, 2), (2, 0)]
    in_deg, out_deg = [1, 1, 1], [1, 1, 1]
    nodes = 3

    def pick(degrees: list[int], delta: float) -> int:
        total = sum(degrees) + delta * len(degrees)
        x = rng.random() * total
        for node, d in enumerate(degrees):
            x -= d + delta
            if x <= 0:
                return node
        return len(degrees) - 1

    while nodes < n:
        r = rng.random()
        if r < alpha:  # new node -> existing (by in-degree)
            v, w = nodes, pick(in_deg, delta_in)
        elif r < alpha + beta:  # existing -> existing
            v, w = pick(out_deg, delta_out), pick(in_deg, delta_in)
        else:  # existing (by out-degree) -> new node
            v, w = pick(out_deg, delta_out), nodes
        if nodes in (v, w):
            in_deg.append(0)
            out_deg.append(0)
            nodes += 1
        out_deg[v] += 1
        in_deg[w] += 1
        edges.append((v, w))
    return Graph.build(n, edges, "sfn")


def complete(rng: random.Random, n: int) -> Graph:
    return Graph.build(n, [(u, v) for u in range(n) for v in range(u + 1, n)], "complete")


def star(rng: random.Random, n: int) -> Graph:
    return Graph.build(n, [(0, v) for v in range(1, n)], "star")


def path(rng: random.Random, n: int) -> Graph:
    return Graph.build(n, [(v, v + 1) for v in range(n - 1)], "path")


GENERATORS = {"er": erdos_renyi, "ba": barabasi_albert, "sbm": None, "sfn": scale_free, "complete": complete,
              "star": star, "path": path}


def generate_graph(rng: random.Random, generator: str) -> Graph:
    size_class, n = graph_size(rng)
    if generator == "sbm":
        return stochastic_block_model(rng, n, size_class)
    if generator not in GENERATORS:
        raise ValueError(f"unknown graph generator {generator!r}; known: {', '.join(GENERATORS)}")
    return GENERATORS[generator](rng, n)
