"""The pydantic side of the sources: what their payload and options models are made of.

A source module never imports pydantic: the receiver imports it to verify a webhook, and
pydantic's import would be most of the receiver's cold start. Each source's models live in
``<source>_models.py`` beside it, imported by its mapper (in the forwarder) and by
:attr:`~webhook_translator.sources.base.Source.options_model` (when a configuration sets options).
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints


class LaxModel(BaseModel):
    """The base of the provider payload models: unknown keys ignored (providers add fields).

    ``defer_build``: a model's schema is built on its first validation, not at import.
    """

    model_config = ConfigDict(extra="ignore", defer_build=True)


class NoOptions(BaseModel):
    """A source without options: any key is a mistake."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


#: a ``userProperties.consent`` key (``marketing``, ``analytics``, ``ad_storage``…)
ConsentKey = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")]


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("must be an http(s) URL without query or fragment")
    return value.strip().rstrip("/")


#: the per-source option ``api_base_url`` (DESIGN.md): the base up to and including the version segment
ApiBaseUrl = Annotated[str, AfterValidator(_base_url)]


def build_models(source_module: str) -> int:
    """Import the models of the source defined in ``source_module`` (``<module>_models``, if it has
    one) and build every model of the sources' loaded model modules not built yet; how many were built.

    The forwarder calls it in its init for the sources ``ENABLED_SOURCES`` names (through
    :meth:`~webhook_translator.sources.base.Source.prepare`), so that their first webhook does not
    pay for the import of pydantic and the schemas (Lambda's init runs at full CPU).
    """
    try:
        importlib.import_module(f"{source_module}_models")
    except ModuleNotFoundError as exc:
        if exc.name != f"{source_module}_models":
            raise
    return sum(1 for model in _unbuilt() if model.model_rebuild(raise_errors=False))


def _unbuilt() -> list[type[BaseModel]]:
    """The models defined in the loaded source modules whose schema is not built yet."""
    found = []
    for name, module in list(sys.modules.items()):
        if name.startswith("webhook_translator.sources.") and module is not None:
            found += [
                value
                for value in list(vars(module).values())
                if isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == name
                and not value.__pydantic_complete__
            ]
    return found
