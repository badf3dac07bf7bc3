"""The command line: a thin layer over the `gkreport.workspace` stages (see app.py)."""

from __future__ import annotations

import gc
import os
import sys

import typer

from gkreport.cli.app import app
from gkreport.cli.help import UsageError, usage_message

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: usage errors become Chinese lines with exit 2; a closed
    pipe (`gkreport … | head`) ends quietly."""
    try:
        code = app(standalone_mode=False, prog_name="gkreport")
    except UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `gkreport`: the help, as Click does
            print(exc.format_message(), file=sys.stderr)  # type: ignore[attr-defined]
            sys.exit(2)
        from gkreport.cli.show import console

        console(stderr=True).print(usage_message(exc), markup=False, style="red")
        sys.exit(2)
    except BrokenPipeError:
        # Python would complain again when flushing stdout at exit: point it at devnull.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except (KeyboardInterrupt, typer.Abort):  # Ctrl-C, or Typer's word for it
        sys.exit(1)
    # The process ends here: the interpreter's last full collection over a big month's
    # objects (a tenth of a second at 1,000 forms) would only delay the prompt.
    gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)

