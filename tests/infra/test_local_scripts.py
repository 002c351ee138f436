"""deploy/local's scripts, run for real: they say clearly what is missing, "up" twice is harmless,
"down" stops only what they started, and a second broker and cluster on other ports and data
directories come up and go down beside the running ones without touching them."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

LOCAL = Path(__file__).resolve().parents[2] / "deploy" / "local"
MISSING = ("java", "mvn", "apt-get", "docker")


def run(
    script: str, *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOCAL / script), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def kafka_answers(bootstrap: str) -> bool:
    probe = subprocess.run(
        ["python3", str(LOCAL / "kafka_ready.py"), bootstrap, "2"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


@pytest.fixture
def isolated(tmp_path: Path) -> dict[str, str]:
    """An environment with its own ports, data directories and jar cache, and a PATH without Java,
    Maven, apt or Docker (every other command of the machine is still there)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = bin_dir / entry.name
            if entry.name not in MISSING and not target.exists() and os.access(entry.path, os.X_OK):
                target.symlink_to(entry.path)
    env = {key: value for key, value in os.environ.items() if key not in {"JAVA_HOME", "VIRTUAL_ENV"}}
    env.update(
        PATH=str(bin_dir),
        RCM_LOCAL_DIR=str(tmp_path / "local"),
        RCM_KAFKA_JARS=str(tmp_path / "jars"),
        RCM_KAFKA_PORT=str(free_port()),
        RCM_KAFKA_CONTROLLER_PORT=str(free_port()),
        RCM_PG_PORT=str(free_port()),
    )
    env["BIN_DIR"] = str(bin_dir)
    return env


def fake_apt(env: dict[str, str]) -> Path:
    """An apt-get that records what it is asked and fails every install, as a broken mirror would
    (and a sudo that just runs the command, when the tests do not run as root); the file of calls."""
    bin_dir = Path(env["BIN_DIR"])
    calls = bin_dir.parent / "apt-calls"
    apt = bin_dir / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$*" >> {calls}\ncase "$*" in *install*) exit 100 ;; esac\n')
    apt.chmod(0o755)
    if os.getuid() != 0:
        sudo = bin_dir / "sudo"
        sudo.write_text('#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n')
        sudo.chmod(0o755)
    return calls


def use_real_java(env: dict[str, str]) -> None:
    real_java = shutil.which("java")
    if real_java is None:
        pytest.fail("the local infrastructure needs Java 17+ on this machine", pytrace=False)
    (Path(env["BIN_DIR"]) / "java").symlink_to(real_java)


@pytest.mark.unit
def test_without_java_or_apt_kafka_says_what_to_install(isolated: dict[str, str]) -> None:
    result = run("kafka.sh", "up", env=isolated)
    assert result.returncode == 1
    assert "Java 17+ is required" in result.stderr and "apt-get is not available" in result.stderr
    assert not (Path(isolated["RCM_LOCAL_DIR"]) / "kafka" / "kafka.pid").exists()


@pytest.mark.unit
def test_without_java_kafka_installs_it_with_apt(isolated: dict[str, str]) -> None:
    calls = fake_apt(isolated)
    result = run("kafka.sh", "up", env=isolated)
    assert result.returncode == 1
    assert "installing Java from Debian's packages" in result.stderr
    assert "apt-get install default-jre-headless failed" in result.stderr
    asked = calls.read_text().splitlines()
    assert (
        asked[0].startswith("update") and "install" in asked[1] and asked[1].endswith("default-jre-headless")
    )


@pytest.mark.unit
def test_an_old_java_is_named_in_the_error(isolated: dict[str, str]) -> None:
    java = Path(isolated["BIN_DIR"]) / "java"
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.21\" 2023-10-17' >&2\n")
    java.chmod(0o755)
    calls = fake_apt(isolated)
    result = run("kafka.sh", "up", env=isolated)
    assert result.returncode == 1
    assert "needs Java 17+" in result.stderr and "11.0.21" in result.stderr
    assert not calls.exists(), "a Java that is there is not replaced behind the user's back"


@pytest.mark.unit
def test_without_maven_or_apt_and_without_cached_jars_kafka_says_what_to_install(
    isolated: dict[str, str],
) -> None:
    use_real_java(isolated)
    result = run("kafka.sh", "up", env=isolated)
    assert result.returncode == 1
    assert "Maven (mvn) is required" in result.stderr and "install Maven" in result.stderr
    assert not (Path(isolated["RCM_KAFKA_JARS"]) / ".complete").exists()


@pytest.mark.unit
def test_without_maven_kafka_installs_it_with_apt(isolated: dict[str, str]) -> None:
    use_real_java(isolated)
    calls = fake_apt(isolated)
    result = run("kafka.sh", "up", env=isolated)
    assert result.returncode == 1
    assert "installing Maven from Debian's packages" in result.stderr
    assert calls.read_text().splitlines()[1].endswith(" maven")


def up_with_open_files_limit(env: dict[str, str], limit: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'ulimit -n {limit} && exec "$0" up', str(LOCAL / "kafka.sh")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.unit
def test_up_refuses_storage_with_more_partitions_than_the_broker_may_open_files(
    isolated: dict[str, str],
) -> None:
    logs = Path(isolated["RCM_LOCAL_DIR"]) / "kafka" / "logs"
    # a broker with few topics starts under a low limit, with a warning (here it then finds no Java)
    logs.mkdir(parents=True)
    few = up_with_open_files_limit(isolated, 1500)
    assert "may open at most 1500 files (0 partitions now)" in few.stderr
    assert "Java 17+ is required" in few.stderr
    # one left with thousands of test topics would stop as soon as it loaded them: refuse, say why
    for n in range(600):
        (logs / f"prefix{n // 12}.session-completed-{n % 12}").mkdir()
    many = up_with_open_files_limit(isolated, 1500)
    assert many.returncode == 1
    assert "holds 600 partitions and the broker may open only 1500 files" in many.stderr
    assert "Java" not in many.stderr and not (logs.parent / "kafka.pid").exists()


@pytest.mark.unit
def test_down_leaves_alone_a_process_it_did_not_start(isolated: dict[str, str]) -> None:
    # a stale pid file naming some other process: kafka.sh must not signal it
    data = Path(isolated["RCM_LOCAL_DIR"]) / "kafka"
    data.mkdir(parents=True)
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        (data / "kafka.pid").write_text(f"{stranger.pid}\n")
        kafka = run("kafka.sh", "down", env=isolated)
        postgres = run("postgres.sh", "down", env=isolated)
        assert kafka.returncode == 0 and "nothing started by this script" in kafka.stderr
        assert postgres.returncode == 0 and "nothing started by this script" in postgres.stderr
        assert stranger.poll() is None, "kafka.sh down stopped a process it did not start"
        assert not (data / "kafka.pid").exists()
    finally:
        stranger.send_signal(signal.SIGTERM)
        stranger.wait(10)


@pytest.mark.kafka
def test_up_refuses_a_port_where_another_broker_answers(
    isolated: dict[str, str], kafka_bootstrap: str
) -> None:
    host, _, port = kafka_bootstrap.rpartition(":")
    isolated.update(RCM_HOST=host, RCM_KAFKA_PORT=port)
    result = run("kafka.sh", "up", env=isolated)
    assert result.returncode == 1
    assert "something else already answers as Kafka" in result.stderr and "RCM_KAFKA_PORT" in result.stderr
    assert kafka_answers(kafka_bootstrap)


@pytest.fixture
def second_infrastructure() -> Iterator[dict[str, str]]:
    """Settings for a second Kafka and PostgreSQL on free ports in a directory of their own (the jar
    cache is shared). Whatever is still running at the end is stopped by the scripts themselves."""
    base = Path(tempfile.mkdtemp(prefix="rcm-local-"))
    base.chmod(0o755)  # the postgres user must reach its data directory when the scripts run as root
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.update(
        RCM_LOCAL_DIR=str(base / "local"),
        RCM_KAFKA_PORT=str(free_port()),
        RCM_KAFKA_CONTROLLER_PORT=str(free_port()),
        RCM_PG_PORT=str(free_port()),
        RCM_PG_DATABASES="rcm_claims rcm_test",
        RCM_KAFKA_HEAP="-Xms64m -Xmx384m",
    )
    try:
        yield env
    finally:
        run("down.sh", env=env, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def _pids(env: dict[str, str]) -> tuple[str, str]:
    local = Path(env["RCM_LOCAL_DIR"])
    kafka = (local / "kafka" / "kafka.pid").read_text().strip()
    postgres = (local / "postgres" / "data" / "postmaster.pid").read_text().splitlines()[0]
    return kafka, postgres


def _alive(pid: str) -> bool:
    """Running, not merely a zombie waiting for its parent (the broker is detached with setsid)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.slow
def test_a_second_infrastructure_comes_up_twice_and_goes_down_beside_the_first(
    second_infrastructure: dict[str, str], kafka_bootstrap: str, database_url: str
) -> None:
    env = second_infrastructure
    bootstrap = f"127.0.0.1:{env['RCM_KAFKA_PORT']}"
    conninfo = f"postgresql://postgres@127.0.0.1:{env['RCM_PG_PORT']}/rcm_claims"

    first = run("up.sh", env=env)
    assert first.returncode == 0, first.stderr
    written = dict(
        line.split("=", 1) for line in (Path(env["RCM_LOCAL_DIR"]) / "env").read_text().splitlines() if line
    )
    assert written["RCM_KAFKA_BOOTSTRAP"] == bootstrap
    assert written["RCM_DATABASE_URL"].endswith(f"@127.0.0.1:{env['RCM_PG_PORT']}/rcm_test")
    assert kafka_answers(bootstrap)
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("rcm_claims",)
    pids = _pids(env)
    # thousands of test topics need more open files than a default limit allows
    limits = Path(f"/proc/{pids[0]}/limits").read_text()
    open_files = int(
        next(line for line in limits.splitlines() if line.startswith("Max open files")).split()[3]
    )
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert open_files >= min(262144, hard if hard != resource.RLIM_INFINITY else 262144)

    started = time.monotonic()
    second = run("up.sh", env=env)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    assert time.monotonic() - started < 30
    assert _pids(env) == pids, "a second up must reuse the running servers"

    down = run("down.sh", env=env, timeout=120)
    assert down.returncode == 0, down.stderr
    assert not any(_alive(pid) for pid in pids)
    assert not kafka_answers(bootstrap)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(conninfo, connect_timeout=3).close()
    again = run("down.sh", env=env, timeout=120)
    assert again.returncode == 0 and again.stderr.count("nothing started by this script") == 2

    # the infrastructure the tests run on was not touched
    assert kafka_answers(kafka_bootstrap)
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=5):
        pass
