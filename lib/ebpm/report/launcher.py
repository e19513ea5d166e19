"""The `ebpm` Jupyter kernel for planners: ipykernel started with the same import fixes as report kernels.

``python -m ebpm.report.launcher -f CONNECTION_FILE`` runs the kernel;
``python -m ebpm.report.launcher install`` writes the ``ebpm`` kernelspec into this environment
(``make setup`` does it), so that JupyterLab's kernel pays no more start-up than a report kernel.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

KERNEL_NAME = "ebpm"
DISPLAY_NAME = "ebpm (Python 3)"


def _apply_import_fixes() -> None:
    # jsonschema (imported by altair) would compile rfc3987_syntax's URI grammar (about a second);
    # altair never checks URI formats. Same fix as ebpm.report.kernel and the CLI.
    sys.modules.setdefault("rfc3987_syntax", None)


def kernelspec() -> dict:
    """The kernel.json of the ``ebpm`` kernel for the running interpreter."""
    return {
        "argv": [
            sys.executable,
            "-Xfrozen_modules=off",
            "-m",
            "ebpm.report.launcher",
            "-f",
            "{connection_file}",
        ],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": True},
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }


def install(prefix: str | None = None) -> str:
    """Install the ``ebpm`` kernelspec under ``prefix`` (default: this environment); return its path."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernel.json").write_text(json.dumps(kernelspec(), indent=1), encoding="utf-8")
        return KernelSpecManager().install_kernel_spec(
            tmp, KERNEL_NAME, prefix=prefix or sys.prefix
        )


def main(argv: list[str] | None = None) -> None:
    """Run the kernel, or ``install`` the kernelspec."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["install"]:
        print(install())
        return
    _apply_import_fixes()
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance(argv=args)


if __name__ == "__main__":
    main()
