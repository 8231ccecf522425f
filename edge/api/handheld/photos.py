"""``POST /v1/photos``: a photo for an exception report, stored beside the journal, named by its SHA-256.

The exception op refers to it as ``photo:sha256:<hex>`` (its ``ref``); storing the same photo twice is
the same file, so a handheld replaying its outbox cannot duplicate it. Only JPEG, PNG and WebP, up to
``MAX_BYTES``; ``GET /v1/photos/{sha256}`` serves it back.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from edge.api.deps import Ctx

router = APIRouter(tags=["handheld"])
MAX_BYTES = 8 * 1024 * 1024
_TYPES = {b"\xff\xd8\xff": "jpg", b"\x89PNG": "png", b"RIFF": "webp"}
_HEX = re.compile(r"^[0-9a-f]{64}$")


def photo_dir(ctx: Ctx) -> Path:
    return ctx.config.store.path.parent / "photos"


@router.post("/photos", status_code=201)
async def post_photo(request: Request, ctx: Ctx) -> dict[str, str]:
    if int(request.headers.get("content-length") or 0) > MAX_BYTES:
        raise HTTPException(413, f"a photo may have at most {MAX_BYTES} bytes")
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BYTES:
            raise HTTPException(413, f"a photo may have at most {MAX_BYTES} bytes")
    digest = save_photo(ctx, data)
    return {"ref": f"photo:sha256:{digest}", "bytes": str(len(data))}


def is_photo(data: bytes) -> bool:
    """Whether ``data`` is a JPEG, PNG or WebP image (by its magic bytes)."""
    return any(data.startswith(magic) for magic in _TYPES)


def save_photo(ctx: Ctx, data: bytes) -> str:
    """Keep a photo beside the journal (once, however often it is sent); returns its SHA-256.
    415 unless it is JPEG, PNG or WebP."""
    ext = next((e for magic, e in _TYPES.items() if data.startswith(magic)), None)
    if ext is None:
        raise HTTPException(415, "a photo must be JPEG, PNG or WebP")
    digest = hashlib.sha256(data).hexdigest()
    folder = photo_dir(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.{ext}"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return digest


@router.get("/photos/{digest}")
async def get_photo(digest: str, ctx: Ctx) -> FileResponse:
    if not _HEX.match(digest):
        raise HTTPException(404, "no such photo")
    for path in photo_dir(ctx).glob(f"{digest}.*"):
        if path.suffix != ".tmp":
            return FileResponse(path)
    raise HTTPException(404, "no such photo")
