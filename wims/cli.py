"""``wims``: the one command line of WIMS, wired here from its parts.

This is the composition root: the only place that puts the gateway's commands (``edge.cli``), the
cloud's (``cloud.cli``), the simulators (``firmware_sim``) and the demo (``wims.demo``) under one
command. ``edge`` and ``cloud`` never import each other, and neither imports the simulators.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Annotated

import typer

from edge.cli import edge_app, out, reconcile_app, site_config
from sync.i18n import N_
from sync.i18n.console import run, tr

app = typer.Typer(help="WIMS: warehouse integration management system.", no_args_is_help=True)
app.add_typer(edge_app, name="edge")
app.add_typer(reconcile_app, name="reconcile")
sim_app = typer.Typer(help="Simulated devices (firmware-sim) to point a gateway at.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")


@app.command("demo")
def demo(
    config: Annotated[Path, typer.Option("--config", "-c", help="Site config to run.")] = Path(
        "configs/shanghai-cold.toml"
    ),
    ops: Annotated[int, typer.Option(help="How many floor operations to simulate.")] = 200,
    keep: Annotated[bool, typer.Option(help="Keep the demo journal in var/demo instead of a temp dir.")] = False,
) -> None:
    """Run a gateway on an example site with simulated floor work, and show what it recorded."""
    from wims.demo.run import run_demo

    cfg = site_config(config)
    run_demo(cfg, ops=ops, keep=keep, console=out)


def _sim_command(name: str, module: str, help_text: str) -> None:
    @sim_app.command(
        name,
        help=f"{help_text} Options are the simulator's own: `wims sim {name} --help`.",
        add_help_option=False,  # --help goes to the simulator, which documents its own options
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def _run(ctx: typer.Context) -> None:
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            typer.echo(tr(f"simulator {name} is not available: {exc}"), err=True)
            raise typer.Exit(1) from None
        sys.argv = [f"wims sim {name}", *ctx.args]
        mod.main()


_sim_command("rfid", "firmware_sim.llrp.__main__", N_("An LLRP RFID reader on TCP (default port 5084)."))
_sim_command("scanner", "firmware_sim.scanner.__main__", N_("A serial barcode scanner on a pty."))
_sim_command("camera", "firmware_sim.camera.__main__", N_("A camera that renders barcode images."))
_sim_command("modbus", "firmware_sim.modbus.__main__", N_("Modbus temperature/humidity sensors (RTU or TCP)."))
_sim_command("agv", "firmware_sim.agv.__main__", N_("VDA 5050 AGVs over MQTT."))


_CLOUD_HELP = N_("The central cloud service.")
_PLAN_HELP = N_("Planning: forecasts, rebalancing, order routing, imports (the cloud's database).")


def _mount_cloud(argv: list[str]) -> None:
    """Mount ``wims cloud`` for real only when it is the command being run.

    The cloud CLI imports SQLAlchemy, Alembic and the server (about 0.2 s, measured with
    ``python -X importtime``), which a gateway command on a small appliance should not wait for. Any
    other command line sees a placeholder with the same name and help, so ``wims --help`` still
    lists it. A gateway installed without the cloud's packages gets no ``cloud`` command at all.
    """
    if argv[1:2] == ["cloud"]:
        try:
            from cloud.cli import app as cloud_app
        except ImportError:
            return
        app.add_typer(cloud_app, name="cloud", help=_CLOUD_HELP)
    elif importlib.util.find_spec("cloud.cli") is not None:
        app.add_typer(typer.Typer(), name="cloud", help=f"{_CLOUD_HELP} `wims cloud --help` lists its commands.")
    # ``wims plan``: the cloud's planning commands, mounted the same way (they import the cloud's stack)
    if argv[1:2] == ["plan"]:
        try:
            from cloud.planning.cli import app as plan_app
        except ImportError:
            return
        app.add_typer(plan_app, name="plan", help=_PLAN_HELP)
    elif importlib.util.find_spec("cloud.planning.cli") is not None:
        app.add_typer(typer.Typer(), name="plan", help=f"{_PLAN_HELP} `wims plan --help` lists its commands.")


def main() -> None:
    _mount_cloud(sys.argv)
    run(app)  # in WIMS_LANG's or the locale's language: messages, and the help (sync.i18n.console)
