"""Serve simulated sensors over Modbus TCP or RTU (a pty pair or ``socket://``), with line faults.

``SensorLine`` wraps pymodbus' own server. Faults act on the bytes that leave the server
(``trace_packet``), so the client sees exactly what a faulty device would put on the wire: nothing,
or a frame whose CRC does not match. A request to a unit id nobody has is dropped, as on a real
RS-485 line (the pymodbus server alone would answer with an exception).

``PtyNullModem`` is a virtual null-modem cable: two pseudo-terminals whose master sides are copied
into each other, so the simulator opens one real tty path and the driver (or ``mbpoll``) the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty

from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from firmware_sim.modbus.sensors import SimSensor
from firmware_sim.ports import free_port


class SensorLine:
    """Several sensors on one line. ``async with SensorLine(sensors).tcp() as line: ...``"""

    def __init__(self, sensors: list[SimSensor]) -> None:
        self.sensors = {s.unit: s for s in sensors}
        self.replies_dropped = 0
        self.replies_corrupted = 0
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._rtu = False
        self.host = "127.0.0.1"
        self.port = 0
        self.serial_port = ""

    def __getitem__(self, unit: int) -> SimSensor:
        return self.sensors[unit]

    def _trace(self, sending: bool, data: bytes) -> bytes:
        if not sending or not data:
            return data
        unit = data[0] if self._rtu else (data[6] if len(data) > 6 else -1)
        sensor = self.sensors.get(unit)
        if sensor is None or "no_reply" in sensor.faults:
            self.replies_dropped += 1
            return b""
        if "crc" in sensor.faults:
            self.replies_corrupted += 1
            if self._rtu:
                return data[:-1] + bytes([data[-1] ^ 0x5A])
            return data[:4] + (len(data) + 40).to_bytes(2, "big") + data[6:]
        return data

    def _devices(self) -> list[SimDevice]:
        # Unit 0 catches requests for ids nobody has; ``_trace`` then drops the reply (a silent slave).
        catch_all = SimDevice(id=0, simdata=SimData(0, count=1, values=0, datatype=DataType.REGISTERS))
        return [*(s.device() for s in self.sensors.values()), catch_all]

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> SensorLine:
        self.host, self.port = host, port or free_port(host)
        self._server = ModbusTcpServer(self._devices(), address=(self.host, self.port), trace_packet=self._trace)
        await self._server.serve_forever(background=True)
        return self

    async def start_rtu(self, port: str, baudrate: int = 9600) -> SensorLine:
        """Serve RTU on a serial path (a pty slave) or ``socket://host:port``."""
        self._rtu = True
        self.serial_port = port
        self._server = ModbusSerialServer(
            self._devices(), framer=FramerType.RTU, port=port, baudrate=baudrate, trace_packet=self._trace
        )
        await self._server.serve_forever(background=True)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    async def __aenter__(self) -> SensorLine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class PtyNullModem:
    """Two ptys cross-connected: ``device_path`` for the simulator, ``host_path`` for the client.

    ``noise`` (bytes) is injected towards the host once, to test that garbage on the line is survived.
    """

    def __init__(self) -> None:
        self._fds: list[int] = []
        self.device_path = ""
        self.host_path = ""
        self._masters: tuple[int, int] = (-1, -1)
        self.bytes_to_host = 0
        self.bytes_to_device = 0
        self.connected = True

    def open(self) -> PtyNullModem:
        m1, s1 = os.openpty()
        m2, s2 = os.openpty()
        for fd in (m1, s1, m2, s2):
            tty.setraw(fd)
        self._fds = [m1, s1, m2, s2]
        self._masters = (m1, m2)
        self.device_path, self.host_path = os.ttyname(s1), os.ttyname(s2)
        for fd in (m1, m2):
            os.set_blocking(fd, False)
        loop = asyncio.get_running_loop()
        loop.add_reader(m1, self._pump, m1, m2)
        loop.add_reader(m2, self._pump, m2, m1)
        return self

    def _pump(self, src: int, dst: int) -> None:
        try:
            data = os.read(src, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # the other side closed its slave (EIO); nothing to forward
        if not data or not self.connected:
            return  # an unplugged cable swallows everything
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(dst, data)
        if src == self._masters[0]:
            self.bytes_to_host += len(data)
        else:
            self.bytes_to_device += len(data)

    def inject_to_host(self, data: bytes) -> None:
        os.write(self._masters[1], data)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for fd in self._masters:
            if fd >= 0:
                loop.remove_reader(fd)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []
        self._masters = (-1, -1)

    async def __aenter__(self) -> PtyNullModem:
        return self.open()

    async def __aexit__(self, *exc: object) -> None:
        self.close()
