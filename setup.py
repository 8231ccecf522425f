"""Only the package list lives here: ``firmware-sim/`` is imported as ``firmware_sim``, which
pyproject's static ``packages.find`` cannot express. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

sim = ["firmware_sim"] + [f"firmware_sim.{p}" for p in find_packages("firmware-sim")]
setup(packages=find_packages(include=["sync*", "edge*", "drivers*", "cloud*", "wims*"]) + sim)
