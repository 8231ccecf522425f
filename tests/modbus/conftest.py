"""Fixtures for the Modbus tests (the leak check is the root conftest's)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
