"""``python -m firmware_sim.scanner``: a scanner on a pty for manual tests and demos.

Prints the pty path on its first line. Each line on stdin is one scan, ``[symbology] payload``, where
``<GS>`` or ``\\x1d`` stands for the group separator (``]C1 0109506000134352<GS>10LOT1``); a line
``!raw <escaped bytes>`` writes bytes as they are. What the host writes back is printed as ``host: <hex>``.
"""

from __future__ import annotations

import argparse
import select
import sys
import time

from firmware_sim.scanner.sim import GS, ScannerSim

_NAMES = {"": b"", "CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "STX": b"\x02", "ETX": b"\x03"}


def _bytes(value: str) -> bytes:
    named = _NAMES.get(value.upper())
    if named is not None:
        return named
    return value.encode("latin-1").decode("unicode_escape").encode("latin-1")


def _unescape(text: str) -> str:
    return text.replace("<GS>", GS).replace("\\x1d", GS).replace("\\x1D", GS)


def handle_line(sim: ScannerSim, line: str, default_symbology: str) -> None:
    """Apply one command line from stdin."""
    line = line.rstrip("\n")
    if not line:
        return
    if line.startswith("!raw "):
        sim.write_raw(_bytes(line[5:]))
        return
    symbology, payload = default_symbology, line
    head, _, rest = line.partition(" ")
    if head.startswith("]") and len(head) == 3 and rest:
        symbology, payload = head, rest
    sim.scan(_unescape(payload), symbology)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m firmware_sim.scanner", description=__doc__)
    ap.add_argument("--prefix", default="", help="STX, a byte name or an escaped string (default none)")
    ap.add_argument("--suffix", default="CR", help="CR, LF, CRLF, ETX or an escaped string (default CR)")
    ap.add_argument("--symbology", default="]C1", help="AIM identifier for lines that give none")
    ap.add_argument("--no-aim", action="store_true", help="send no symbology identifier")
    ap.add_argument("--link", help="keep a symlink at this path pointing to the pty (like /dev/serial/by-id)")
    ap.add_argument("--scan", action="append", default=[], help="scan this after --delay (repeatable)")
    ap.add_argument(
        "--delay",
        type=float,
        default=1.0,
        help="seconds before the --scan reads: a host opening the port flushes what came before, like a real gun",
    )
    args = ap.parse_args(argv)
    sim = ScannerSim(prefix=_bytes(args.prefix), suffix=_bytes(args.suffix), aim=not args.no_aim, link=args.link)
    path = sim.plug()
    print(path, flush=True)
    try:
        if args.scan:
            time.sleep(args.delay)
        for item in args.scan:
            handle_line(sim, item, args.symbology)
        stdin_open = True
        while True:
            readable = [sys.stdin] if stdin_open else []
            ready, _, _ = select.select(readable, [], [], 0.05)
            if ready:
                line = sys.stdin.readline()
                if line == "":
                    stdin_open = False  # keep serving the pty until killed
                else:
                    handle_line(sim, line, args.symbology)
            got = sim.poll_host()
            if got:
                print(f"host: {got.hex()}", flush=True)
    except KeyboardInterrupt:
        return 0
    finally:
        sim.unplug()


if __name__ == "__main__":
    sys.exit(main())
