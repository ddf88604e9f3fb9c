"""`graphllm bench train`: our graph-token model against PyG's `GRetriever`, same GNN, LLM, data and steps.

Both get one graph token from a two-layer GNN of the same kind and width (GIN by default, or GAT) over the
same node features (one-hot node ids), the same frozen SmolLM2-135M (PyG's LLM frozen by hand, as it does not
freeze by itself), the same examples in the same order, AdamW with the same warmup and cosine schedule.
Measured: training and evaluation examples/s and accuracy per task after the same steps, beside the majority
class (a model that learned nothing from the graph answers it), with the ratios. On a GPU each runs as its
users would run it: PyG's LLM in bfloat16 under its own autocast, ours with float32 trainable parts under
bfloat16 autocast (our training loop's default).
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import nullcontext

import torch

from graphllm.data.graphqa import GraphQAConfig, generate, to_data
from graphllm.data.graphqa.answers import parse_value, reference_value
from graphllm.devices import resolve_device, synchronize
from graphllm.embedded import SMOLLM2, cache_dir
from graphllm.evaluate import evaluate, majority_baseline
from graphllm.results.files import utc_now
from graphllm.results.train import MAJORITY, OURS, PEER, MethodRow, TrainBenchReport, combine_seeds

FEATURES = 20  # one-hot node index; GraphQA graphs have at most 19 nodes


def _with_features(data):
    data.x = torch.nn.functional.one_hot(torch.arange(data.num_nodes), FEATURES).float()
    return data


def _hf_dir() -> str:
    """Model and tokenizer files in one folder, as PyG's `LLM` expects a hub-style directory."""
    from graphllm.models.llm import load_llm

    load_llm(SMOLLM2)  # makes sure the converted model and the tokenizer are cached
    base = cache_dir() / SMOLLM2
    target = base / "hf"
    target.mkdir(exist_ok=True)
    for folder in (base / "model", base / "tokenizer"):
        for path in folder.iterdir():
            if not (target / path.name).exists():
                shutil.copy2(path, target / path.name)
    return str(target)


def _pyg(train, test, config, gnn_kind: str, device: torch.device):
    from torch_geometric.data import Batch
    from torch_geometric.llm.models import LLM, GRetriever
    from torch_geometric.nn.models import GAT, GIN

    from graphllm.train import batch_indices, set_learning_rate

    torch.manual_seed(config.seed)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    llm = LLM(model_name=_hf_dir(), num_params=1, dtype=dtype)
    # PyG places its LLM by a GPU-memory heuristic; the bench puts both models where it was asked to
    llm.llm.to(device)
    llm.device = device
    llm.autocast_context = torch.amp.autocast("cuda", dtype=dtype) if device.type == "cuda" else nullcontext()
    if gnn_kind == "gat":
        gnn = GAT(in_channels=FEATURES, hidden_channels=128, out_channels=128, num_layers=2, heads=4)
    else:
        gnn = GIN(in_channels=FEATURES, hidden_channels=128, out_channels=128, num_layers=2)
    model = GRetriever(llm=llm, gnn=gnn, mlp_out_tokens=1)
    for p in model.llm_generator.parameters():
        p.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr)
    model.train()
    start = time.perf_counter()
    for step in range(config.steps):
        set_learning_rate(optimizer, step, config)
        chunk = [train[i] for i in batch_indices(len(train), config.batch_size, step, 0, 1, config.seed)]
        batch = Batch.from_data_list(chunk)
        loss = model([d.question for d in chunk], batch.x, batch.edge_index, batch.batch, [d.answer for d in chunk])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        optimizer.zero_grad()
    synchronize(device)
    train_seconds = time.perf_counter() - start
    model.eval()
    right, start = [], time.perf_counter()
    for index in range(0, len(test), 16):
        chunk = test[index:index + 16]
        batch = Batch.from_data_list(chunk)
        outputs = model.inference([d.question for d in chunk], batch.x, batch.edge_index, batch.batch,
                                  max_out_tokens=8)
        right += [parse_value(d, o.strip()) == reference_value(d) for d, o in zip(chunk, outputs, strict=True)]
    eval_seconds = time.perf_counter() - start
    return MethodRow(PEER, _per_task(test, right), config.steps * config.batch_size / train_seconds,
                     len(test) / eval_seconds, sum(p.numel() for p in params))


def _per_task(test, right: list[bool]) -> dict[str, float]:
    tasks = sorted({d.task for d in test})
    return {t: sum(r for d, r in zip(test, right, strict=True) if d.task == t) / sum(d.task == t for d in test)
            for t in tasks}


def _ours(train, test, config, tmp_dir, gnn_kind: str, device: torch.device):
    from graphllm.experiment import collators
    from graphllm.models.build import build_model, load_recipe
    from graphllm.models.gnn import GNNConfig
    from graphllm.models.llm import load_llm
    from graphllm.train import train as run_training

    torch.manual_seed(config.seed)
    llm, tokenizer = load_llm(SMOLLM2, device=device)
    # our graph-token recipe (its prompt, bridge and readout) with PyG's GNN settings
    recipe = load_recipe("graph-token").model_copy(update={"gnn": GNNConfig(
        conv=gnn_kind, layers=2, hidden=128, node_ids=False, laplacian_pe=0, graph_tokens=1)})
    model = build_model(recipe, llm, input_dim=FEATURES)
    train_collator, eval_collator = collators(recipe, tokenizer)
    start = time.perf_counter()
    run_training(model, train, [], train_collator, config, tmp_dir, resume=False, progress=False)
    synchronize(device)
    train_seconds = time.perf_counter() - start
    scores = evaluate(model, test, eval_collator, tokenizer, batch_size=16, max_new_tokens=8)
    return MethodRow(OURS, scores["accuracy"], config.steps * config.batch_size / train_seconds,
                     scores["examples_per_second"], sum(p.numel() for p in model.trainable_parameters().values()))


def bench_train(tasks: list[str], steps: int = 300, batch_size: int = 8, train_n: int = 400, test_n: int = 50,
                seeds: tuple[int, ...] = (0,), gnn: str = "gin", device: str = "auto", log=print) -> TrainBenchReport:
    """Ours and PyG's on the same examples (generated with seed 0), once per training seed; each method's row is
    the mean over the seeds, with each seed's accuracy kept for the spread."""
    import tempfile

    from graphllm.train import TrainConfig

    wanted = {"train": len(tasks) * train_n, "test": len(tasks) * test_n}
    examples = len(tasks) * (train_n + test_n) * 2
    while True:  # graphs fall into splits by hash (80/10/10): small requests may need more than twice as many
        rows = generate(GraphQAConfig(examples=examples, tasks=tasks, seed=0))
        chosen = {split: [r for r in rows if r.split == split][:n] for split, n in wanted.items()}
        if all(len(chosen[split]) == n for split, n in wanted.items()):
            break
        examples *= 2
    train, test = ([_with_features(to_data(r)) for r in chosen[split]] for split in ("train", "test"))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    where = resolve_device(device)
    ours, theirs = [], []
    for seed in seeds:
        config = TrainConfig(steps=steps, batch_size=batch_size, lr=1e-3, warmup=max(1, steps // 10),
                             checkpoint_every=10**9, seed=seed)
        log(f"seed {seed}: training ours, then PyG's ...")
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(_ours(train, test, config, tmp, gnn, where))
        theirs.append(_pyg(train, test, config, gnn, where))
    device_text = (f"{torch.cuda.get_device_name(where)}, bf16" if where.type == "cuda"
                   else f"CPU, {torch.get_num_threads()} threads, fp32")
    return TrainBenchReport(tasks, gnn, steps, batch_size, len(test), device_text,
                            [combine_seeds(ours), combine_seeds(theirs),
                             MethodRow(MAJORITY, majority_baseline(train, test))], seeds=list(seeds), date=utc_now())
