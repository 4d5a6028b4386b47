"""The README's shell blocks, run as written on a fresh copy of the repository, offline.

Each ```bash / ```sh block in README.md follows a marker `<!-- readme-test: NAME [ARG] -->`
saying how it is run (RUNS below). The "fresh machine" is a copy of the work tree and a bare
Python venv with pip, so `python3`, `pip` and (once pip installed it) `uv` are what the
README's commands find; `just` and the project's environment come from `uv run`, as on a new
machine. The first run goes through a proxy nobody serves (the sources are unreachable,
whatever the CI runner has; only the package index is not); then the offline mirror serves
every source and one pipeline run backs every example.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Context, Decimal
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest
from ecb_mirror import History
from makerates_core import providers
from moto.server import ThreadedMotoServer
from services import DUMMY_CREDENTIALS, create_bucket

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = re.compile(r"<!-- readme-test: ([\w-]+)(?: (\S+))? -->")
FENCE = re.compile(r"^```(bash|sh)$")
# How each block is run: by this test, or where else.
RUNS = {
    "first-run": "here (its first command offline; `just test` is CI's, .ci/run)",
    "offline": "here",
    "examples": "here",
    "serve": "here, in the background",
    "api": "here",
    "audit": "here",
    "real-services": "here, against moto's S3 and DynamoDB APIs on MinIO's and DynamoDB Local's ports",
    "needs-engine": (
        "nowhere automatically: it needs a container engine, the compose stack and Kestra; CI's "
        "images job (`just images-test`) builds, sizes and chains the images, not this block"
    ),
    "chaos": "CI, as part of `just test` (tests/chaos)",
}
INDEX_SETTINGS = ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL")
INDEX_SETTINGS += ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")
AWS = {
    "region_name": DUMMY_CREDENTIALS["AWS_REGION"],
    "aws_access_key_id": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
    "aws_secret_access_key": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
}
COMMAND_SECONDS = 900  # a loaded 2-core machine; a command normally takes seconds to a minute
STATEMENT = """date,amount,from,to,received
2024-03-15,250.00,USD,JPY,36800
2024-03-14 17:30,1000.00,EUR,USD,1085.50
"""


def shell_blocks(text: str) -> list[tuple[str, str | None, list[str]]]:
    """(name, arg, commands) of every bash/sh block; a block without a marker is an error."""
    lines, blocks = text.splitlines(), []
    for i, line in enumerate(lines):
        if not FENCE.match(line):
            continue
        marker = MARKER.fullmatch(lines[i - 1].strip())
        assert marker, f"README line {i + 1}: a shell block without `<!-- readme-test: … -->`"
        end = lines.index("```", i + 1)
        body = "\n".join(lines[i + 1 : end]).replace("\\\n", " ")
        commands = [c for c in body.splitlines() if c.strip()]
        blocks.append((marker.group(1), marker.group(2), commands))
    return blocks


def test_every_shell_block_in_the_readme_says_how_it_is_run():
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    names = [name for name, _, _ in blocks]
    assert set(names) <= set(RUNS), set(names) - set(RUNS)
    assert sorted(names) == sorted(RUNS), "each kind of block once"
    (first_run,) = [commands for name, _, commands in blocks if name == "first-run"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert first_run[1].startswith("python3 -m pip install uv && python3 -m uv run just test")
    assert "python3 -m pip install" in ci and "python3 -m uv run --locked just test" in ci


@dataclass
class Ran:
    command: str
    code: int
    out: str
    err: str


class Shell:
    """A shell session over one process per command: each runs in `bash -c`, in a process
    group of its own, after the `export`s of the commands before it (kept in a file)."""

    def __init__(self, cwd: Path, env: dict[str, str], work: Path) -> None:
        self.cwd, self.env, self.work = cwd, env, work
        self.exports = work / "exports.sh"
        self.exports.write_text("")
        self.started: list[subprocess.Popen] = []

    def spawn(self, command: str, extra: dict[str, str]) -> tuple[subprocess.Popen, Path, Path]:
        n = len(self.started)
        out, err = self.work / f"{n}.out", self.work / f"{n}.err"
        script = f"source {self.exports}\n{command}\nstatus=$?\nexport -p > {self.exports}\n"
        with out.open("w") as stdout, err.open("w") as stderr:
            process = subprocess.Popen(
                ["bash", "-c", script + "exit $status"],
                cwd=self.cwd,
                env=self.env | extra,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        self.started.append(process)
        return process, out, err

    def run(self, command: str, **extra: str) -> Ran:
        process, out, err = self.spawn(command, extra)
        try:
            code = process.wait(timeout=COMMAND_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"`{command}` did not finish in {COMMAND_SECONDS} s:\n{err.read_text()}")
        return Ran(command, code, out.read_text(), err.read_text())

    def run_all(self, commands: list[str]) -> dict[str, Ran]:
        """Every command, each expected to succeed; by command."""
        results = {}
        for command in commands:
            ran = self.run(command)
            assert ran.code == 0, f"`{command}` exited {ran.code}:\n{ran.err[-3000:]}"
            results[command] = ran
        return results

    def close(self) -> None:
        """Stops everything the commands left running (the mirror, the server)."""
        for process in self.started:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 20
        for process in self.started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


def copy_of_the_work_tree(target: Path) -> Path:
    """The tracked and new (not ignored) files, as they are in the work tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file() or source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name, follow_symlinks=False)
    return target


def free_port(port: int) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            pytest.fail(f"port {port}, which the README uses, is taken: stop what serves it")


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server on :{port} exited {process.returncode}"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"nothing answered on :{port} within {seconds} s")


def fresh_machine(tmp: Path) -> tuple[dict[str, str], Path]:
    """A bare venv with pip as the machine's `python3`, and an environment with nothing of
    this one's: no project venv, no `just`, no makerates settings."""
    machine = tmp / "machine"
    subprocess.run([sys.executable, "-m", "venv", str(machine)], check=True, timeout=300)
    keep = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "UV_", "SSL_CERT"))}
    keep.pop("UV_PROJECT_ENVIRONMENT", None)
    env = keep | {
        "PATH": f"{machine / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ["HOME"],
        "LANG": "C.UTF-8",
        "XDG_CACHE_HOME": str(tmp / "cache"),  # makerates' logs and silver's work folder
    }
    return env, machine


def package_index() -> str:
    """NO_PROXY for the one part of the internet the offline machine reaches: the package
    index (PyPI, or the one configured for pip and uv), and this machine itself."""
    hosts = {"127.0.0.1", "localhost", "pypi.org", "files.pythonhosted.org"}
    for name in INDEX_SETTINGS:
        for url in os.environ.get(name, "").split():
            hosts.add(urlparse(url).hostname or "")
    return ",".join(sorted(hosts - {""}))


def install_uv(shell: Shell, machine: Path, first_run: str) -> None:
    """The first run's `python3 -m pip install uv`, with the network; and uv's own cache
    (which XDG_CACHE_HOME would move), so it installs the packages it already holds."""
    install, _ = first_run.split(" && ", 1)
    assert shell.run(install).code == 0
    uv = [str(machine / "bin" / "python3"), "-m", "uv", "cache", "dir"]
    cache = subprocess.run(uv, capture_output=True, text=True, check=True, timeout=60).stdout
    shell.env["UV_CACHE_DIR"] = cache.strip()


def internet_unreachable() -> dict[str, str]:
    """Proxy settings for a port nobody listens on: every source's request is refused."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    return {"HTTPS_PROXY": nowhere, "HTTP_PROXY": nowhere, "NO_PROXY": package_index()}


def ecb_usd_jpy(day: str) -> Decimal:
    """USD/JPY from the ECB's published strings, to the 50 significant digits gold keeps."""
    rates = History.shipped().by_day()[day]
    return Context(prec=50).divide(Decimal(rates["JPY"]), Decimal(rates["USD"]))


def check_first_run(ran: Ran) -> None:
    """Exit 3, one short ERROR line per source, one short line pointing at the mirror."""
    assert ran.code == 3, ran.err[-3000:]
    failed = [line for line in ran.err.splitlines() if " ERROR " in line]
    keys = [p.key for p in providers.registry()]
    assert [line.split(" ERROR ")[1].split(" failed: ")[0] for line in failed] == keys, failed
    assert all(len(line) < 300 for line in failed), failed
    errors = [line for line in ran.err.splitlines() if line.startswith("error:")]
    (error,) = [line for line in errors if not line.startswith("error: recipe `")]  # just's own
    assert len(error) < 400 and "`uv run just ecb-mirror`" in error, error
    assert "Traceback" not in ran.err


def check_examples(done: dict[str, Ran], cwd: Path) -> None:
    by = {command.split("#")[0].strip(): ran for command, ran in done.items()}
    latest = json.loads(by["uv run makerates rate USD JPY --json"].out)
    assert latest["date"] == latest["rate_date"] and Decimal(latest["rate"]) > 0
    saturday = by["uv run makerates rate USD JPY --date 2024-03-16"].out
    assert "2024-03-15" in saturday and "carried 1 day" in saturday, saturday
    assert json.loads(by["uv run makerates rate EUR AED --json"].out)["source"]
    listed = by["uv run makerates providers"].out
    assert all(p.key in listed for p in providers.registry()), listed
    assert (
        "250 USD = 37,190 JPY" in by["uv run makerates convert 250 USD JPY --date 2024-03-15"].out
    )
    rows = list(csv.DictReader((cwd / "usdjpy.csv").read_text().splitlines()))
    assert rows[0]["rate_date"] == "2024-01-02" and rows[-1]["rate_date"] == "2024-03-28"
    day = next(row for row in rows if row["rate_date"] == "2024-03-15")
    assert Decimal(day["rate"]) == ecb_usd_jpy("2024-03-15"), day
    assert (cwd / "usdjpy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monthly = next(ran.out for command, ran in by.items() if "--group month" in command)
    assert re.findall(r"^(\S+-01) ", monthly, re.M) == ["2024-01-01", "2024-02-01", "2024-03-01"]


def check_api(done: dict[str, Ran]) -> None:
    first, second = done.values()
    rows = json.loads(first.out)
    assert {row["quote"] for row in rows} >= {"JPY", "GBP"} and rows[0]["base"] == "USD", rows
    table = list(csv.DictReader(io.StringIO(second.out)))
    assert table and {row["quote"] for row in table} == {"USD"}, second.out[:500]


def check_audit(done: dict[str, Ran], cwd: Path) -> None:
    by = {command.split("#")[0].strip(): ran for command, ran in done.items()}
    report = json.loads(by["uv run makerates audit statement.csv --json"].out)
    assert len(report["rows"]) == 2 and report["summary"], report
    assert len(list(csv.DictReader((cwd / "audited.csv").read_text().splitlines()))) == 2
    assert "<svg" in (cwd / "audit.html").read_text()
    posted = next(ran.out for command, ran in by.items() if command.startswith("curl"))
    assert len(json.loads(posted)["rows"]) == 2, posted


@contextlib.contextmanager
def minio_and_dynamodb_local() -> Iterator[dict[str, str]]:
    """moto's S3 and DynamoDB APIs where the README expects MinIO (:9000) and DynamoDB Local
    (:8000), with the README's bucket; yields the credentials that open them."""
    servers = [ThreadedMotoServer(ip_address="127.0.0.1", port=port) for port in (9000, 8000)]
    for server in servers:
        server.start()
    try:
        env = DUMMY_CREDENTIALS | {"S3_ENDPOINT_URL": "http://127.0.0.1:9000"}
        create_bucket(env, "makerates")
        yield DUMMY_CREDENTIALS
    finally:
        for server in servers:
            server.stop()


def check_real_services() -> None:
    """The pipeline published to the bucket and filled the hot tier's tables."""
    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:9000", **AWS)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="makerates")["Contents"]]
    assert "silver/published.json" in keys and any(k.startswith("bronze/ecb_rates/") for k in keys)
    dynamodb = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:8000", **AWS)
    assert dynamodb.scan(TableName="makerates_rates", Limit=5)["Items"]


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_the_readme_works_as_written_offline(tmp_path):
    found = shell_blocks(README.read_text("utf-8"))
    blocks = {name: commands for name, _, commands in found}
    (port,) = [int(arg) for name, arg, _ in found if name == "serve"]
    for taken in (8765, port, 9000, 8000):
        free_port(taken)
    env, machine = fresh_machine(tmp_path)
    repo = copy_of_the_work_tree(tmp_path / "makerates")
    logs = tmp_path / "logs"
    logs.mkdir()
    shell = Shell(repo, env, logs)
    try:
        install_uv(shell, machine, blocks["first-run"][0])
        check_first_run(shell.run(blocks["first-run"][0], **internet_unreachable()))

        shell.run_all(blocks["offline"])
        check_examples(shell.run_all(blocks["examples"]), repo)
        (serve,) = blocks["serve"]
        server, _, _ = shell.spawn(serve, {})
        wait_for_port(port, server)
        check_api(shell.run_all(blocks["api"]))
        (repo / "statement.csv").write_text(STATEMENT)
        check_audit(shell.run_all(blocks["audit"]), repo)
        with minio_and_dynamodb_local() as credentials:
            shell.env |= credentials
            shell.run_all(blocks["real-services"])
            check_real_services()
    finally:
        shell.close()
