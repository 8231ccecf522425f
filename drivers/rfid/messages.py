"""The messages the session sends and reads, built on the generic codec.

Kept apart from the session so the ROSpec a reader gets can be checked byte for byte in tests and the
benchmark can time report decoding without sockets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from drivers.rfid.codec import Message, Param, decode_message, message, param
from drivers.rfid.defs import tables
from drivers.rfid.epc import decode_epc
from drivers.rfid.events import TagRead
from drivers.rfid.options import ReaderOptions

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _enum(name: str, entry: str) -> int:
    return tables().enums[name][entry]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the session needs from GET_READER_CAPABILITIES_RESPONSE."""

    max_antennas: int
    firmware: str
    manufacturer: int
    model: int
    power_table: dict[int, float]
    """Transmit power level index -> dBm."""

    def power_index(self, dbm: float | None) -> int:
        """The table index nearest ``dbm``; 0 (reader default) when no power is asked or known."""
        if dbm is None or not self.power_table:
            return 0
        return min(self.power_table, key=lambda i: (abs(self.power_table[i] - dbm), i))


def parse_capabilities(msg: Message) -> Capabilities:
    general = msg.find("GeneralDeviceCapabilities")
    table: dict[int, float] = {}
    regulatory = msg.find("RegulatoryCapabilities")
    uhf = regulatory.find("UHFBandCapabilities") if regulatory else None
    if uhf is not None:
        for entry in uhf.find_all("TransmitPowerLevelTableEntry"):
            table[entry.int("Index")] = entry.int("TransmitPowerValue") / 100
    if general is None:
        return Capabilities(0, "", 0, 0, table)
    firmware = general.fields.get("ReaderFirmwareVersion", "")
    return Capabilities(
        max_antennas=general.int("MaxNumberOfAntennaSupported"),
        firmware=firmware if isinstance(firmware, str) else "",
        manufacturer=general.int("DeviceManufacturerName"),
        model=general.int("ModelName"),
        power_table=table,
    )


def status_of(msg: Message) -> tuple[int, str]:
    """(StatusCode, ErrorDescription) of a response; a response without LLRPStatus counts as an error."""
    st = msg.find("LLRPStatus")
    if st is None:
        return -1, "response carries no LLRPStatus"
    desc = st.fields.get("ErrorDescription", "")
    return st.int("StatusCode"), desc if isinstance(desc, str) else ""


def set_reader_config(msg_id: int, opts: ReaderOptions) -> Message:
    keepalive = param(
        "KeepaliveSpec",
        KeepaliveTriggerType=_enum("KeepaliveTriggerType", "Periodic" if opts.keepalive_ms else "Null"),
        PeriodicTriggerValue=opts.keepalive_ms,
    )
    return message("SET_READER_CONFIG", msg_id, keepalive, ResetToFactoryDefault=int(opts.reset_to_factory_default))


def add_rospec(msg_id: int, opts: ReaderOptions, power_index: int) -> Message:
    """An ROSpec inventorying ``opts.antennas``, reporting every N tags and/or every T ms."""
    periodic = opts.report_every_ms > 0
    start = param("ROSpecStartTrigger", ROSpecStartTriggerType=_enum("ROSpecStartTriggerType", "Immediate"))
    if periodic:
        start = param(
            "ROSpecStartTrigger",
            param("PeriodicTriggerValue", Offset=0, Period=opts.report_every_ms),
            ROSpecStartTriggerType=_enum("ROSpecStartTriggerType", "Periodic"),
        )
    never = param("ROSpecStopTrigger", ROSpecStopTriggerType=0, DurationTriggerValue=0)
    boundary = param("ROBoundarySpec", start, never)
    stop = param(
        "AISpecStopTrigger",
        AISpecStopTriggerType=_enum("AISpecStopTriggerType", "Duration" if periodic else "Null"),
        DurationTrigger=opts.report_every_ms,
    )
    antenna_configs = (
        [
            param(
                "AntennaConfiguration",
                param("RFTransmitter", HopTableID=1, ChannelIndex=1, TransmitPower=power_index),
                AntennaID=a,
            )
            for a in opts.antennas
        ]
        if power_index
        else []
    )
    inventory = param(
        "InventoryParameterSpec",
        *antenna_configs,
        InventoryParameterSpecID=1,
        ProtocolID=_enum("AirProtocols", "EPCGlobalClass1Gen2"),
    )
    aispec = param("AISpec", stop, inventory, AntennaIDs=tuple(opts.antennas))
    selector = param(
        "TagReportContentSelector",
        EnableROSpecID=1,
        EnableSpecIndex=0,
        EnableInventoryParameterSpecID=0,
        EnableAntennaID=1,
        EnableChannelIndex=0,
        EnablePeakRSSI=1,
        EnableFirstSeenTimestamp=1,
        EnableLastSeenTimestamp=1,
        EnableTagSeenCount=1,
        EnableAccessSpecID=0,
    )
    report = param(
        "ROReportSpec",
        selector,
        ROReportTrigger=_enum("ROReportTriggerType", "Upon_N_Tags_Or_End_Of_AISpec"),
        N=opts.report_every_n,
    )
    rospec = param("ROSpec", boundary, aispec, report, ROSpecID=opts.rospec_id, Priority=0, CurrentState=0)
    return message("ADD_ROSPEC", msg_id, rospec)


_MAX_US = int((datetime(9999, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) * 1_000_000


def _ts(p: Param | None) -> datetime | None:
    """A UTC timestamp; one no calendar can hold (a broken reader clock) is treated as absent."""
    if p is None:
        return None
    us = p.int("Microseconds")
    return _EPOCH + timedelta(microseconds=us) if 0 <= us < _MAX_US else None


def tag_reads(report: Message, received_at: datetime) -> list[TagRead]:
    """The TagReportData of an RO_ACCESS_REPORT as ``TagRead``s.

    The standard lets a reader leave out an enabled field whose value did not change since the last
    TagReportData (13.2.3); such a field is carried over from the previous tag in this report.
    """
    out: list[TagRead] = []
    antenna, rssi, rospec = 0, None, None
    for data in report.params:
        if data.name != "TagReportData":
            continue
        epc_bytes = b""
        first = last = None
        count = 1
        for p in data.params:
            name = p.name
            if name == "EPC_96" or name == "EPCData":
                value = p.fields.get("EPC", b"")
                epc_bytes = value if isinstance(value, bytes) else b""
            elif name == "AntennaID":
                antenna = p.int("AntennaID")
            elif name == "PeakRSSI":
                rssi = p.int("PeakRSSI")
            elif name == "FirstSeenTimestampUTC":
                first = _ts(p)
            elif name == "LastSeenTimestampUTC":
                last = _ts(p)
            elif name == "TagSeenCount":
                count = p.int("TagCount", 1)
            elif name == "ROSpecID":
                rospec = p.int("ROSpecID")
        out.append(TagRead(decode_epc(epc_bytes), antenna, rssi, first, last, count, received_at, rospec))
    return out


def decode_report(frame: bytes, received_at: datetime) -> list[TagRead]:
    """Frame bytes of an RO_ACCESS_REPORT straight to tag reads (the benchmark's hot path)."""
    return tag_reads(decode_message(frame), received_at)
