"""Loading a model into an `AnswerService` and serving it with uvicorn: what `graphllm serve` runs."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from graphllm.errors import UsageError
from graphllm.serve.service import AnswerService, ServeConfig


def load_service(run: Path | None, recipe: str | None, llm: str = "smollm2-135m", device: str = "auto",
                 draft: str | None = None, tree: str = "1,1,3,1,1", config: ServeConfig | None = None
                 ) -> AnswerService:
    """The service of a trained run directory or an untrained recipe, with an optional draft spec (checked before
    the model loads)."""
    from graphllm.inference.config import TreeShape
    from graphllm.inference.drafts import make_draft, parse_draft_spec

    try:
        shape = TreeShape.parse(tree)
        if draft:
            parse_draft_spec(draft)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from graphllm.experiment import load_model

    model, loaded_recipe, tokenizer = load_model(run, recipe, llm, device=device)
    try:
        built = make_draft(draft, target=model, recipe=loaded_recipe, run_dir=run) if draft else None
        return AnswerService(model, loaded_recipe, tokenizer, llm, built, draft, shape, config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def serve_forever(service: AnswerService, host: str = "127.0.0.1", port: int = 8000, log=print) -> None:
    """Serve until interrupted (Ctrl-C stops the server and its decoding thread)."""
    import uvicorn

    from graphllm.serve.app import create_app

    log(f"serving {service.recipe.name} on http://{host}:{port}/ (try it in a browser; the API is at /docs)")
    uvicorn.run(create_app(service), host=host, port=port, log_level="warning")


class BackgroundServer:
    """The app on a socket bound here (port 0: a free one), served by uvicorn in a thread: for tests and benches.
    `url` is where it listens; `stop()` ends it (and the service's decoding thread)."""

    def __init__(self, service: AnswerService, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        from graphllm.serve.app import create_app

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.url = f"http://{host}:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(create_app(service), log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        import time

        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.socket.close()
