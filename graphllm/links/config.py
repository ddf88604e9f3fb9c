"""Crawler settings: typed, with polite defaults, loadable from a YAML file.

Example `links.yaml`:

    user_agent: "Mozilla/5.0 (compatible; graphllm-linkcheck)"
    exclude: ['^https://example\\.org/private/']
    per_host: 4
    hosts:
      arxiv.org: {per_host: 2, min_interval: 0.5}
      www.linkedin.com: {accept: [999]}
    cache: {path: .cache/links.sqlite, max_age_hours: 168}
    fail_on: [broken]
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from graphllm.errors import GraphLLMError
from graphllm.links.model import Verdict
from graphllm.settings import checked_pattern, read_yaml, validated

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 "
    "graphllm-linkcheck/0.1"
)
GITHUB_HOSTS = ["github.com", "api.github.com", "raw.githubusercontent.com", "gist.github.com"]


class LinkConfigError(GraphLLMError):
    pass


class HostRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_host: int | None = Field(default=None, ge=1, description="requests in flight to this host")
    min_interval: float | None = Field(default=None, ge=0, description="seconds between request starts")
    accept: list[int] = Field(default_factory=list, description="statuses that count as ok for this host")
    get_only: bool = Field(default=False, description="skip HEAD: the host answers HEAD wrongly")


_NO_RULE = HostRule()


class CacheConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path = Path(".cache/links.sqlite")
    max_age_hours: float = Field(default=24 * 7, ge=0)
    enabled: bool = True


class LinkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_agent: str = DEFAULT_USER_AGENT
    concurrency: int = Field(default=256, ge=1, description="requests in flight overall")
    per_host: int = Field(default=4, ge=1, description="requests in flight per host")
    min_interval: float = Field(default=0.0, ge=0, description="seconds between request starts to one host")
    timeout: float = Field(default=20.0, gt=0, description="seconds for one request")
    retries: int = Field(default=3, ge=0, description="retries after a 5xx, 429, reset or timeout")
    backoff: float = Field(default=0.25, ge=0, description="first retry delay; doubles each retry")
    retry_after_cap: float = Field(default=30.0, ge=0, description="longest Retry-After honoured, seconds")
    max_redirects: int = Field(default=10, ge=0)
    max_body_bytes: int = Field(default=5_000_000, ge=1024, description="cap on a body read for fragments")
    check_fragments: bool = True
    ca_bundle: Path | None = Field(default=None, description="CA certificates for TLS (default: $SSL_CERT_FILE, "
                                                          "else certifi's bundle)")
    exclude: list[str] = Field(default_factory=list, description="regular expressions of URLs not to check")
    hosts: dict[str, HostRule] = Field(default_factory=lambda: {
        "arxiv.org": HostRule(per_host=2, min_interval=0.25),
        "github.com": HostRule(per_host=4, min_interval=0.1),
    })
    cache: CacheConfig = Field(default_factory=CacheConfig)
    fail_on: list[Verdict] = Field(default_factory=lambda: [Verdict.BROKEN])
    github_token: str | None = Field(default=None, description="taken from $GITHUB_TOKEN when not set")
    github_hosts: list[str] = Field(default_factory=lambda: list(GITHUB_HOSTS),
                                    description="hosts that get the GitHub token; no other host ever does")

    @field_validator("exclude")
    @classmethod
    def _regexes_compile(cls, patterns: list[str]) -> list[str]:
        return [checked_pattern(pattern, "exclude pattern") for pattern in patterns]

    def rule(self, host: str) -> HostRule:
        host = host.lower()
        rule = self.hosts.get(host)
        if rule is None and host.startswith("www."):
            rule = self.hosts.get(host[4:])
        return rule or _NO_RULE

    def per_host_limit(self, host: str) -> int:
        return self.rule(host).per_host or self.per_host

    def interval(self, host: str) -> float:
        rule = self.rule(host).min_interval
        return self.min_interval if rule is None else rule

    def excluded(self, url: str) -> bool:
        return any(re.search(pattern, url) for pattern in self.exclude)


def load_config(path: str | Path | None, **overrides) -> LinkConfig:
    data: dict = {}
    if path is not None:
        path = Path(path)
        data = read_yaml(path, LinkConfigError, "link-check config ") or {}
        if not isinstance(data, dict):
            raise LinkConfigError(f"{path}: the config must be a mapping of settings")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return validated(LinkConfig, data, str(path or "link-check settings"), LinkConfigError)
