import pytest

from graphllm.catalog.text import (
    Venue,
    arxiv_first_version,
    arxiv_id_from_url,
    canonical_paper_url,
    clean_title,
    github_repo,
    normalise_title,
    parse_venue,
    slug_base,
    url_problem,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NeurIPS'24 D&B", Venue("NeurIPS", 2024, None, "D&B")),
        ("TKDE‘23", Venue("TKDE", 2023)),
        ("WSDM '25", Venue("WSDM", 2025)),
        ("EACL'24'", Venue("EACL", 2024)),
        ("ACL 2024", Venue("ACL", 2024)),
        ("NeurIPs 2022", Venue("NeurIPS", 2022)),
        ("EMNLP23", Venue("EMNLP", 2023)),
        ("AAAI2024", Venue("AAAI", 2024)),
        ("BCB 19", Venue("BCB", 2019)),
        ("arXiv 2024.10", Venue("arXiv", 2024, 10)),
        ("arxiv 2023.05", Venue("arXiv", 2023, 5)),
        ("preprint", Venue("arXiv")),
        ("Preprint", Venue("arXiv")),
        ("preprint 2024", Venue("arXiv", 2024)),
        ("[]", Venue("arXiv")),
        ("IEEE Intelligent Systems 2023", Venue("IEEE Intelligent Systems", 2023)),
        ("ICML 2023 Workshop on Computational Biology", Venue("ICML", 2023, None, "Workshop on Computational Biology")),
        ("Journal of Chemical Information and Modeling", Venue("Journal of Chemical Information and Modeling")),
        ("*ICLR'25*", Venue("ICLR", 2025)),
    ],
)
def test_parse_venue(raw, expected):
    assert parse_venue(raw) == expected


def test_titles_that_differ_only_in_punctuation_and_case_share_a_key():
    a = "GPT4Graph: Can Large Language Models Understand Graph Structured Data ? An Empirical Evaluation."
    b = "GPT4Graph: Can Large Language Models Understand Graph Structured Data? An Empirical Evaluation"
    assert normalise_title(a) == normalise_title(b)
    assert normalise_title("Let’s Ask GNN") == normalise_title("Let's ask GNN")
    assert normalise_title("Graph Language Models") != normalise_title("Graph Language Model")


def test_clean_title_strips_the_trailing_period_and_space_before_question_marks():
    assert clean_title("  Talk Like A Graph.  ") == "Talk Like A Graph"
    assert clean_title("Structured Data ? An Evaluation") == "Structured Data? An Evaluation"


@pytest.mark.parametrize(
    ("url", "arxiv"),
    [
        ("https://arxiv.org/abs/2305.10037", "2305.10037"),
        ("https://arxiv.org/abs/2311.07914v1", "2311.07914"),
        ("https://arxiv.org/pdf/2306.08302.pdf", "2306.08302"),
        ("https://browse.arxiv.org/pdf/2305.10037.pdf", "2305.10037"),
        ("http://arxiv.org/abs/2308.14522", "2308.14522"),
        ("https://arxiv.org/pdf/2405.16806", "2405.16806"),
        ("https://arxiv.org/abs/cs/0112017v2", "cs/0112017"),
        ("https://openreview.net/forum?id=x", None),
        ("https://arxiv.org/list/cs.LG/recent", None),
    ],
)
def test_arxiv_id_from_url(url, arxiv):
    assert arxiv_id_from_url(url) == arxiv


def test_canonical_paper_url_and_first_version():
    assert canonical_paper_url("https://arxiv.org/pdf/2306.08302v3.pdf") == "https://arxiv.org/abs/2306.08302"
    acl = "https://aclanthology.org/2021.naacl-main.278/"
    assert canonical_paper_url(acl) == acl
    assert arxiv_first_version("2310.04560") == "2023-10"
    assert arxiv_first_version("cs/0112017") is None


def test_github_repo():
    assert github_repo("https://github.com/Arthur-Heng/NLGraph") == "Arthur-Heng/NLGraph"
    deep = "https://github.com/modelscope/modelscope-agent/tree/master/apps/x"
    assert github_repo(deep) == "modelscope/modelscope-agent"
    assert github_repo("https://github.com/orgs/pyg-team") is None
    assert github_repo("https://kaistai.github.io/SelFee/") is None


@pytest.mark.parametrize(
    ("url", "bad"),
    [
        ("https://arxiv.org/abs/2305.10037", False),
        ("http://localhost:8000/x", False),
        ("ftp://example.org/file", True),
        ("arxiv.org/abs/2305.10037", True),
        ("https://exa mple.org", True),
        ("https://", True),
        ("https://nodot/x", True),
        ("https://example..org", True),
        ("https://example.org:99999/", True),
        (" https://example.org", True),
    ],
)
def test_url_problem(url, bad):
    assert (url_problem(url) is not None) is bad


def test_slug_base_uses_the_name_before_a_colon():
    assert slug_base("GraphArena: Evaluating and Exploring LLMs") == "grapharena"
    assert slug_base("Talk like a Graph: Encoding Graphs for Large Language Models") == "talk-like-a-graph"
    assert slug_base("Graph Language Models") == "graph-language-models"


def test_url_identity():
    from graphllm.catalog.text import url_identity

    assert url_identity("https://github.com/Bklight999/WWW25-GCoder/tree/master") == url_identity(
        "https://github.com/bklight999/www25-gcoder/")
    assert url_identity("https://arxiv.org/pdf/2305.10037v2.pdf") == url_identity("https://arxiv.org/abs/2305.10037")
    assert url_identity("https://openreview.net/forum?id=AbC") != url_identity("https://openreview.net/forum?id=abc")
    assert url_identity("https://github.com/a/b/tree/dev") != url_identity("https://github.com/a/b")
