"""Simulated serial barcode scanner on a pty (see ``sim.ScannerSim``; CLI: ``python -m firmware_sim.scanner``)."""

from firmware_sim.scanner.sim import GS, ScannerSim

__all__ = ["GS", "ScannerSim"]
