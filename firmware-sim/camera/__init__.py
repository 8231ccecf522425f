"""Simulated camera: rendered barcode images with blur, rotation, noise and glare, as frames or a video."""

from firmware_sim.camera.render import (
    CLEAN,
    CodeSpec,
    Distortion,
    frames,
    gs1_check_digit,
    random_distortion,
    render,
    sample_specs,
    write_video,
)

__all__ = [
    "CLEAN",
    "CodeSpec",
    "Distortion",
    "frames",
    "gs1_check_digit",
    "random_distortion",
    "render",
    "sample_specs",
    "write_video",
]
