"""Continuous batching: requests join the running batch at the next step and leave it the moment they finish.

A request is prefilled alone (its prompt, soft tokens and prefix), its first token chosen, and its cache merged
into the batch's (`DecodeState.append`: the shorter cache is padded on the left with holes, which the explicit
masks of every pass skip). Each step then decodes one token for every row, or, with a draft, grows a token tree
per row and verifies all of them in one target pass (as `speculative_generate` does). Which of the two a step
takes is decided by `ModeSwitch` from what each has cost at this batch size, in seconds per committed token:
speculation pays while the batch is small, plain batched steps once it is large.

Every row keeps its own sampling settings and random generator, drawn in the order `generate` draws them for a
request alone, so a request's tokens are those `generate` gives it alone (greedy; the float rounding of another
batch shape can flip a near-tie).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from graphllm.inference.attention import grouped_sdpa
from graphllm.inference.budget import TreeBudget
from graphllm.inference.cache import row_order
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft
from graphllm.inference.packed import packed_linears
from graphllm.inference.sampling import next_tokens
from graphllm.inference.speculative import budget_of, speculative_pass
from graphllm.inference.state import DecodeState
from graphllm.inference.stopping import Outputs

log = logging.getLogger("graphllm.batcher")
_GREEDY = GenerationConfig()


@dataclass(eq=False)
class Job:
    """One request: a one-row generation batch and how to decode it. The engine calls `emit(job, tokens)` with
    each run of new tokens and `finish(job)` once, on its own thread; `cancelled` (a client that went away) and
    `deadline` (`time.monotonic()`) end the job at the next step."""

    batch: object  # a one-row `GraphBatch` from a "generate" collator, on the model's device
    config: GenerationConfig
    emit: Callable[[Job, list[int]], None] = lambda job, tokens: None
    finish: Callable[[Job], None] = lambda job: None
    deadline: float | None = None
    cancelled: bool = False
    tokenizer: object = None  # needed only for stop strings
    # what the engine records
    tokens: list[int] = field(default_factory=list)
    reason: str = ""  # stop, length, time_limit, cancelled, error
    error: str = ""
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None  # prefill began
    first_token: float | None = None
    finished: float | None = None
    passes: int = 0  # target passes after the prompt that committed tokens to this job
    speculative_passes: int = 0

    def __post_init__(self) -> None:
        self._outputs = Outputs(1, self.config, self.tokenizer)
        self.tokens = self._outputs.tokens[0]
        self._generator: torch.Generator | None = None
        self._pending = 0  # the last committed token, not yet in the cache
        mask = self.batch.attention_mask[0].bool()
        self._prompt = self.batch.input_ids[0][mask].tolist()


class ModeSwitch:
    """Plain or speculative, per step: at each batch size, running means of the seconds per committed token that
    each mode took; a step takes the cheaper one, first trying a mode not measured at this size yet, and the other
    one every `explore` steps so that a mode whose cost changed (another machine load, other answers) is seen."""

    def __init__(self, explore: int = 64, keep: float = 0.9) -> None:
        self.explore, self.keep = explore, keep
        self.cost: dict[tuple[int, bool], float] = {}
        self.steps: dict[int, int] = {}

    def speculate(self, rows: int) -> bool:
        spec, plain = self.cost.get((rows, True)), self.cost.get((rows, False))
        if spec is None or plain is None:
            return spec is None  # measure speculation first, then plain steps
        self.steps[rows] = self.steps.get(rows, 0) + 1
        cheaper = spec < plain
        return (not cheaper) if self.steps[rows] % self.explore == 0 else cheaper

    def observe(self, rows: int, speculative: bool, seconds: float, tokens: int) -> None:
        if tokens <= 0:
            return
        key, value = (rows, speculative), seconds / tokens
        old = self.cost.get(key)
        self.cost[key] = value if old is None else self.keep * old + (1 - self.keep) * value


@dataclass
class EngineStats:
    """Counters the server's /metrics reads (written by the engine's thread only)."""

    requests: dict[str, int] = field(default_factory=dict)  # finished, by reason
    tokens: int = 0
    plain_steps: int = 0
    speculative_steps: int = 0
    speculative_tokens: int = 0  # committed by speculative steps (per pass and row: accepted draft tokens + 1)
    speculative_rows: int = 0  # rows summed over speculative steps
    batch_size: int = 0
    tokens_per_second: float = 0.0  # running mean over recent steps


class ContinuousBatcher:
    """The engine: `submit` jobs from any thread; a thread of its own decodes them (`start`, `stop`).

    Args:
        model: a `GraphLLM` in eval mode.
        draft: a draft without state of its own (n-gram, early-exit, or merged ones of those), or None.
        shape: the draft tree's shape (trimmed per pass by the tree budget where it knows its probabilities).
        max_batch: rows decoded together; further requests wait in the queue.
        max_queue: requests waiting at most; `submit` refuses more.
    """

    def __init__(self, model, draft: Draft | None = None, shape: TreeShape | None = None, max_batch: int = 16,
                 max_queue: int = 64, packed_weights: bool = True) -> None:
        if draft is not None:
            if draft.own_state:
                raise ValueError(f"the {draft.name} draft keeps a state of its own per batch, which rows joining a "
                                 "running batch cannot share; serve with ngram or early-exit drafts")
            if not model._takes_positions:
                raise ValueError(f"{type(model.llm).__name__} takes no position ids, which speculation needs")
        if max_batch < 1 or max_queue < 1:
            raise ValueError("max_batch and max_queue must be at least 1")
        self.model, self.draft, self.shape = model, draft, shape or TreeShape()
        self.max_batch, self.packed_weights = max_batch, packed_weights
        self.queue: queue.Queue[Job] = queue.Queue(max_queue)
        self.switch = ModeSwitch()
        self.stats = EngineStats()
        self.budget: TreeBudget | None = budget_of(draft) if draft is not None and self.shape.trim else None
        self._grown = self.shape
        self._jobs: list[Job] = []
        self._state: DecodeState | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the public side, any thread -------------------------------------------------------------------------
    def submit(self, job: Job) -> bool:
        """Queue a job; False when the queue is full."""
        try:
            self.queue.put_nowait(job)
        except queue.Full:
            return False
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="graphllm-decoding", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def batch_size(self) -> int:
        return len(self._jobs)

    # --- the engine's thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        modules = self.draft.modules() if self.draft is not None else []
        with torch.no_grad(), grouped_sdpa(self.model.llm, *modules), \
                packed_linears(self.model, *modules, enabled=self.packed_weights):
            while not self._stop.is_set():
                self._admit()
                self._retire_ended()
                if not self._jobs:
                    continue
                try:
                    self._step()
                except Exception as exc:  # noqa: BLE001 - one failed step must not take the server down
                    log.exception("decoding step failed")
                    self._fail_all(f"{exc.__class__.__name__}: {exc}")
        self._fail_all("the server is shutting down", reason="cancelled")

    def _admit(self) -> None:
        while len(self._jobs) < self.max_batch:
            try:
                job = self.queue.get(timeout=0.05) if not self._jobs else self.queue.get_nowait()
            except queue.Empty:
                return
            if job.cancelled or (job.deadline is not None and time.monotonic() > job.deadline):
                self._end(job, "cancelled" if job.cancelled else "time_limit")
                continue
            try:
                self._prefill(job)
            except Exception as exc:  # noqa: BLE001 - a request that cannot run fails alone
                log.exception("prefill failed")
                job.error = f"{exc.__class__.__name__}: {exc}"
                self._end(job, "error")

    def _prefill(self, job: Job) -> None:
        job.started = time.monotonic()
        state, logits = DecodeState.prefill(self.model, job.batch)
        job._generator = torch.Generator(device=logits.device).manual_seed(job.config.seed)
        token = int(next_tokens(logits, job.config, job._generator)[0])
        job.first_token = time.monotonic()
        if self._commit(job, [token]):
            return
        if self._state is None:
            self._state = state
        else:
            self._state.append(state)
        self._jobs.append(job)

    def _commit(self, job: Job, tokens: list[int]) -> bool:
        """Add a job's new tokens; True (and the job ended) once it is finished."""
        before = len(job.tokens)
        done = job._outputs.add(0, tokens)
        if len(job.tokens) > before:
            self._call(job.emit, job, job.tokens[before:])
            self.stats.tokens += len(job.tokens) - before
        job._pending = tokens[-1]
        if done:
            self._end(job, "length" if len(job.tokens) >= job.config.max_new_tokens else "stop")
        return done

    def _end(self, job: Job, reason: str) -> None:
        job.reason, job.finished = reason, time.monotonic()
        self.stats.requests[reason] = self.stats.requests.get(reason, 0) + 1
        self._call(job.finish, job)

    @staticmethod
    def _call(callback, *args) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - a client's callback failing is that client's problem
            log.exception("a job's callback failed")

    def _retire_ended(self) -> None:
        now = time.monotonic()
        ended = {}
        for i, job in enumerate(self._jobs):
            if job.cancelled:
                ended[i] = "cancelled"
            elif job.deadline is not None and now > job.deadline:
                ended[i] = "time_limit"
        for i, reason in ended.items():
            self._end(self._jobs[i], reason)
        if ended:
            self._keep([i for i in range(len(self._jobs)) if i not in ended])

    def _keep(self, live: list[int]) -> None:
        if not live:
            self._jobs, self._state = [], None
        elif len(live) != len(self._jobs):
            order = row_order(live)
            self._state.select_rows(order)
            if self.draft is not None:
                self.draft.select_rows(order)
            self._jobs = [self._jobs[i] for i in order]
        self.stats.batch_size = len(self._jobs)

    def _step(self) -> None:
        rows = len(self._jobs)
        speculative = (self.draft is not None and all(job.config.greedy for job in self._jobs)
                       and self.switch.speculate(rows))
        began = time.perf_counter()
        committed = self._speculative_step() if speculative else self._plain_step()
        seconds = time.perf_counter() - began
        self.switch.observe(rows, speculative, seconds, committed)
        rate = committed / seconds if seconds > 0 else 0.0
        self.stats.tokens_per_second = rate if not self.stats.tokens_per_second else \
            0.9 * self.stats.tokens_per_second + 0.1 * rate

    def _plain_step(self) -> int:
        state = self._state
        tokens = torch.tensor([job._pending for job in self._jobs], device=state.mask.device)
        logits = state.step(tokens)
        live = []
        for i, job in enumerate(self._jobs):
            job.passes += 1
            if not self._commit(job, [int(next_tokens(logits[i:i + 1], job.config, job._generator)[0])]):
                live.append(i)
        self.stats.plain_steps += 1
        rows = len(self._jobs)
        self._keep(live)
        return rows

    def _speculative_step(self) -> int:
        """One pass of `speculative_generate`'s loop over the live rows (greedy)."""
        jobs = self._jobs
        committed, _, self._grown, _ = speculative_pass(
            self._state, self.draft, [job._pending for job in jobs], [job._prompt + job.tokens for job in jobs],
            self.shape, self._grown, _GREEDY, None, self.budget)
        live = []
        for i, (job, new) in enumerate(zip(jobs, committed, strict=True)):
            job.passes += 1
            job.speculative_passes += 1
            if not self._commit(job, new):
                live.append(i)
        total = sum(len(new) for new in committed)
        self.stats.speculative_steps += 1
        self.stats.speculative_tokens += total
        self.stats.speculative_rows += len(jobs)
        self._keep(live)
        return total

    def _fail_all(self, error: str, reason: str = "error") -> None:
        """End every job of the batch (a failed step), and at shutdown every queued one too."""
        ended = list(self._jobs)
        self._jobs, self._state = [], None
        self.stats.batch_size = 0
        while reason == "cancelled":
            try:
                ended.append(self.queue.get_nowait())
            except queue.Empty:
                break
        for job in ended:
            job.error = error
            self._end(job, reason)
