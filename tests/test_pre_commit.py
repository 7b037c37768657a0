"""The git hooks (.pre-commit-config.yaml): the file is valid, every hook runs from the
repository's own .venv, and the ruff hook refuses a file with a lint error and passes a clean one
(run in a scratch repository, so nothing here is stashed or touched)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".pre-commit-config.yaml"
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def test_the_config_is_valid_and_its_hooks_use_the_venv_only():
    done = subprocess.run(
        [*PRE_COMMIT, "validate-config", str(CONFIG)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = [hook for repo in yaml.safe_load(CONFIG.read_text())["repos"] for hook in repo["hooks"]]
    assert {hook["id"] for hook in hooks} >= {
        "ruff",
        "ruff-format",
        "import-linter",
        "mypy",
        "api-client-drift",
    }
    for hook in hooks:  # nothing fetched from the network: local hooks from .venv
        assert hook["language"] == "system" and hook["entry"].startswith(".venv/bin/"), hook


def test_the_ruff_hook_refuses_a_lint_error_and_passes_clean_code(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    shutil.copy(CONFIG, repo / ".pre-commit-config.yaml")
    (repo / ".venv").symlink_to(ROOT / ".venv")
    (repo / "bad.py").write_text("import os\n")
    (repo / "good.py").write_text("print('fine')\n")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}

    def ruff(name: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*PRE_COMMIT, "run", "ruff", "--files", name],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    bad = ruff("bad.py")
    assert bad.returncode == 1 and "F401" in bad.stdout, bad.stdout + bad.stderr
    good = ruff("good.py")
    assert good.returncode == 0, good.stdout + good.stderr


def test_the_format_hook_rewrites_an_unformatted_file(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    shutil.copy(CONFIG, repo / ".pre-commit-config.yaml")
    (repo / ".venv").symlink_to(ROOT / ".venv")
    (repo / "ugly.py").write_text("x = {  'a':1 }\n")
    # Staged, as in a commit: pre-commit sees a hook's rewrite as a change to a tracked file.
    subprocess.run(["git", "add", "ugly.py"], cwd=repo, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [*PRE_COMMIT, "run", "ruff-format", "--files", "ugly.py"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # it changed the file
    assert (repo / "ugly.py").read_text() == 'x = {"a": 1}\n'
