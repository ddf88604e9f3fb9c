"""`graphllm bench graphqa`: how fast GraphQA examples are generated, with and without PyG `Data` objects."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

from graphllm.data.graphqa import GraphQAConfig, generate, to_data


def _to_data_count(examples) -> int:
    return len([to_data(e) for e in examples])


def bench_graphqa(examples: int = 100_000, workers: int | None = None) -> str:
    workers = workers or os.cpu_count() or 1
    start = time.perf_counter()
    rows = generate(GraphQAConfig(examples=examples), workers=workers)
    generated = time.perf_counter() - start
    chunks = [rows[i::workers] for i in range(workers)]
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        converted = sum(pool.map(_to_data_count, chunks))
    data_seconds = time.perf_counter() - start
    total = generated + data_seconds
    return (f"{examples} GraphQA examples with {workers} worker(s): generated in {generated:.1f} s "
            f"({examples / generated:,.0f}/s); {converted} PyG Data objects built in {data_seconds:.1f} s; "
            f"together {total:.1f} s ({examples / total:,.0f} examples/s)")
