"""``cityops cap ...``: CAP 1.2 public warnings (docs/CAP.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cityops.cli_support import console

cap_app = typer.Typer(help="CAP 1.2 public warnings.", no_args_is_help=True)


@cap_app.command("check")
def check_cmd(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    trusted_ca: Annotated[
        Path | None,
        typer.Option(help="PEM file of trusted signer CAs (without it: integrity only)"),
    ] = None,
) -> None:
    """Print each file's verdict (valid, or invalid with the reasons; signature valid, invalid
    or absent); exit 1 when any file is invalid."""
    from cityops.cap.check import check

    bad = 0
    for path in files:
        verdict = check(path.read_bytes(), trusted_ca=trusted_ca)
        bad += not verdict.valid
        colour = "green" if verdict.valid else "red"
        console.print(f"[{colour}]{path}[/{colour}]: ", end="")
        console.print(verdict.summary(), markup=False, highlight=False, soft_wrap=True)
    if bad:
        console.print(f"{bad} of {len(files)} file(s) invalid", markup=False)
        raise typer.Exit(1)
