"""The set-up the Makefile promises: Japanese JupyterLab, the ebpm kernel, CI calling make test."""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_commands():
    lines = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line]
    block = lines[lines.index("```bash") + 1 : lines.index("```bash") + 3]
    assert [b.split("#")[0].strip() for b in block] == ["make demo", "make test"]


def test_ci_runs_make_test():
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)


def test_jupyterlab_is_japanese_by_default():
    overrides = json.loads((ROOT / "tools" / "jupyterlab-overrides.json").read_text())
    assert overrides["@jupyterlab/translation-extension:plugin"]["locale"] == "ja_JP"
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if installed.exists():  # installed by `make setup`
        assert json.loads(installed.read_text()) == overrides


def test_ebpm_kernel_and_language_pack_installed():
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "ebpm" in json.loads(out.stdout)["kernelspecs"]
    from importlib.metadata import version

    assert version("jupyterlab-language-pack-ja-JP")


def test_lab_binds_loopback_with_a_token():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nlab:") : makefile.index("# --- quality")]
    assert "--ServerApp.ip=127.0.0.1" in recipe and "--IdentityProvider.token=" in recipe


def test_ebpm_kernel_starts_with_the_import_fixes():
    """The planners' kernel (JupyterLab) runs through ebpm.report.launcher: rfc3987_syntax stubbed."""
    from ebpm.report.launcher import kernelspec
    from jupyter_client.manager import start_new_kernel

    assert kernelspec()["argv"][2:4] == ["-m", "ebpm.report.launcher"]
    km, kc = start_new_kernel(kernel_name="ebpm", startup_timeout=120)
    try:
        reply = kc.execute_interactive(
            "import sys",
            user_expressions={"stub": "repr(sys.modules.get('rfc3987_syntax', 'missing'))"},
            timeout=120,
        )
        assert reply["content"]["status"] == "ok"
        assert reply["content"]["user_expressions"]["stub"]["data"]["text/plain"] == "'None'"
        argv = km.kernel_spec.argv
        assert argv[argv.index("-m") + 1] == "ebpm.report.launcher"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
