"""Where does a count get lost? Linear probes on what a recipe hands the LLM.

For the counting tasks of GraphQA (node count, edge count, node degree), the graph tokens (the GNN's output) and
the bridge's output (soft tokens, or the per-layer prefix keys and values averaged over the prefix positions)
of each question are computed, and a ridge regression from them to the true count is fitted on training graphs
and scored on test graphs: exact when the rounded prediction is the count. A count a linear head reads exactly
from the graph tokens but the trained model does not write points at the bridge or the LLM; one the tokens do
not hold points at the encoder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch

COUNTING_TASKS = ("node_count", "edge_count", "node_degree")


@dataclass
class ProbeRow:
    task: str
    representation: str  # "graph tokens" or "bridge output"
    exact: float  # share of test questions whose rounded prediction is the count
    within_one: float
    test: int
    ridge: float  # the regularisation chosen on held-out training graphs


@torch.no_grad()
def representations(model, examples: list, collator, batch_size: int = 32) -> dict[str, torch.Tensor]:
    """Per example, the flattened graph tokens and bridge output: {"graph tokens": [N, F], "bridge output": [N, G]}."""
    model.eval()
    out: dict[str, list[torch.Tensor]] = {"graph tokens": [], "bridge output": []}
    for start in range(0, len(examples), batch_size):
        batch = collator(examples[start:start + batch_size]).to(model.device)
        tokens = model.encoder(batch.graph, batch.node_index)
        out["graph tokens"].append((tokens.tokens * tokens.mask[..., None]).flatten(1))
        bridged = model.bridge(tokens)
        if bridged.prefix is not None:
            out["bridge output"].append(torch.cat([torch.cat([k.mean(2).flatten(1), v.mean(2).flatten(1)], 1)
                                                   for k, v in bridged.prefix], 1))
        else:
            mask = bridged.embeds_mask[..., None] if bridged.embeds_mask is not None else 1
            out["bridge output"].append((bridged.embeds * mask).flatten(1))
    return {name: torch.cat(parts).float().cpu() for name, parts in out.items() if parts}


def ridge_fit(x: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
    """Weights (bias last) of ridge regression on standardised-by-caller features."""
    x1 = torch.cat([x, torch.ones(len(x), 1)], 1).double()
    eye = torch.eye(x1.shape[1], dtype=torch.float64)
    eye[-1, -1] = 0  # the bias is not shrunk
    return torch.linalg.solve(x1.T @ x1 + lam * eye, x1.T @ y.double())


def probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor
          ) -> tuple[float, float, float]:
    """(exact, within one, ridge chosen): the ridge strength is chosen on the last fifth of the training graphs."""
    mean, std = train_x.mean(0), train_x.std(0).clamp(min=1e-6)
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    cut = len(train_x) * 4 // 5

    def predict(weights, x):
        return (torch.cat([x, torch.ones(len(x), 1)], 1).double() @ weights).round()

    best = min((1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0), key=lambda lam: (
        predict(ridge_fit(train_x[:cut], train_y[:cut], lam), train_x[cut:]) != train_y[cut:].double()).float().mean())
    predicted = predict(ridge_fit(train_x, train_y, best), test_x)
    truth = test_y.double()
    return float((predicted == truth).float().mean()), float(((predicted - truth).abs() <= 1).float().mean()), best


def probe_counts(model, collator, train: list, test: list, tasks: tuple[str, ...] = COUNTING_TASKS
                 ) -> list[ProbeRow]:
    """Probe rows per task and representation, from `train` and `test` examples (GraphQA `Data`, whose `value`
    is the count as JSON)."""
    rows = []
    for task in tasks:
        task_train = [d for d in train if d.task == task]
        task_test = [d for d in test if d.task == task]
        if not task_train or not task_test:
            continue
        fitted, scored = representations(model, task_train, collator), representations(model, task_test, collator)
        train_y = torch.tensor([float(json.loads(d.value)) for d in task_train])
        test_y = torch.tensor([float(json.loads(d.value)) for d in task_test])
        for name in fitted:
            exact, within, lam = probe(fitted[name], train_y, scored[name], test_y)
            rows.append(ProbeRow(task, name, exact, within, len(task_test), lam))
    return rows


def rows_text(rows: list[ProbeRow], title: str) -> str:
    lines = [title, f"{'task':<14}{'representation':<16}{'exact':>7}{'within 1':>10}{'test':>6}{'ridge':>8}"]
    lines += [f"{r.task:<14}{r.representation:<16}{r.exact:>7.3f}{r.within_one:>10.3f}{r.test:>6}{r.ridge:>8g}"
              for r in rows]
    return "\n".join(lines)
