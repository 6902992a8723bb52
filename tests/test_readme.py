"""The README's examples for the harness and the plugin, executed as a user would copy them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gridtwin.fixtures.servers import free_port

README = (Path(__file__).parents[1] / "README.md").read_text()
BIN = Path(sys.executable).parent


def section(heading: str) -> str:
    start = README.index(f"## {heading}")
    end = README.find("\n## ", start + 3)
    return README[start:end if end > 0 else None]


def blocks(heading: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", section(heading), re.DOTALL)


def shell_words(line: str) -> list[str]:
    """A README command line as argv, ``.venv/bin/x`` meaning this interpreter's ``x``."""
    words = line.split()
    if words[0].startswith(".venv/bin/"):
        words[0] = str(BIN / words[0].removeprefix(".venv/bin/"))
    return words


def test_contract_in_process_example(tmp_path: Path) -> None:
    (line,) = blocks("`gridtwin contract`", "sh")[0].strip().splitlines()
    r = subprocess.run(shell_words(line), cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASSED" in r.stdout and (tmp_path / "contract.xml").read_text().startswith("<?xml")


def test_contract_against_a_served_world_example(tmp_path: Path) -> None:
    serve_line, contract_line = blocks("`gridtwin contract`", "sh")[1].strip().splitlines()
    port = str(free_port())  # the README's port may be taken here
    serve = shell_words(serve_line.rstrip(" &").replace("8011", port))
    server = subprocess.Popen(serve, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_sim/v1/clock", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        r = subprocess.run(shell_words(contract_line.replace("8011", port)), cwd=tmp_path, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "linking" in r.stdout and "<h1>gridtwin contract: PASSED" in (tmp_path / "contract.html").read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_plugin_example_in_a_project_of_its_own(tmp_path: Path) -> None:
    """The test file of the README in an empty folder: the plugin comes from the installed entry point."""
    (code,) = blocks("The pytest plugin", "python")
    (tmp_path / "test_energy.py").write_text(code)
    (line,) = blocks("The pytest plugin", "sh")[0].strip().splitlines()
    words = shell_words(line)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GRIDTWIN_"))}
    r = subprocess.run([*words, "-p", "no:cacheprovider", "-q"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 passed" in r.stdout, r.stdout
