"""Exceptions a user can act on. The CLI prints their message as one line and exits non-zero."""


class GraphLLMError(Exception):
    """Base class: the message says what went wrong and what to do about it."""


class CatalogError(GraphLLMError):
    """The catalog data or an upstream list could not be read or written."""


class UsageError(GraphLLMError):
    """A command line that asks for something that cannot be done (a bad draft spec, a missing --out)."""
