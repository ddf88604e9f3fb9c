"""The HTTP application: `POST /v1/answers` (JSON, or server-sent events with `"stream": true`), `GET /health`,
`GET /metrics` (Prometheus text), the OpenAPI schema at `/openapi.json` and a page to try it at `/`.

The event loop never decodes: requests are turned into jobs in a worker thread and decoded by the batcher's own
thread, whose tokens come back through `loop.call_soon_threadsafe`. A client that goes away cancels its job,
which leaves the batch at the next step. Bad requests get 400 or 422 with one line in `{"error": ...}`; a full
queue gets 503 with Retry-After."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from graphllm.inference.batcher import Job
from graphllm.serve.metrics import metrics_text
from graphllm.serve.schema import AnswerRequest, AnswerResponse, ErrorResponse, Health
from graphllm.serve.service import AnswerService, RequestError

_ERRORS = {400: {"model": ErrorResponse, "description": "a graph or question that cannot be answered as sent"},
           422: {"model": ErrorResponse, "description": "a field missing, unknown or out of range"},
           503: {"model": ErrorResponse, "description": "the queue is full: retry after a few seconds"}}


def create_app(service: AnswerService) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(title="graphllm serve", lifespan=lifespan,
                  description="Graph questions answered by a graph-conditioned LLM, batched continuously.")

    def refuse(status: int, message: str, headers: dict | None = None) -> JSONResponse:
        service.refused[status] = service.refused.get(status, 0) + 1
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            reason = (first.get("ctx") or {}).get("error", first["msg"])
            return refuse(400, f"the body is not JSON ({reason}); send a JSON object with graph and question")
        where = ".".join(str(part) for part in first["loc"] if part != "body")
        if not where:
            return refuse(422, "the body must be a JSON object with at least graph and question")
        return refuse(422, f"field {where!r}: {first['msg']}")

    @app.post("/v1/answers", response_model=AnswerResponse, responses=_ERRORS)
    async def answers(body: AnswerRequest, request: Request):
        try:
            job = await run_in_threadpool(service.job, body)
        except RequestError as exc:
            return refuse(400, str(exc))
        events: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        job.emit = lambda job, tokens: _put(loop, events, ("tokens", tokens))
        job.finish = lambda job: _put(loop, events, ("done", None))
        if not service.engine.submit(job):
            return refuse(503, f"the queue is full ({service.config.max_queue} requests waiting); retry in a few "
                               "seconds", headers={"Retry-After": "2"})
        if body.stream:
            return StreamingResponse(_stream(service, job, events), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        while True:
            try:
                kind, _ = await asyncio.wait_for(events.get(), timeout=0.25)
            except TimeoutError:
                if await request.is_disconnected():
                    job.cancelled = True
                    return Response(status_code=499)
                continue
            if kind == "done":
                return _finished(service, job)

    @app.get("/health", response_model=Health)
    async def health() -> JSONResponse:
        up = service.engine.alive
        body = Health(status="ok" if up else "down", recipe=service.recipe.name, llm=service.llm,
                      draft=service.draft_spec, batch_size=service.engine.batch_size,
                      queue_length=service.engine.queue.qsize())
        return JSONResponse(body.model_dump(), status_code=200 if up else 503)

    @app.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(metrics_text(service), media_type="text/plain; version=0.0.4")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(resources.files("graphllm.serve").joinpath("page.html").read_text(encoding="utf-8"))

    return app


def _put(loop: asyncio.AbstractEventLoop, events: asyncio.Queue, item) -> None:
    """From the engine's thread into the request's queue (a loop that closed meanwhile drops it)."""
    try:
        loop.call_soon_threadsafe(events.put_nowait, item)
    except RuntimeError:
        pass


def _finished(service: AnswerService, job: Job) -> JSONResponse:
    if job.reason == "error":
        return JSONResponse({"error": f"decoding failed: {job.error}"}, status_code=500)
    if job.reason == "cancelled":
        return JSONResponse({"error": f"cancelled: {job.error or 'the server stopped'}"}, status_code=503)
    return JSONResponse(service.response(job).model_dump())


async def _stream(service: AnswerService, job: Job, events: asyncio.Queue):
    """Server-sent events: `token` with each run of new text and its token ids, then `done` with the whole answer
    (as the JSON answer) or `error`. A client that disconnects cancels the job (this generator is closed)."""
    sent = ""
    try:
        while True:
            kind, tokens = await events.get()
            if kind == "done":
                break
            text = service.text(job.tokens)
            delta = text[len(sent):] if text.startswith(sent) else ""  # wait while a character is incomplete
            sent += delta
            yield _event("token", {"text": delta, "tokens": tokens})
        if job.reason in ("error", "cancelled"):
            yield _event("error", {"error": f"{job.reason}: {job.error}"})
        else:
            yield _event("done", service.response(job).model_dump())
    finally:
        if not job.reason:
            job.cancelled = True


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
