"""The answers, computed by our own small algorithms (tests check them against networkx)."""

from __future__ import annotations

from collections import deque

from graphllm.data.graphqa.graphs import Graph


def has_cycle(graph: Graph) -> bool:
    """Union-find: an edge inside one component closes a cycle."""
    parent = list(range(graph.n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in graph.edges:
        ru, rv = find(u), find(v)
        if ru == rv:
            return True
        parent[ru] = rv
    return False


def distances_from(graph: Graph, source: int) -> list[int | None]:
    dist: list[int | None] = [None] * graph.n
    dist[source] = 0
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for v in graph.adjacency[u]:
            if dist[v] is None:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist


def triangles(graph: Graph) -> int:
    adj = graph.adjacency
    return sum(1 for u, v in graph.edges for w in adj[u] & adj[v] if w > v)


def maximum_flow(graph: Graph, capacities: dict[tuple[int, int], int], source: int, sink: int) -> int:
    """Edmonds-Karp. An undirected edge of capacity c is two arcs of capacity c each."""
    residual: dict[int, dict[int, int]] = {v: {} for v in range(graph.n)}
    for (u, v), c in capacities.items():
        residual[u][v] = residual[u].get(v, 0) + c
        residual[v][u] = residual[v].get(u, 0) + c
    flow = 0
    while True:
        previous = {source: source}
        queue = deque([source])
        while queue and sink not in previous:
            u = queue.popleft()
            for v, c in residual[u].items():
                if c > 0 and v not in previous:
                    previous[v] = u
                    queue.append(v)
        if sink not in previous:
            return flow
        bottleneck, v = float("inf"), sink
        while v != source:
            bottleneck = min(bottleneck, residual[previous[v]][v])
            v = previous[v]
        v = sink
        while v != source:
            u = previous[v]
            residual[u][v] -= bottleneck
            residual[v][u] = residual[v].get(u, 0) + bottleneck
            v = u
        flow += int(bottleneck)
