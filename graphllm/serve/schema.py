"""The API's requests and answers, as pydantic models: FastAPI validates requests with them and publishes them in
the OpenAPI schema at /openapi.json."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GraphObject(BaseModel):
    """A graph as JSON: `num_nodes` (default: one more than the largest node named) and its undirected edges."""

    model_config = ConfigDict(extra="forbid")
    num_nodes: int | None = Field(default=None, ge=1, description="nodes 0 .. num_nodes - 1")
    edges: list[tuple[int, int]] = Field(description="[[u, v], ...], node numbers from 0")


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "graph": {"num_nodes": 4, "edges": [[0, 1], [1, 2], [2, 0], [2, 3]]},
        "question": "Is there a cycle in this graph?"}]})

    graph: GraphObject | str = Field(description="a graph object, or edge-list text: one 'u v' pair per line")
    question: str = Field(min_length=1, max_length=2000,
                          description="name nodes as the encoder does, e.g. 'node 3' (adjacency)")
    encoder: str = Field(default="adjacency", description="how nodes are named and the graph is written as text")
    max_new_tokens: int = Field(default=64, ge=1, le=512)
    temperature: float = Field(default=0.0, ge=0.0, le=5.0, description="0 is greedy decoding")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0, description="nucleus sampling threshold (1: off)")
    seed: int = Field(default=0, ge=0, description="seed of the sampling")
    stream: bool = Field(default=False, description="send tokens as server-sent events as they are decoded")


class Timings(BaseModel):
    """Seconds, measured on the server."""

    queued: float = Field(description="from arrival until its prompt began to run")
    first_token: float = Field(description="from arrival until the first token (prompt included)")
    total: float = Field(description="from arrival until the answer was complete")


class AnswerResponse(BaseModel):
    answer: str = Field(description="the decoded answer, special tokens removed")
    tokens: list[int] = Field(description="the answer's token ids")
    finish_reason: Literal["stop", "length", "time_limit"] = Field(
        description="stop: the model ended its answer; length: max_new_tokens reached; time_limit: the server's "
                    "per-request time limit cut it")
    timings: Timings
    passes: int = Field(description="target model passes after the prompt that gave this answer tokens")
    speculative_passes: int = Field(description="of those, passes that verified a draft's token tree")


class ErrorResponse(BaseModel):
    error: str = Field(description="one line: what is wrong and what to do")


class Health(BaseModel):
    status: Literal["ok", "down"]
    recipe: str
    llm: str
    draft: str | None
    batch_size: int
    queue_length: int
