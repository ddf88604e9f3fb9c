"""From an API request to a decoding job and back: the graph and question become the model's one-row batch (as
`graphllm generate` builds it from a file), the job goes to the continuous batcher, its tokens come back as the
answer. Everything a request can get wrong is a `RequestError` with one line saying what and how to fix it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa.graph_file import GraphFileError, graph_from_edge_list, graph_from_json, question_data
from graphllm.errors import GraphLLMError
from graphllm.inference.batcher import ContinuousBatcher, Job
from graphllm.inference.config import GenerationConfig, TreeShape, end_of_turn_ids
from graphllm.serve.schema import AnswerRequest, AnswerResponse, Timings


class RequestError(GraphLLMError):
    """A request the server cannot answer as asked (HTTP 400)."""


@dataclass
class ServeConfig:
    max_batch: int = 16  # rows decoded together
    max_queue: int = 64  # requests waiting at most; more are refused with 503
    time_limit: float = 120.0  # seconds a request may take from arrival, queueing included
    max_nodes: int = 100  # GraphQA's graphs have 5 to 20; larger ones make prompts the model never saw
    max_edges: int = 1000


class AnswerService:
    """One loaded model serving graph questions.

    Args:
        model, recipe, tokenizer: what `graphllm.experiment.load_model` returns.
        llm: the LLM's name, for /health.
        draft, draft_spec: a draft for speculative steps (see `ContinuousBatcher`) and how it was named.
    """

    def __init__(self, model, recipe, tokenizer, llm: str = "smollm2-135m", draft=None, draft_spec: str | None = None,
                 shape: TreeShape | None = None, config: ServeConfig | None = None, packed_weights: bool = True
                 ) -> None:
        self.model, self.recipe, self.tokenizer, self.llm = model, recipe, tokenizer, llm
        self.draft_spec = draft_spec
        self.config = config or ServeConfig()
        self.collator = GraphCollator(tokenizer, "generate", include_graph_text=recipe.include_graph_text,
                                      system_prompt=recipe.system_prompt)
        self.stop_ids = end_of_turn_ids(tokenizer)
        self.engine = ContinuousBatcher(model, draft, shape, self.config.max_batch, self.config.max_queue,
                                        packed_weights)
        self.refused: dict[int, int] = {}  # HTTP status -> requests refused with it

    def start(self) -> None:
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()

    def job(self, request: AnswerRequest) -> Job:
        """The decoding job of a request (its graph read, checked and encoded, its prompt collated)."""
        try:
            if isinstance(request.graph, str):
                graph = graph_from_edge_list(request.graph, "graph")
            else:
                graph = graph_from_json(request.graph.model_dump(exclude_none=True), "graph")
        except GraphFileError as exc:
            raise RequestError(str(exc)) from None
        limits = self.config
        if graph.n > limits.max_nodes or len(graph.edges) > limits.max_edges:
            raise RequestError(f"graph: {graph.n} nodes and {len(graph.edges)} edges is too large; this server takes "
                               f"at most {limits.max_nodes} nodes and {limits.max_edges} edges")
        try:
            data = question_data(graph, request.question, request.encoder)
        except GraphFileError as exc:
            raise RequestError(str(exc)) from None
        config = GenerationConfig(max_new_tokens=request.max_new_tokens, temperature=request.temperature,
                                  top_p=request.top_p, stop_ids=self.stop_ids, seed=request.seed)
        batch = self.collator([data]).to(self.model.device)
        return Job(batch, config, deadline=time.monotonic() + limits.time_limit)

    def text(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True)

    def response(self, job: Job) -> AnswerResponse:
        end = job.finished or time.monotonic()
        timings = Timings(queued=(job.started or end) - job.submitted,
                          first_token=(job.first_token or end) - job.submitted, total=end - job.submitted)
        return AnswerResponse(answer=self.text(job.tokens).strip(), tokens=list(job.tokens),
                              finish_reason=job.reason, timings=timings, passes=job.passes,
                              speculative_passes=job.speculative_passes)
