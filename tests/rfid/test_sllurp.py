"""The simulator with an independent LLRP client: sllurp (GPL-3.0, test-only; skipped when absent).

sllurp runs its own thread, so it is driven from a worker thread while the simulator serves on the
test's event loop. Its ROSpec differs from ours (Tag_Observation stop trigger, a C1G2 inventory
command), which exercises the simulator beyond what our own driver sends.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from drivers.rfid import decode_message
from firmware_sim.llrp import SimReader, random_population, wire

sllurp_llrp = pytest.importorskip("sllurp.llrp")


async def test_sllurp_reads_tags_from_the_simulator() -> None:
    tags: list[dict[str, Any]] = []
    got = threading.Event()

    def on_tags(_reader: object, reports: list[dict[str, Any]]) -> None:
        tags.extend(reports)
        if len({t["EPC"] for t in tags}) >= 5:
            got.set()

    async with SimReader(random_population(5, antennas=(1, 2)), round_s=0.01) as sim:

        def client() -> None:
            config = sllurp_llrp.LLRPReaderConfig({"antennas": [1, 2], "report_every_n_tags": 5})
            reader = sllurp_llrp.LLRPReaderClient("127.0.0.1", sim.port, config)
            reader.add_tag_report_callback(on_tags)
            reader.connect()
            try:
                got.wait(10)
            finally:
                reader.disconnect()
                reader.join(5)

        await asyncio.to_thread(client)
        received = list(sim.received)
        rospec = decode_message(wire.frame(wire.ADD_ROSPEC, 1, sim.last_body[wire.ADD_ROSPEC]))
    assert got.is_set()
    assert {t["EPC"] for t in tags} == {f"3034257bf7194e400000000{n}".encode() for n in range(1, 6)}
    assert all(t["AntennaID"] in (1, 2) and -110 <= t["PeakRSSI"] <= -20 for t in tags)
    assert received[:8] == [
        wire.GET_READER_CAPABILITIES,
        wire.GET_READER_CONFIG,
        wire.ENABLE_EVENTS_AND_REPORTS,
        wire.SET_READER_CONFIG,
        wire.DELETE_ACCESSSPEC,
        wire.DELETE_ROSPEC,
        wire.ADD_ROSPEC,
        wire.ENABLE_ROSPEC,
    ]
    # and our table-driven codec reads sllurp's ROSpec, down to its C1G2 singulation control
    names = {p.name for p in rospec.walk()}
    assert {"ROSpec", "AISpecStopTrigger", "TagObservationTrigger", "C1G2SingulationControl"} <= names


async def test_sllurp_asking_for_all_antennas_gets_tags() -> None:
    """LLRP 1.0.1: an AISpec AntennaID of 0 means every antenna; an independent client asking so reads tags
    standing in front of antennas 1 and 2 alike."""
    tags: list[dict[str, Any]] = []
    got = threading.Event()

    def on_tags(_reader: object, reports: list[dict[str, Any]]) -> None:
        tags.extend(reports)
        if len({t["EPC"] for t in tags}) >= 5:
            got.set()

    async with SimReader(random_population(5, antennas=(1, 2)), round_s=0.01) as sim:

        def client() -> None:
            config = sllurp_llrp.LLRPReaderConfig({"antennas": [0], "report_every_n_tags": 5})
            reader = sllurp_llrp.LLRPReaderClient("127.0.0.1", sim.port, config)
            reader.add_tag_report_callback(on_tags)
            reader.connect()
            try:
                got.wait(10)
            finally:
                reader.disconnect()
                reader.join(5)

        await asyncio.to_thread(client)
    assert got.is_set(), "no tag for a client asking for all antennas"
    assert {t["AntennaID"] for t in tags} == {1, 2}
