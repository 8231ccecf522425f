"""What a putaway is asked and what it answers: a receipt in, ranked locations with reasons out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Receipt:
    """Goods to put away: ``key`` names the receipt or putaway task (it keys the hold)."""

    key: str
    sku: str
    qty: int
    lot: str = ""

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"{self.key}: qty must be positive, not {self.qty}")


@dataclass(frozen=True, slots=True)
class Candidate:
    location: str
    fits: int  # units of this receipt that fit there now
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Allocation:
    location: str
    qty: int
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PutawaySuggestion:
    """Where to put a receipt: ``allocations`` (best first, overflow after), what did not fit, the ranking."""

    key: str
    sku: str
    lot: str
    qty: int
    allocations: tuple[Allocation, ...]
    unplaced: int
    alternatives: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """How much each soft criterion counts (the hard ones are never traded)."""

    velocity: float = 3.0
    consolidation: float = 2.0
    fit: float = 2.0
    fill: float = 1.0
    hazmat_space: float = 1.0
    temperature_upgrade: float = 1.0
