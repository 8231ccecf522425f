"""A virtual contactless badge for vsmartcard-vpcd, so pyscard sees a real reader through pcscd.

vpcd is a pcscd reader driver that listens on TCP (35963 for slot 0 by default) for a virtual card.
Framing: 2-byte big-endian length, then the payload. One-byte payloads are control: 0x00 power off,
0x01 power on, 0x02 reset (no reply), 0x04 ATR request (reply: the ATR). Longer payloads are APDUs
(reply: data + SW1 SW2). Connecting is inserting the card; closing the socket is removing it.

The card answers the PC/SC pseudo-APDU GET DATA (``FF CA 00 00 00``) with its UID, as contactless
readers do for MIFARE/DESFire badges, and ``6D 00`` to anything else. Standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

CONTACTLESS_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
"""PC/SC part 3 ATR of a contactless storage card (the shape readers report for MIFARE badges)."""

SW_OK = b"\x90\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_WRONG_LENGTH = b"\x6c"


class VirtualBadge:
    """One card. ``await card.insert()`` puts it on the reader, ``await card.remove()`` takes it off."""

    def __init__(
        self, uid: bytes | str, *, host: str = "127.0.0.1", port: int = 35963, atr: bytes = CONTACTLESS_ATR
    ) -> None:
        self.uid = bytes.fromhex(uid) if isinstance(uid, str) else uid
        self.host = host
        self.port = port
        self.atr = atr
        self.apdus: list[bytes] = []
        self.powered = False
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def inserted(self) -> bool:
        return self._task is not None and not self._task.done()

    async def insert(self, timeout: float = 5.0) -> None:
        """Connect to vpcd (retrying while pcscd starts up) and serve its requests in the background."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
                break
            except OSError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)
        self._writer = writer
        self._task = asyncio.create_task(self._serve(reader, writer), name=f"vbadge:{self.uid.hex()}")

    async def remove(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = None
        self.powered = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack(">H", await reader.readexactly(2))
                payload = await reader.readexactly(length)
                reply = self.handle(payload)
                if reply is not None:
                    writer.write(struct.pack(">H", len(reply)) + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # vpcd went away (pcscd stopped): the card is simply out

    def handle(self, payload: bytes) -> bytes | None:
        """One vpcd request in, the card's reply out (``None`` where the protocol expects none)."""
        if len(payload) == 1:
            code = payload[0]
            if code == 0x00:
                self.powered = False
            elif code in (0x01, 0x02):
                self.powered = True
            elif code == 0x04:
                return self.atr
            return None
        self.apdus.append(payload)
        return self.apdu(payload)

    def apdu(self, apdu: bytes) -> bytes:
        if len(apdu) >= 4 and apdu[0] == 0xFF and apdu[1] == 0xCA and apdu[2] == 0x00:
            le = apdu[4] if len(apdu) >= 5 else 0
            if le not in (0, len(self.uid)):
                return SW_WRONG_LENGTH + bytes([len(self.uid)])
            return self.uid + SW_OK
        return SW_INS_NOT_SUPPORTED
