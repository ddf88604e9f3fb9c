"""A local HTTP server that answers like the arXiv, GitHub and Semantic Scholar APIs, scripted per path.

`server.script(path, *responses)` queues responses for a path (the last one repeats); each response is
`(status, body, headers)` or with a fourth item, a delay in seconds before answering.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ATOM_ENTRY = """<entry>
    <id>http://arxiv.org/abs/{id}v2</id>
    <updated>2024-03-01T10:00:00Z</updated>
    <published>{published}T17:59:51Z</published>
    <title>{title}</title>
    <summary>An abstract.</summary>
    {authors}
    <link href="http://arxiv.org/abs/{id}v2" rel="alternate" type="text/html"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.LG"/>
  </entry>"""


def atom_feed(entries: str = "") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">\n  <title>arXiv Query</title>\n'
            f'  <opensearch:totalResults>{1 if entries else 0}</opensearch:totalResults>\n  {entries}\n</feed>\n')


def atom_paper(arxiv_id: str, title: str, authors: list[str], published: str) -> str:
    names = "\n    ".join(f"<author><name>{a}</name></author>" for a in authors)
    return atom_feed(ATOM_ENTRY.format(id=arxiv_id, title=title, authors=names, published=published))


def repo_json(full_name: str, stars: int, archived: bool = False, pushed: str = "2025-01-02T03:04:05Z",
              spdx: str | None = "MIT") -> str:
    return json.dumps({"id": 1, "full_name": full_name, "stargazers_count": stars, "archived": archived,
                       "pushed_at": pushed, "license": {"spdx_id": spdx} if spdx else None})


def s2_json(venue: str, year: int, alternates: list[str] | None = None) -> str:
    return json.dumps({"paperId": "abc", "venue": venue, "year": year,
                       "publicationVenue": {"name": venue, "type": "conference", "alternate_names": alternates or []}})


class _Handler(BaseHTTPRequestHandler):
    server: ApiServer

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        key = parts.path
        if parts.path.endswith("/api/query"):
            key = f"{parts.path}?{parse_qs(parts.query).get('id_list', [''])[0]}"
        server = self.server
        with server.lock:
            server.seen.append((key, dict(self.headers)))
            queue = server.responses.get(key)
            if not queue:
                response = (404, '{"message": "Not Found"}', {})
            else:
                response = queue.pop(0) if len(queue) > 1 else queue[0]
        status, body, headers, *delay = response
        if delay:
            time.sleep(delay[0])
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, str(value))
            data = body.encode()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.responses: dict[str, list] = defaultdict(list)
        self.seen: list[tuple[str, dict]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def script(self, key: str, *responses) -> None:
        with self.lock:
            self.responses[key] = [r if len(r) >= 3 else (*r, {}) for r in responses]

    def hits(self, key: str) -> int:
        return sum(1 for k, _ in self.seen if k == key)

    def close(self) -> None:
        self.shutdown()
        self.server_close()
