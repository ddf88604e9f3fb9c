"""GitHub's REST repository endpoint: stars, archived flag, last push and licence."""

from __future__ import annotations

import os
from dataclasses import dataclass

from graphllm.catalog.clients.http import ApiClient, ApiError

DEFAULT_URL = "https://api.github.com"


@dataclass
class RepoInfo:
    full_name: str
    stars: int
    archived: bool
    pushed_at: str | None  # YYYY-MM-DD
    license: str | None  # SPDX id


class GitHubClient:
    def __init__(self, base_url: str | None = None, token: str | None = None, **kwargs) -> None:
        token = token or os.environ.get("GITHUB_TOKEN")
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.api = ApiClient("GitHub", base_url or os.environ.get("GRAPHLLM_GITHUB_API", DEFAULT_URL),
                             headers=headers, **kwargs)

    def repo(self, full_name: str) -> RepoInfo:
        data = self.api.json(f"repos/{full_name}")
        try:
            stars = data["stargazers_count"]
            archived = data["archived"]
            if not isinstance(stars, int) or not isinstance(archived, bool):
                raise TypeError
        except (KeyError, TypeError):
            raise ApiError("bad-response", f"GitHub's answer for {full_name} lacks stargazers_count/archived") from None
        licence = (data.get("license") or {}).get("spdx_id")
        pushed = data.get("pushed_at")
        return RepoInfo(data.get("full_name") or full_name, stars, archived,
                        pushed[:10] if isinstance(pushed, str) else None,
                        licence if licence and licence != "NOASSERTION" else None)
