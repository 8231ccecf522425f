"""A simulated LLRP 1.0.1 fixed RFID reader (TCP 5084) with a scripted or random tag population.

Independent of ``drivers.rfid`` by design: its bytes are hand-written from the standard.
"""

from firmware_sim.llrp.reader import RealClock, SimClock, SimReader
from firmware_sim.llrp.tags import Pass, Scenario, Standing, check_digit, random_population, sgtin96, sscc96

__all__ = [
    "Pass",
    "RealClock",
    "Scenario",
    "SimClock",
    "SimReader",
    "Standing",
    "check_digit",
    "random_population",
    "sgtin96",
    "sscc96",
]
