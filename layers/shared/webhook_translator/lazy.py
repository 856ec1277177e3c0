"""A module imported on the first read of one of its names, then read as fast as any module.

The receiver imports the source modules (to verify webhooks) but never their pydantic models or
the Ours models; the forwarder needs those on every webhook. An ``import`` statement inside a
function keeps them out of the receiver, but costs about 1.5 µs per call on the forwarder's hot
path (the import machinery's lookup and ``fromlist`` handling). :func:`lazy_module` gives an object
that imports the module on its first attribute read and then holds the module's names itself, so a
read is one dictionary lookup::

    if TYPE_CHECKING:
        from webhook_translator.ours import models as ours_models
    else:
        ours_models = lazy_module("webhook_translator.ours.models")
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    """Stands for a module until it is first read; then it holds that module's names."""

    def __getattr__(self, name: str) -> Any:  # only called while a name is not here yet
        module = importlib.import_module(self.__name__)
        self.__dict__.update({k: v for k, v in vars(module).items() if k not in ("__name__", "__spec__")})
        # a class with __getattr__ routes every read through a hook (a few lookups more per read): now
        # that the names are here, this object is a plain module
        self.__class__ = _LoadedModule  # type: ignore[assignment]  # a module may change its class
        return getattr(module, name)


class _LoadedModule(ModuleType):
    """A :class:`_LazyModule` once it holds its module's names (a missing name is an ``AttributeError``)."""


def lazy_module(name: str) -> Any:
    """``name``, imported on the first read of one of its attributes."""
    return _LazyModule(name)
