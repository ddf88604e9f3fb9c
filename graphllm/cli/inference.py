"""`graphllm generate`, `graphllm distill` and `graphllm bench decode`: parse, call the library, print."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphllm.cli.options import DEVICE_HELP, HelpFormatter, device_type, draft_help, model_source, print_report
from graphllm.errors import UsageError

TREE_HELP = ("children per node at each depth of the draft tree (default %(default)s: a chain of two that branches "
             "into three, as in SpecInfer). Greedy decoding verifies only the nodes expected to pay for their cost, "
             "by the draft's confidence and the measured cost of a pass; add :whole (1,1,3,1,1:whole) to verify "
             "every node")

STATIC_HELP = ("decode on a cache of fixed size, with every pass padded to a few fixed shapes: on a GPU each shape is "
               "captured once as a CUDA graph and replayed (on a CPU it only costs)")


def _generation_config(args, tokenizer):
    from graphllm.inference.config import GenerationConfig, end_of_turn_ids

    return GenerationConfig(max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p,
                            stop_ids=end_of_turn_ids(tokenizer), stop_strings=args.stop or [], seed=args.seed,
                            static_cache=args.static_cache)


def _generate(args) -> int:
    from graphllm.data.graphqa.graph_file import question_data, read_graph
    from graphllm.experiment import load_model
    from graphllm.inference.drafts import parse_draft_spec

    try:  # checked before the model loads, to fail fast
        parse_draft_spec(args.draft or "ngram")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    data = question_data(read_graph(args.graph), args.question, args.encoder)
    model, recipe, tokenizer = load_model(args.run, args.recipe, args.llm, device=args.device)
    try:
        config = _generation_config(args, tokenizer)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from graphllm.data.collate import GraphCollator

    collator = GraphCollator(tokenizer, "generate", include_graph_text=recipe.include_graph_text,
                             system_prompt=recipe.system_prompt)
    if args.self_revise:
        from graphllm.inference.selfee import SelfRevisionConfig, self_revise

        settings = SelfRevisionConfig(rounds=args.self_revise)
        revision = self_revise(model, [data], collator, tokenizer, settings, config)[0]
        for i, (answer, feedback) in enumerate(zip(revision.answers, revision.feedbacks + [""], strict=False)):
            print(f"[answer {i}] {answer}", file=sys.stderr)
            if feedback:
                print(f"[feedback {i}] {feedback}", file=sys.stderr)
        print(revision.answers[-1])
        return 0
    batch = collator([data]).to(model.device)
    if args.draft:
        from graphllm.inference.config import TreeShape
        from graphllm.inference.drafts import make_draft
        from graphllm.inference.speculative import SpeculationStats, speculative_generate

        try:
            draft = make_draft(args.draft, target=model, recipe=recipe, run_dir=args.run)
            shape = TreeShape.parse(args.tree)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        stats = SpeculationStats()
        tokens = speculative_generate(model, batch, draft, config, shape, tokenizer, stats)[0]
        print(f"{stats.tokens} tokens in {stats.steps} target passes ({stats.mean_accepted:.2f} per pass)",
              file=sys.stderr)
    else:
        from graphllm.inference.generate import generate

        tokens = generate(model, batch, config, tokenizer)[0]
    print(tokenizer.decode(tokens, skip_special_tokens=True).strip())
    return 0


def _distill(args) -> int:
    from graphllm.experiment import load_model
    from graphllm.inference.drafts import TRAINERS, DraftTraining

    entry = TRAINERS[args.draft]
    if args.run is None and entry.needs_run:
        raise UsageError(f"the {entry.name} draft is trained for a run: pass --run")
    if args.run is None and args.out is None:
        raise UsageError("say where the draft goes with --out (there is no run directory)")
    try:  # checked before the model loads, to fail fast
        entry.check(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    model, recipe, tokenizer = load_model(args.run, args.recipe, args.llm, device=args.device)
    out = args.out or Path(args.run) / entry.folder
    print(entry.train(DraftTraining(model, recipe, tokenizer, args.run, out, args, progress=sys.stderr.isatty(),
                                    log=lambda msg: print(msg, file=sys.stderr))))
    return 0


def _declare_trained_drafts(parser: argparse.ArgumentParser) -> None:
    """`graphllm distill`'s --draft and each trained draft's own options, from the registry of trained drafts."""
    from graphllm.inference.drafts import TRAINERS

    parser.add_argument("--draft", choices=list(TRAINERS), default=next(iter(TRAINERS)),
                        help="which draft to train (default %(default)s): " +
                             "; ".join(f"{entry.name}: {entry.summary}" for entry in TRAINERS.values()))
    for entry in TRAINERS.values():
        entry.declare(parser.add_argument_group(f"{entry.name} draft"))


def _bench_decode(args) -> int:
    from graphllm.bench.decode import bench_decode

    if args.repeats < 1:
        raise UsageError(f"--repeats must be at least 1, not {args.repeats}")
    report = bench_decode(args.prompts, args.max_new_tokens, tuple(args.batch_sizes), tuple(args.drafts),
                          tuple(args.trees), peers=not args.no_peers, repeats=args.repeats,
                          log=lambda msg: print(msg, file=sys.stderr), device=args.device, dtype=args.dtype,
                          static_cache=args.static_cache)
    return print_report(report, args.json)


def register(commands, experiment: argparse.ArgumentParser) -> None:
    gen = commands.add_parser(
        "generate", help="answer a question about your graph with a trained run (or a recipe)",
        formatter_class=HelpFormatter,
        description="Read a graph (JSON {\"num_nodes\": N, \"edges\": [[u, v], ...]} or an edge list 'u v' per "
                    "line), encode it as the run was trained (GNN tokens, prefix and/or text) and decode an "
                    "answer, optionally with speculative decoding (--draft) or SelFee self-revision.",
        epilog="examples:\n  graphllm generate --run runs/graph-prefix-cycle_check --graph g.txt "
               "--question 'Is there a cycle in this graph?'\n"
               "  graphllm generate --recipe zero-shot --graph g.json --question 'List the nodes connected to "
               "node 2.' --draft ngram --tree 1,1,3,1,1\n"
               "  graphllm generate --recipe zero-shot --graph g.txt --question 'How many edges?' --self-revise 2")
    model_source(gen)
    gen.add_argument("--graph", type=Path, required=True, help="the graph file")
    gen.add_argument("--question", required=True, help="name nodes as the encoder does, e.g. 'node 3'")
    gen.add_argument("--encoder", default="adjacency", help="how nodes are named and the graph is written as text "
                                                          "(default %(default)s)")
    gen.add_argument("--llm", default="smollm2-135m", help="embedded default, a Hugging Face id or a path")
    gen.add_argument("--device", type=device_type, default="auto", help=DEVICE_HELP)
    gen.add_argument("--max-new-tokens", type=int, default=128)
    gen.add_argument("--temperature", type=float, default=0.0, help="0 is greedy (default)")
    gen.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling threshold (default 1: off)")
    gen.add_argument("--stop", action="append", help="stop once the answer contains this text (repeatable)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--draft", help=draft_help("speculative decoding, with the same output as without it"))
    gen.add_argument("--tree", default="1,1,3,1,1", help=TREE_HELP)
    gen.add_argument("--static-cache", action="store_true", help=STATIC_HELP)
    gen.add_argument("--self-revise", type=int, default=0, metavar="N",
                     help="SelFee: up to N rounds of self-feedback and revision (the answers go to stderr)")
    gen.set_defaults(func=_generate)

    dist = commands.add_parser(
        "distill", parents=[experiment], help="train a draft model for speculative decoding of a run",
        formatter_class=HelpFormatter,
        description="Train a draft for speculative decoding of a run (or of an untrained recipe), checkpointed as "
                    "it goes: a stopped run goes on where it stopped. --draft names the kind; each kind's own options "
                    "follow.",
        epilog="examples:\n  graphllm distill --run runs/graph-prefix-cycle_check --layers 4 --steps 200\n"
               "  graphllm distill --recipe zero-shot --draft feature --out drafts/zero-shot\n"
               "  graphllm generate --recipe zero-shot --graph g.txt --question '...' --draft feature:drafts/zero-shot "
               "--tree 1,1")
    model_source(dist, run="the target: a run directory from `graphllm train`",
                 recipe="the target: an untrained recipe (zero-shot, few-shot)")
    dist.add_argument("--lr", type=float, help="learning rate (default: the draft's own)")
    dist.add_argument("--seed", type=int, help="seed of the draft's initialisation and data (default: the draft's own)")
    dist.add_argument("--restart", action="store_true",
                      help="train afresh, ignoring the checkpoint in OUT/training/ (a feature draft's kept answers "
                           "are still used)")
    dist.add_argument("--out", type=Path, help="where the draft goes (default: a folder of the run directory named "
                                               "after the draft)")
    dist.defer(_declare_trained_drafts)
    dist.set_defaults(func=_distill)


def register_bench(bench_commands) -> None:
    bd = bench_commands.add_parser(
        "decode", help="our decoding (plain, speculative) vs transformers generate and assisted generation",
        formatter_class=HelpFormatter,
        description="Greedy decoding of long-answer GraphQA prompts with the embedded SmolLM2-135M: our plain "
                    "decoding, ours with each draft and tree shape, transformers' generate, its prompt-lookup and "
                    "early-exit assisted generation (and whether they run at batch > 1 or from inputs_embeds), "
                    "in one run, with tokens/s, tokens per target pass, output equality and ratios; and for each "
                    "speculative method its limit, the ratio if each of its target passes cost one plain step and "
                    "drafting were free.")
    bd.add_argument("--prompts", type=int, default=8)
    bd.add_argument("--max-new-tokens", type=int, default=96)
    bd.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    bd.add_argument("--drafts", nargs="+", default=["ngram", "early-exit:6", "ngram+early-exit:6"],
                    help=draft_help("draft specs as for `graphllm generate --draft` (a trained draft of the zero-shot "
                                    "recipe, from `graphllm distill`, is distilled:DIR or feature:DIR)"))
    bd.add_argument("--trees", nargs="+", default=["1,1,1,1", "1,1,3,1,1"],
                    help="tree shapes to try per draft (SHAPE:whole for untrimmed trees, as in generate --tree)")
    bd.add_argument("--no-peers", action="store_true", help="skip transformers")
    bd.add_argument("--repeats", type=int, default=1,
                    help="rounds of every method on every batch; each method's median round is reported (default "
                         "%(default)s; a shared CPU's speed drifts by 20%% and more, and batch 8 is one batch)")
    bd.add_argument("--device", type=device_type, default="auto", help=DEVICE_HELP)
    bd.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"], default="auto",
                    help="weights and activations (default auto: bfloat16 on a GPU, float32 on a CPU; greedy outputs "
                         "are compared token for token, which low precision can break at near-ties)")
    bd.add_argument("--static-cache", action="store_true",
                    help=STATIC_HELP + "; our methods run on it, and one more row shows plain greedy without it")
    bd.add_argument("--json", type=Path, help="also write the figures as JSON; in results/decode/ the site's "
                    "Decoding speed page shows them (graphllm site build)")
    bd.set_defaults(func=_bench_decode)
