"""How an op moves stock: one pure function, shared by the edge projection and the cloud ledger.

Stock is a sum of signed deltas per (warehouse, sku, lot, location, status). Deltas commute, so any
arrival order gives the same balance. Stock in transit between warehouses is keyed by the transfer,
not by a location, and only the cloud keeps it: the edge sees its own floor.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.ops import (
    AdjustPayload,
    CountPayload,
    MovePayload,
    PackPayload,
    Payload,
    PickPayload,
    QcHoldPayload,
    QcReleasePayload,
    ReceivePayload,
    ReservePayload,
    ShipPayload,
    StockStatus,
    TransferInPayload,
    TransferOutPayload,
    UnreservePayload,
)


@dataclass(frozen=True, slots=True)
class StockKey:
    warehouse: str
    sku: str
    lot: str
    location: str
    status: StockStatus


@dataclass(frozen=True, slots=True)
class StockDelta:
    key: StockKey
    qty: int


@dataclass(frozen=True, slots=True)
class TransitDelta:
    """Stock of one transfer between leaving its source and arriving at its destination."""

    transfer_id: str
    from_warehouse: str
    to_warehouse: str
    sku: str
    lot: str
    qty: int


@dataclass(frozen=True, slots=True)
class Effect:
    stock: tuple[StockDelta, ...] = ()
    transit: tuple[TransitDelta, ...] = ()


NO_EFFECT = Effect()


def effect_of(payload: Payload, warehouse: str) -> Effect:
    """The stock deltas an op implies at ``warehouse`` (the warehouse of the gateway that made it)."""

    def d(location: str, status: StockStatus, qty: int) -> StockDelta:
        return StockDelta(StockKey(warehouse, payload.sku, payload.lot, location, status), qty)  # type: ignore[union-attr]

    match payload:
        case ReceivePayload():
            return Effect((d(payload.location, StockStatus(payload.status), payload.qty),))
        case MovePayload():  # and PutawayPayload, its subclass
            return Effect(
                (
                    d(payload.from_location, payload.status, -payload.qty),
                    d(payload.to_location, payload.status, payload.qty),
                )
            )
        case QcHoldPayload():
            return Effect(
                (
                    d(payload.location, StockStatus.AVAILABLE, -payload.qty),
                    d(payload.location, StockStatus.QC_HOLD, payload.qty),
                )
            )
        case QcReleasePayload():
            return Effect(
                (
                    d(payload.location, StockStatus.QC_HOLD, -payload.qty),
                    d(payload.location, StockStatus(payload.to_status), payload.qty),
                )
            )
        case UnreservePayload():
            return Effect(
                (
                    d(payload.location, StockStatus.RESERVED, -payload.qty),
                    d(payload.location, StockStatus.AVAILABLE, payload.qty),
                )
            )
        case ReservePayload():
            return Effect(
                (
                    d(payload.location, StockStatus.AVAILABLE, -payload.qty),
                    d(payload.location, StockStatus.RESERVED, payload.qty),
                )
            )
        case PickPayload():
            return Effect(
                (
                    d(payload.from_location, StockStatus(payload.from_status), -payload.qty),
                    d(payload.to_location, StockStatus.RESERVED, payload.qty),
                )
            )
        case ShipPayload():
            return Effect((d(payload.location, StockStatus.RESERVED, -payload.qty),))
        case TransferOutPayload():
            return Effect(
                (d(payload.location, StockStatus.AVAILABLE, -payload.qty),),
                (
                    TransitDelta(
                        payload.transfer_id, warehouse, payload.to_warehouse, payload.sku, payload.lot, payload.qty
                    ),
                ),
            )
        case TransferInPayload():
            return Effect(
                (d(payload.location, StockStatus(payload.status), payload.qty),),
                (
                    TransitDelta(
                        payload.transfer_id,
                        payload.from_warehouse,
                        warehouse,
                        payload.sku,
                        payload.lot,
                        -payload.qty,
                    ),
                ),
            )
        case AdjustPayload():
            return Effect((d(payload.location, payload.status, payload.qty_delta),))
        case CountPayload():
            if payload.delta == 0:
                return NO_EFFECT
            return Effect((d(payload.location, StockStatus.AVAILABLE, payload.delta),))
        case _:
            return NO_EFFECT


_LOCATION_FIELDS = ("location", "from_location", "to_location")
_location_fields_cache: dict[type, tuple[str, ...]] = {}


def stock_locations(payload: Payload) -> tuple[str, ...]:
    """Every location an op names (for master-data checks), including those of no-delta ops."""
    cls = type(payload)
    names = _location_fields_cache.get(cls)
    if names is None:
        names = _location_fields_cache[cls] = tuple(n for n in _LOCATION_FIELDS if n in cls.model_fields)
    return tuple(v for n in names if isinstance(v := getattr(payload, n), str))


def stock_skus(payload: Payload) -> tuple[str, ...]:
    """Every SKU an op names."""
    if "sku" in type(payload).model_fields:
        return (payload.sku,)  # type: ignore[union-attr]
    if isinstance(payload, PackPayload):
        return tuple(line.sku for line in payload.lines)
    return ()
