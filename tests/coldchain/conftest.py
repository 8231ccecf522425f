"""Fixtures for the cold-chain suite: the cold-chain site and its edge context (``tests.support.coldchain``)."""

from __future__ import annotations

from tests.support.coldchain import config, ctx

__all__ = ["config", "ctx"]
