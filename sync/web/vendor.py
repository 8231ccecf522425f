"""The browser libraries the pages use, vendored from npm at exact versions: ``make assets`` refreshes them.

Every file a page loads is served by our own process (a gateway's LAN may have no internet, and a CDN
would let a third party change what runs on a handheld). ``python -m sync.web.vendor`` runs
``npm pack NAME@VERSION`` for each package below, unpacks it in a temporary folder and copies the listed
files, with the package's licence files, into ``sync/web/static/vendor/NAME/``; it writes ``VENDOR.txt``
there with each file's SHA-256. The copied files are committed, so nothing needs npm at run time or to
install WIMS. Bump a version here, run ``make assets``, and commit the result.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    licence: str
    files: tuple[str, ...]
    """Paths inside the package (below ``package/``) to copy, licence files included."""
    folder: str
    why: str


PACKAGES = (
    NpmPackage(
        "htmx.org",
        "2.0.11",
        "0BSD",
        ("dist/htmx.min.js", "LICENSE"),
        "htmx",
        "hx-get/hx-trigger on every page; the 2.x line (why not 4.x: README, 'The web pages').",
    ),
    NpmPackage(
        "htmx-ext-sse",
        "2.2.4",
        "0BSD",
        ("dist/sse.min.js", "LICENSE"),
        "htmx-ext-sse",
        "the SSE extension for htmx 2: a server-sent event re-fetches the panels it names.",
    ),
    NpmPackage(
        "echarts",
        "6.1.0",
        "Apache-2.0",
        ("dist/echarts.min.js", "LICENSE", "NOTICE", "licenses/LICENSE-d3"),
        "echarts",
        "charts on the dashboard and the reports (cloud only).",
    ),
    NpmPackage(
        "zxing-wasm",
        "3.1.6",
        "MIT",
        ("dist/iife/reader/index.js", "dist/reader/zxing_reader.wasm", "LICENSE"),
        "zxing-wasm",
        "the handheld's camera scanner: zxing-cpp (the gateway's own decoder) compiled to WebAssembly.",
    ),
)


def _pack(pkg: NpmPackage, work: Path) -> Path:
    """``npm pack`` the exact version into ``work`` and unpack it; returns the ``package/`` folder."""
    out = subprocess.run(
        ["npm", "pack", "--silent", f"{pkg.name}@{pkg.version}"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    )
    tgz = work / out.stdout.strip().splitlines()[-1]
    dest = work / pkg.folder
    with tarfile.open(tgz) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def refresh(target: Path = VENDOR_DIR) -> list[str]:
    """Re-vendor every package into ``target``; returns the lines written to ``VENDOR.txt``."""
    lines = ["# Written by `make assets` (python -m sync.web.vendor). Do not edit: change sync/web/vendor.py.", ""]
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in PACKAGES:
            root = _pack(pkg, Path(tmp))
            dest = target / pkg.folder
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            lines.append(f"{pkg.name}@{pkg.version} ({pkg.licence}): {pkg.why}")
            for rel in pkg.files:
                src = root / rel
                if not src.is_file():
                    raise SystemExit(f"{pkg.name}@{pkg.version} has no file {rel}")
                out = dest / Path(rel).name
                shutil.copyfile(src, out)
                digest = hashlib.sha256(out.read_bytes()).hexdigest()
                lines.append(f"  {pkg.folder}/{out.name} {digest}")
            lines.append("")
    (target / "VENDOR.txt").write_text("\n".join(lines))
    return lines


def main() -> None:
    if shutil.which("npm") is None:
        sys.exit("npm is needed to refresh the vendored assets (the committed ones work without it)")
    for line in refresh():
        print(line)


if __name__ == "__main__":
    main()
