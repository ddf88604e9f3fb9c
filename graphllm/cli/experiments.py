"""`graphllm data`, `train`, `eval`, `bench` and `demo`: parse, call the library, print."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphllm.cli.options import DEVICE_HELP, device_type, model_source, print_report
from graphllm.errors import GraphLLMError


def _bench_links(args) -> int:
    from graphllm.bench.links import bench_links

    report = bench_links(args.urls, args.hosts, args.latency, args.faults, args.per_host, peers=not args.no_peers,
                         log=lambda msg: print(msg, file=sys.stderr))
    return print_report(report, args.json)


def _data_graphqa(args) -> int:
    from graphllm.data.graphqa import GraphQAConfig, format_statistics, generate, load, save, statistics

    if args.stats_only:
        print(format_statistics(statistics(load(args.out))))
        return 0
    config = GraphQAConfig(examples=args.examples, seed=args.seed)
    for name in ("tasks", "generators", "encoders"):
        chosen = getattr(args, name)
        if chosen:
            setattr(config, name, [c.strip() for c in chosen.split(",") if c.strip()])
    config.check()
    from tqdm import tqdm

    with tqdm(total=config.examples, unit="ex", desc="generating", disable=not sys.stderr.isatty()) as bar:
        examples = generate(config, workers=args.workers, progress=bar.update)
    counts = save(examples, args.out, config)
    print(f"wrote {len(examples)} examples to {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if args.stats:
        print(format_statistics(statistics(examples)))
    return 0


def _bench_train(args) -> int:
    from graphllm.bench.train import bench_train

    report = bench_train(args.tasks, steps=args.steps, batch_size=args.batch_size, train_n=args.train_examples,
                         test_n=args.test_examples, seeds=args.seeds, gnn=args.gnn, device=args.device,
                         log=lambda msg: print(msg, file=sys.stderr))
    return print_report(report, args.json)


def _bench_graphqa(args) -> int:
    from graphllm.bench.graphqa import bench_graphqa

    print(bench_graphqa(args.examples, args.workers))
    return 0


def _experiment_data(args):
    from graphllm.data.graphqa.splits import load_examples

    return load_examples(args.data, args.tasks, args.train_examples, args.val_examples, args.test_examples)


def _train(args) -> int:
    from graphllm.experiment import run, run_per_task
    from graphllm.seeds import run_seeds

    kind = "-per-task" if args.per_task else ""
    run_dir = args.out or Path("runs") / f"{Path(args.recipe).stem}{kind}-{'+'.join(args.tasks)}"
    overrides = {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed}
    options = dict(llm_name=args.llm, resume=not args.restart, progress=sys.stderr.isatty(),
                   results_dir=args.results, device=args.device)
    if args.seeds:
        result = run_seeds(args.recipe, args.tasks, _experiment_data(args), run_dir, args.seeds, args.per_task,
                           train_overrides=overrides, **options)
    else:
        result = (run_per_task if args.per_task else run)(args.recipe, args.tasks, _experiment_data(args), run_dir,
                                                          train_overrides=overrides, **options)
    if result is None:  # a secondary process of a multi-process run
        return 0
    _print_result(result)
    print(f"run directory: {run_dir}")
    return 0


def _print_result(result) -> None:
    seeds = f" (mean over seeds {', '.join(map(str, result.seeds))}; spread: their standard deviation)" \
        if result.seeds else ""
    print(f"{'task':<20}{'accuracy':>10}{'spread':>8}{'majority':>10}{'n':>6}{seeds}")
    for task, accuracy in result.accuracy.items():
        spread = result.spread(task)
        print(f"{task:<20}{accuracy:>10.3f}{'' if spread is None else f'{spread:.3f}':>8}"
              f"{result.majority.get(task, float('nan')):>10.3f}{result.n[task]:>6}")


def _seed_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds joined by commas, e.g. 0,1,2, not {text!r}") from None


def _rounds(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of rounds (0 or more), not {text!r}")
    return int(text)


def _eval(args) -> int:
    from graphllm.experiment import evaluate_run, store_evaluation, stored_result

    if args.results and args.self_revise:
        raise GraphLLMError("--results stores plain accuracy for the leaderboard; evaluate with --self-revise "
                            "without it (its figures are printed)")
    stored = stored_result(args.run) if args.results else None
    data = _experiment_data(args)
    scores = evaluate_run(args.run, data, llm_name=args.llm, self_revise=args.self_revise,
                          progress=sys.stderr.isatty(), device=args.device)
    for task, accuracy in scores["accuracy"].items():
        print(f"{task:<20}{accuracy:>10.3f}{scores['n'][task]:>6}")
    if "self_revision" in scores:
        print(f"\nSelFee, at most {args.self_revise} revision round(s) per answer ({scores['seconds']:.1f} s):")
        print(f"{'task':<20}{'first':>8}{'final':>8}{'revised':>9}{'right->wrong':>14}{'wrong->right':>14}"
              f"{'mean rounds':>13}")
        for task, s in scores["self_revision"].items():
            print(f"{task:<20}{s['first_accuracy']:>8.3f}{s['final_accuracy']:>8.3f}{s['revised']:>9}"
                  f"{s['right_to_wrong']:>14}{s['wrong_to_right']:>14}{s['mean_rounds']:>13.2f}")
    if stored is not None:
        print(f"stored: {store_evaluation(stored, args.run.name, data, scores, args.results)}")
    return 0


def _probe(args) -> int:
    from graphllm.data.collate import GraphCollator
    from graphllm.data.graphqa.splits import load_examples
    from graphllm.experiment import load_model
    from graphllm.models.build import build_model, load_recipe
    from graphllm.probes import COUNTING_TASKS, probe_counts, rows_text
    from graphllm.train import seed_everything

    tasks = [t for t in args.tasks if t in COUNTING_TASKS]
    if not tasks:
        raise GraphLLMError(f"probe counts reads the counting tasks ({', '.join(COUNTING_TASKS)}); pass --tasks")
    if args.run is not None:
        model, recipe, tokenizer = load_model(args.run, llm_name=args.llm, device=args.device)
        title = f"linear probes of {args.run} ({recipe.name}, trained)"
    else:
        from graphllm.models.llm import load_llm

        recipe = load_recipe(args.recipe)
        llm, tokenizer = load_llm(args.llm)
        seed_everything(args.seed)
        model = build_model(recipe, llm, tokenizer=tokenizer).eval()
        title = f"linear probes of {recipe.name}, untrained (seed {args.seed})"
    if model.encoder is None or model.bridge is None:
        raise GraphLLMError(f"recipe {recipe.name!r} has no graph encoder to probe")
    data = load_examples(args.data, tasks, args.train_examples, 0, args.test_examples)
    collator = GraphCollator(tokenizer, "generate", include_graph_text=recipe.include_graph_text)
    print(rows_text(probe_counts(model, collator, data.train, data.test, tuple(tasks)), title))
    return 0


def _demo(args) -> int:
    from graphllm.demo import run_demo

    return run_demo()


def register(commands) -> None:
    data = commands.add_parser("data", help="graph tasks: generate GraphQA")
    data_commands = data.add_subparsers(dest="data_command", metavar="WHAT", required=True)
    qa = data_commands.add_parser(
        "graphqa", help="generate GraphQA (Talk like a Graph) exactly, from a seed",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Random graphs (er, ba, sbm, sfn, complete, star, path; 5-19 nodes), twelve tasks, six text\n"
                    "encoders. Train/validation/test never share a graph, even relabelled. Written as JSON lines\n"
                    "(see graphllm/data/graphqa/dataset.py for the format).",
        epilog="example:\n  graphllm data graphqa --out data/graphqa --examples 12000 --tasks cycle_check,edge_count "
               "--stats")
    qa.add_argument("--out", type=Path, default=Path("data/graphqa"), help="output directory (default %(default)s)")
    qa.add_argument("--examples", type=int, default=12_000, help="total over all splits (default %(default)s)")
    qa.add_argument("--seed", type=int, default=0)
    qa.add_argument("--tasks", help="comma-separated (default: all twelve)")
    qa.add_argument("--generators", help="comma-separated (default: all seven)")
    qa.add_argument("--encoders", help="comma-separated (default: all six)")
    qa.add_argument("--workers", type=int, help="processes (default: the number of CPUs)")
    qa.add_argument("--stats", action="store_true",
                    help="print count, label distribution and majority accuracy per task")
    qa.add_argument("--stats-only", action="store_true",
                    help="print the statistics of the dataset in --out; generate nothing")
    qa.set_defaults(func=_data_graphqa)

    experiment = argparse.ArgumentParser(add_help=False)
    experiment.add_argument("--tasks", type=lambda s: [t.strip() for t in s.split(",") if t.strip()],
                            default=["cycle_check", "edge_existence"], help="comma-separated GraphQA tasks")
    experiment.add_argument("--data", type=Path, default=Path("data/graphqa"),
                            help="GraphQA directory from `graphllm data graphqa` (default %(default)s)")
    experiment.add_argument("--llm", default="smollm2-135m", help="embedded default, a Hugging Face id or a path")
    experiment.add_argument("--device", type=device_type, default="auto", help=DEVICE_HELP)
    experiment.add_argument("--train-examples", type=int, default=1000, help="per task (default %(default)s)")
    experiment.add_argument("--val-examples", type=int, default=50, help="per task (default %(default)s)")
    experiment.add_argument("--test-examples", type=int, default=100, help="per task (default %(default)s)")

    tr = commands.add_parser(
        "train", parents=[experiment], help="train a recipe on GraphQA tasks and evaluate it",
        description="Train the trainable parts of a recipe (the LLM stays frozen unless the recipe adapts it),\n"
                    "checkpointing as it goes (a killed run resumes where it stopped), then evaluate on the test\n"
                    "split and write results JSON beside the majority baseline.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  graphllm train --recipe graph-prefix --tasks cycle_check,edge_existence --steps 200\n"
               "  graphllm train --recipe graph-prefix-lora --tasks node_count,edge_count --per-task   # a model each")
    tr.add_argument("--recipe", required=True, help="a name from graphllm/recipes/ or a YAML path")
    tr.add_argument("--out", type=Path, help="run directory (default runs/<recipe>-<tasks>)")
    tr.add_argument("--steps", type=int)
    tr.add_argument("--batch-size", type=int)
    tr.add_argument("--lr", type=float)
    seed = tr.add_mutually_exclusive_group()
    seed.add_argument("--seed", type=int)
    seed.add_argument("--seeds", type=_seed_list, metavar="N,N,...",
                      help="one run per seed (in <run directory>/seed-N), combined into one result: the mean per "
                           "task, with each seed's accuracy and their spread (e.g. --seeds 0,1,2)")
    tr.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in the run directory")
    tr.add_argument("--per-task", action="store_true",
                    help="GraphToken's protocol: one model per task, each trained for --steps on its task alone (in "
                         "<run directory>/<task>), one combined result; finished tasks are not run again")
    tr.add_argument("--results", type=Path, default=Path("results"), help="where results/<run>.json goes")
    tr.set_defaults(func=_train)

    ev = commands.add_parser("eval", parents=[experiment], help="evaluate a trained run directory")
    ev.add_argument("--run", type=Path, required=True)
    ev.add_argument("--self-revise", type=_rounds, default=0, metavar="N",
                    help="SelFee: after each answer, at most N rounds of self-feedback and revision (default 0: off)")
    ev.add_argument("--results", type=Path, metavar="DIR",
                    help="also store the scores for the leaderboard: DIR/<run>.json on the run's own questions, "
                         "DIR/<run>-test<N>.json on others (N test questions)")
    ev.set_defaults(func=_eval)

    pr = commands.add_parser(
        "probe", parents=[experiment], help="linear probes: can a linear head read the count from what the LLM gets?",
        description="For node count, edge count and node degree: fit a ridge regression from the graph tokens (the "
                    "GNN's output) and from the bridge's output (soft tokens or prefix) to the true count on training "
                    "graphs, and score it on test graphs (exact when the rounded prediction is the count). Of a "
                    "trained run (--run) or an untrained recipe (--recipe, seeded).",
        epilog="example:\n  graphllm probe --run runs/graph-prefix-lora-counting-per-task-node_count+edge_count/"
               "edge_count --tasks edge_count")
    model_source(pr, run="a run directory (one model)", recipe="an untrained recipe")
    pr.add_argument("--seed", type=int, default=0, help="with --recipe: the seed its new parts start from")
    pr.set_defaults(func=_probe)

    from graphllm.cli import inference, serve

    inference.register(commands, experiment)
    bench = commands.add_parser("bench", help="benchmarks against peers, measured in the same run")
    bench_commands = bench.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    inference.register_bench(bench_commands)
    serve.register_bench(bench_commands)
    bl = bench_commands.add_parser(
        "links", help="our crawler vs linkinator and markdown-link-check on a local link farm",
        description="Start a farm of HTTP hosts on 127.0.0.x with fixed latency and known faults, then time "
                    "each checker as a whole command on the same Markdown file and count its wrong verdicts "
                    "against the farm's ground truth. The npm peers are installed into .cache/npm if missing.")
    bl.add_argument("--urls", type=int, default=2000)
    bl.add_argument("--hosts", type=int, default=50)
    bl.add_argument("--latency", type=float, default=0.05, help="seconds per response (default 0.05)")
    bl.add_argument("--faults", type=float, default=0.05, help="share of faulty URLs (default 0.05)")
    bl.add_argument("--per-host", type=int, default=4, help="our per-host limit (default 4)")
    bl.add_argument("--no-peers", action="store_true", help="skip linkinator and markdown-link-check")
    bl.add_argument("--json", type=Path, help="also write the figures as JSON")
    bl.set_defaults(func=_bench_links)
    bt = bench_commands.add_parser(
        "train", help="our graph-token vs PyG's GRetriever: same GNN, LLM, data and steps",
        description="Train both for the same steps on the same GraphQA examples with the same frozen LLM and "
                    "one graph token from a 2-layer GNN; print training and evaluation examples/s, accuracy "
                    "per task beside the majority class, and the ratios. About 10 minutes on 2 CPU cores.")
    bt.add_argument("--tasks", type=lambda s: [t.strip() for t in s.split(",") if t.strip()],
                    default=["cycle_check", "edge_existence"])
    bt.add_argument("--steps", type=int, default=300, help="optimizer steps for each (default: 300)")
    bt.add_argument("--gnn", choices=["gin", "gat"], default="gin",
                    help="the encoder: GIN (sum aggregation, sees degrees) or GAT (attention-weighted mean)")
    bt.add_argument("--batch-size", type=int, default=8)
    bt.add_argument("--train-examples", type=int, default=400, help="per task")
    bt.add_argument("--test-examples", type=int, default=50, help="per task")
    bt.add_argument("--device", type=device_type, default="auto", help=DEVICE_HELP)
    bt.add_argument("--seeds", type=_seed_list, default=[0], metavar="N,N,...",
                    help="training seeds: each method trains once per seed on the same examples, and its row is "
                         "the mean with the seeds' spread (default 0; e.g. 0,1,2)")
    bt.add_argument("--json", type=Path, help="also write the figures as JSON (e.g. results/train/DATE-cpu.json)")
    bt.set_defaults(func=_bench_train)
    bq = bench_commands.add_parser("graphqa", help="GraphQA generation rate (examples/s, with PyG Data)")
    bq.add_argument("--examples", type=int, default=100_000)
    bq.add_argument("--workers", type=int, help="processes (default: the number of CPUs)")
    bq.set_defaults(func=_bench_graphqa)
    demo = commands.add_parser("demo", help="the main job on the embedded default",
                               description="Validate and render the catalog, generate GraphQA, evaluate zero-shot, "
                                           "train and evaluate graph-token and graph-prefix on SmolLM2-135M, build "
                                           "the site with the leaderboard and print a summary (about 8 minutes).")
    demo.set_defaults(func=_demo)
