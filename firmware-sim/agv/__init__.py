"""Simulated AGVs speaking VDA 5050 2.1.0 over MQTT, for tests, the benchmark and the demo."""

from firmware_sim.agv.clock import ScaledClock
from firmware_sim.agv.floor import Collision, Floor
from firmware_sim.agv.link import AgvLink, factsheet
from firmware_sim.agv.vehicle import AgvSim

__all__ = ["AgvLink", "AgvSim", "Collision", "Floor", "ScaledClock", "factsheet"]
