"""A virtual badge for vsmartcard-vpcd and a private pcscd to plug it into (tests and demos)."""

from firmware_sim.badge.pcscd import PcscdError, PcscdWithVpcd, vpcd_driver
from firmware_sim.badge.vcard import CONTACTLESS_ATR, VirtualBadge

__all__ = ["CONTACTLESS_ATR", "PcscdError", "PcscdWithVpcd", "VirtualBadge", "vpcd_driver"]
