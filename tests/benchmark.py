"""Requests per second of Spaces' pages next to a hello-world view, under gunicorn on loopback.

`make bench`, or `.venv/bin/python tests/benchmark.py --help`; docs/PERFORMANCE.md explains the
method. The script drives everything from a parent process (databases, gunicorn, the load tool)
and seeds data in child processes (`--child`), so that one run covers SQLite and PostgreSQL.
"""

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import gzip
import http.client
import io
import itertools
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import django
import gunicorn
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "PERFORMANCE.md"
DOCS_START, DOCS_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
RESULT_PREFIX = "BENCH-RESULT "
# A browser's headers: crawler detection must not mistake the load for a bot, or views go uncounted;
# and like every browser, it takes compressed pages.
HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    "Accept-Encoding": "gzip, deflate, br",
}
HELLO = "/healthz"
REDIS_DEFAULT = "redis://127.0.0.1:6379/14"  # postgres+redis: a database of its own, flushed
DATABASES = ("sqlite", "postgres", "postgres+redis")


# --- Parent: load generation ---------------------------------------------------------------------


@dataclass
class Load:
    """What one load run measured."""

    rps: float
    p99_ms: float
    requests: int
    failures: int  # non-2xx/3xx responses, socket errors and timeouts
    kilobytes: float = float("nan")  # per response
    cpu_ms: float = float("nan")  # the server's CPU time per request, whatever else runs
    cache: dict[str, int] | None = None  # responses by their X-Page-Cache header (a mix's load)


# Each request picks one of many paths; every thread seeds its own random sequence differently.
WRK_PATHS_SCRIPT = """
local paths = {%s}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(tonumber(args[1]) + id)
end
function request()
  return wrk.format(nil, paths[math.random(#paths)])
end
"""


def wrk_load(base: str, paths: list[str], seconds: int, connections: int, threads: int) -> Load:
    headers = [arg for name, value in HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    # wrk's 2 s default timeout would turn a slow page into "0 req/s"; keep measuring it instead.
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["--latency", *headers, base + paths[0]]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if len(paths) > 1:
            script.write(WRK_PATHS_SCRIPT % ", ".join(json.dumps(path) for path in paths))
            script.flush()
            command[1:1] = ["-s", script.name]
            command += ["--", str(random.randrange(1_000_000_000))]
        output = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    return parse_wrk(output)


@dataclass(frozen=True)
class Mix:
    """Requests of several kinds: (path, kind) pairs, each kind with its own headers."""

    requests: tuple[tuple[str, str], ...]
    headers: dict[str, dict[str, str]]  # kind -> headers replacing or adding to HEADERS

    def __len__(self) -> int:
        return len(self.requests)

    def __getitem__(self, index: slice) -> list[str]:
        return [path for path, _kind in self.requests[index]]


# Each request takes the next (path, kind) of the mix from a random start per thread, with that
# kind's headers; responses are tallied by their X-Page-Cache header, summed over the threads.
WRK_MIX_SCRIPT = """
local requests = {%s}
local kinds = {%s}
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args)
  math.randomseed(tonumber(args[1]) + id)
  position = math.random(#requests)
  tally = {hit = 0, miss = 0, other = 0}
  prepared = {}
  for kind, extra in pairs(kinds) do
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    for name, value in pairs(extra) do headers[name] = value end
    prepared[kind] = headers
  end
end
function request()
  position = position %% #requests + 1
  local item = requests[position]
  return wrk.format(nil, item[1], prepared[item[2]])
end
function response(status, headers, body)
  local state = headers["X-Page-Cache"]
  if state ~= "hit" and state ~= "miss" then state = "other" end
  tally[state] = tally[state] + 1
end
function done(summary, latency, requests)
  local hit, miss, other = 0, 0, 0
  for _, thread in ipairs(threads) do
    local counts = thread:get("tally")
    hit, miss, other = hit + counts.hit, miss + counts.miss, other + counts.other
  end
  io.write(string.format("PAGE-CACHE hit=%%d miss=%%d other=%%d\\n", hit, miss, other))
end
"""


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a Lua string literal too


def mix_script(mix: Mix) -> str:
    """The wrk script that sends `mix`."""
    requests = ", ".join(f"{{{lua_string(p)}, {lua_string(k)}}}" for p, k in mix.requests)
    kinds = ", ".join(
        f"[{lua_string(kind)}] = {{"
        + ", ".join(f"[{lua_string(n)}] = {lua_string(v)}" for n, v in headers.items())
        + "}"
        for kind, headers in mix.headers.items()
    )
    return WRK_MIX_SCRIPT % (requests, kinds)


def wrk_mix_load(base: str, mix: Mix, seconds: int, connections: int, threads: int) -> Load:
    headers = [arg for name, value in HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(mix_script(mix))
        script.flush()
        command += ["--latency", "-s", script.name, *headers, base + mix.requests[0][0]]
        command += ["--", str(random.randrange(1_000_000_000))]
        output = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    load = parse_wrk(output)
    tally = re.search(r"PAGE-CACHE hit=(\d+) miss=(\d+) other=(\d+)", output)
    load.cache = dict(zip(("hit", "miss", "other"), map(int, tally.groups()), strict=True))
    return load


def parse_wrk(output: str) -> Load:
    """Requests/s, 99th-percentile latency, request and failure counts from wrk's report."""
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    sizes = {"B": 1 / 1024, "KB": 1, "MB": 1024, "GB": 1024**2}
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    done = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB) read", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read \d+, write (\d+), timeout (\d+)", output
    )
    # Gunicorn's sync workers close every connection; wrk counts those closes as read errors.
    socket_failures = sum(int(n) for n in sockets.groups()) if sockets else 0
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p99_ms=float(p99.group(1)) * units[p99.group(2)] if p99 else float("nan"),
        requests=int(done.group(1)),
        failures=(int(non_2xx.group(1)) if non_2xx else 0) + socket_failures,
        kilobytes=float(done.group(2)) * sizes[done.group(3)] / max(int(done.group(1)), 1),
    )


def python_load(base: str, paths: list[str], seconds: int, connections: int, threads: int) -> Load:
    """A fallback for a missing wrk: a thread per connection, saturating before the server does."""
    parts = urlsplit(base)
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    failures: list[bool] = []
    sizes: list[int] = []

    def worker() -> None:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                connection.request("GET", random.choice(paths), headers=HEADERS)
                response = connection.getresponse()
                sizes.append(len(response.read()))
                failed = response.status >= 400
            except OSError:
                failed = True
            finally:
                connection.close()
            latencies.append(time.perf_counter() - start)
            failures.append(failed)

    started = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else float("nan")
    kilobytes = sum(sizes) / 1024 / max(len(sizes), 1)
    return Load(len(latencies) / elapsed, p99, len(latencies), sum(failures), kilobytes)


def fetch(url: str) -> tuple[int, str]:
    """One GET without following redirects: the status and the body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        connection.request("GET", path, headers=HEADERS)
        response = connection.getresponse()
        body = response.read()
        if response.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return response.status, body.decode("utf-8", "replace")
    finally:
        connection.close()


# --- Parent: databases, the server, children -----------------------------------------------------


class Skip(Exception):
    """A scenario that cannot run yet; the message says why."""


@dataclass
class Bench:
    """One benchmark run: options, the temporary directory and the environment for Django."""

    options: argparse.Namespace
    tmp: Path
    load_tool: Callable[[str, list[str], int, int, int], Load]
    load_name: str
    # One key for the run, so that a child can sign a cookie that the servers accept.
    secret: str = field(default_factory=lambda: "benchmark-only-" + os.urandom(16).hex())

    def env(self, database: "Database", **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "SPACES_")) and key not in {"DATABASE_URL"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="bench_settings",
            PYTHONPATH=os.pathsep.join([str(self.tmp), str(ROOT)]),
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=self.secret,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE="0",
            DJANGO_LOG_LEVEL="WARNING",
            REDIS_URL=self.options.redis_url or "",
        )
        env.update(database.env())
        env.update(extra)
        return env

    def child(self, database: "Database", action: str, **payload: object) -> dict:
        """Run `action` in a child process with Django set up on `database`; its JSON answer."""
        command = [sys.executable, __file__, "--child", action, json.dumps(payload)]
        done = subprocess.run(
            command, cwd=ROOT, env=self.env(database), capture_output=True, text=True
        )
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"child {action!r} failed: {last[0]}\n{done.stderr[-4000:]}")
        line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith(RESULT_PREFIX))
        return json.loads(line.removeprefix(RESULT_PREFIX))

    @contextlib.contextmanager
    def background(self, database: "Database", action: str, **payload: object) -> Iterator[None]:
        """`action` in a child process while the block runs; stopped by its pid at the end."""
        command = [sys.executable, __file__, "--child", action, json.dumps(payload)]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(database),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            yield
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            _, errors = process.communicate(timeout=60)
            if process.returncode not in (0, -signal.SIGTERM):
                raise RuntimeError(f"background {action!r} failed:\n{errors[-4000:]}")


class Database:
    """A scratch database: `prepare()` migrates a base once, `fresh()` clones it per scenario."""

    label: str

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def prepare(self, bench: Bench) -> None:
        raise NotImplementedError

    def fresh(self) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def backend_pids(self) -> list[int]:
        """Server processes working for the current database (none for SQLite)."""
        return []


class SQLiteDatabase(Database):
    label = "SQLite"

    def __init__(self, tmp: Path) -> None:
        self.base, self.path = tmp / "base.sqlite3", tmp / "bench.sqlite3"
        self.current = self.base

    def env(self) -> dict[str, str]:
        return {"SQLITE_PATH": str(self.current)}

    def prepare(self, bench: Bench) -> None:
        bench.child(self, "migrate")
        self.current = self.path

    def fresh(self) -> None:
        self.drop()
        shutil.copyfile(self.base, self.path)

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def version(self) -> str:
        return sqlite3.sqlite_version


class PostgresDatabase(Database):
    label = "PostgreSQL"

    def __init__(self, url: str, redis_url: str = "") -> None:
        parts = urlsplit(url)
        self.url, self.redis_url = url, redis_url
        if redis_url:
            self.label = "PostgreSQL + Redis"
        self.name = parts.path.lstrip("/") or "spaces_bench"
        self.base = f"{self.name}_base"
        self.admin_url = parts._replace(path="/postgres", query="").geturl()
        self.current = self.base

    def env(self) -> dict[str, str]:
        parts = urlsplit(self.url)
        env = {"DATABASE_URL": parts._replace(path=f"/{self.current}").geturl()}
        return env | ({"REDIS_URL": self.redis_url} if self.redis_url else {})

    def sql(self, *statements: str, params: tuple | None = None) -> list[tuple]:
        """Run statements on the maintenance database; the rows of the last one."""
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as connection:
            rows: list[tuple] = []
            for statement in statements:
                cursor = connection.execute(statement, params)
                rows = cursor.fetchall() if cursor.description else []
            return rows

    def prepare(self, bench: Bench) -> None:
        self.sql(
            f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{self.base}" WITH (FORCE)',
            f'CREATE DATABASE "{self.base}"',
        )
        bench.child(self, "migrate")
        self.current = self.name

    def fresh(self) -> None:
        self.sql(
            f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)',
            f'CREATE DATABASE "{self.name}" TEMPLATE "{self.base}"',
        )

    def drop(self) -> None:
        self.sql(
            f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{self.base}" WITH (FORCE)',
        )

    def version(self) -> str:
        version = self.sql("SHOW server_version")[0][0]
        if self.redis_url:
            version += f", Redis {redis.Redis.from_url(self.redis_url).info()['redis_version']}"
        return version

    def backend_pids(self) -> list[int]:
        # Gunicorn's workers keep their connections (CONN_MAX_AGE), so these outlive a load run.
        rows = self.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", params=(self.current,)
        )
        return [pid for (pid,) in rows]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name: state, ppid, … utime is [11]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


@dataclass
class Server:
    url: str
    pid: int
    database: Database

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time used so far by gunicorn's master, its workers and their database backends."""
        pids = [self.pid, *self.database.backend_pids()]
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError, ValueError):
                if entry.name.isdigit() and int(process_stat(int(entry.name))[1]) == self.pid:
                    pids.append(int(entry.name))
        used = {}
        for pid in pids:
            with contextlib.suppress(OSError):
                fields = process_stat(pid)
                used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings of `Server.cpu_seconds()`."""
    # A process gone meanwhile (a database connection closed after CONN_MAX_AGE) takes its time
    # along: the sum can fall a little short, never below zero.
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@contextlib.contextmanager
def server(bench: Bench, database: Database, **env: str) -> Iterator[Server]:
    """Gunicorn with 2 sync workers on a free loopback port; stopped by its pid whatever happens."""
    if redis_url := bench.env(database).get("REDIS_URL"):
        redis.Redis.from_url(redis_url).flushdb()  # no page cached by a previous run
    port = free_port()
    log = bench.tmp / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2"]
    command += ["--bind", f"127.0.0.1:{port}", "--error-logfile", str(log)]
    # Its own session: Ctrl-C reaches only us, and we stop gunicorn ourselves, by its pid.
    process = subprocess.Popen(
        command, cwd=ROOT, env=bench.env(database, **env), start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
            with contextlib.suppress(OSError):
                if fetch(base + HELLO)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer {HELLO} within 60 s")
            time.sleep(0.2)
        yield Server(base, process.pid, database)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def measure(
    bench: Bench,
    targets: list[tuple[Server, "str | list[str] | Mix", str]],
    round_seconds: int | None = None,
) -> list[Load]:
    """Load each (server, path or paths to pick from, expected text) in turn, round after round.

    Interleaving the pages in short rounds lets a busy spell elsewhere on the machine hit them all
    alike, so that comparisons between them stay fair."""
    options = bench.options
    targets = [(server, [p] if isinstance(p, str) else p, expect) for server, p, expect in targets]

    def run_load(server: Server, paths: list[str] | Mix, seconds: int) -> Load:
        if isinstance(paths, Mix):
            if bench.load_tool is not wrk_load:
                raise Skip("a mix of readers, crawlers and commenters needs wrk")
            return wrk_mix_load(server.url, paths, seconds, options.connections, options.threads)
        return bench.load_tool(server.url, paths, seconds, options.connections, options.threads)

    for server, paths, expect in targets:
        for path in paths[:3]:
            status, body = fetch(server.url + path)
            if status != 200 or expect not in body:
                raise RuntimeError(f"GET {path} answered {status}, not 200 with {expect!r}")
        run_load(server, paths, options.warmup)
    rounds: list[list[Load]] = [[] for _ in targets]
    for _ in range(options.rounds):
        for runs, (server, paths, _expect) in zip(rounds, targets, strict=True):
            cpu = server.cpu_seconds()
            load = run_load(server, paths, round_seconds or options.round_seconds)
            load.cpu_ms = cpu_used(cpu, server.cpu_seconds()) * 1000 / max(load.requests, 1)
            runs.append(load)
    return [combine(runs) for runs in rounds]


def combine(runs: list[Load]) -> Load:
    """One load from equally long rounds: mean rate, per-request means, the worst p99."""
    requests = sum(run.requests for run in runs)
    return Load(
        rps=sum(run.rps for run in runs) / len(runs),
        p99_ms=max(run.p99_ms for run in runs),
        requests=requests,
        failures=sum(run.failures for run in runs),
        kilobytes=sum(run.kilobytes * run.requests for run in runs) / max(requests, 1),
        cpu_ms=sum(run.cpu_ms * run.requests for run in runs) / max(requests, 1),
        cache=(
            {key: sum(run.cache[key] for run in runs) for key in runs[0].cache}
            if runs[0].cache is not None
            else None
        ),
    )


# --- Parent: scenarios ---------------------------------------------------------------------------


@dataclass
class Pair:
    """A page's load and hello-world's, measured in alternating rounds on the same server."""

    hello: Load
    page: Load

    @property
    def share(self) -> float:
        # A round in which nothing answered (a machine too busy to run wrk) measures nothing.
        return self.page.rps / self.hello.rps if self.hello.rps else float("nan")

    @property
    def cpu_share(self) -> float:
        """The share judged by the server's CPU time per request, steadier on a busy machine."""
        return self.hello.cpu_ms / self.page.cpu_ms if self.page.cpu_ms else float("nan")


@dataclass
class Row:
    scenario: str
    page: str
    pair: Pair | None = None
    target: str = ""
    met: bool | None = None
    database: str = ""


@dataclass
class Scenario:
    key: str
    title: str
    run: Callable[[Bench, Database], list[Row]]


def pages_against_hello(
    bench: Bench,
    server: Server,
    pages: list[tuple["str | list[str] | Mix", str]],
    round_seconds: int | None = None,
) -> list[Pair]:
    """Each (path, expected text) with hello-world, all in the same rounds on `server`."""
    targets = [(server, HELLO, "ok"), *((server, *page) for page in pages)]
    hello, *loads = measure(bench, targets, round_seconds)
    return [Pair(hello, load) for load in loads]


def share_row(scenario: str, page: str, pair: Pair, floor: float) -> Row:
    met = pair.share >= floor and not pair.page.failures
    return Row(scenario, page, pair, f"≥ {floor:.0%} of hello-world", met)


def scenario_pages(bench: Bench, database: Database) -> list[Row]:
    """Issue 2: the home page and a math-heavy article, uncached, against hello-world."""
    article = f"/archives/{bench.child(database, 'seed', posts=200)['article']}"
    pages = [("/", "/archives/"), (article, "arithmatex")]
    with server(bench, database) as app:
        home, page = pages_against_hello(bench, app, pages)
    # Every request renders the page whole, as after each change (issue 16: the home page ≥ 15 %).
    with server(bench, database, SPACES_PAGE_CACHE="0") as app:
        whole_home, whole_page = pages_against_hello(bench, app, pages)
    return [
        share_row("pages", "home `/`", home, 0.40),
        share_row("pages", "article (math-heavy)", page, 0.40),
        share_row("pages", "home, rendered whole (`SPACES_PAGE_CACHE=0`)", whole_home, 0.15),
        Row("pages", "article, rendered whole (`SPACES_PAGE_CACHE=0`)", whole_page),
    ]


def scenario_counting(bench: Bench, database: Database) -> list[Row]:
    """Issue 3: the article on two servers at once, view counting off and on, in turns."""
    if not bench.child(database, "features")["counting_switch"]:
        raise Skip("no setting turns view counting off yet (expected SPACES_VIEW_COUNTING=0)")
    article = f"/archives/{bench.child(database, 'seed', posts=200)['article']}"
    with (
        server(bench, database, SPACES_VIEW_COUNTING="0") as off,
        server(bench, database, SPACES_VIEW_COUNTING="1") as on,
    ):
        # wrk keeps no cookies, so each request is a new reader: all of them must count.
        counted = [views_counted(bench, database, app.url + article, 5) for app in (off, on)]
        if counted != [0, 5]:
            raise RuntimeError(
                f"5 reads recorded {counted[0]} views with counting off and {counted[1]} with it "
                "on (buffered views are not in the database until flushed)"
            )
        before = bench.child(database, "views")["total"]
        loads = measure(
            bench,
            [(off, HELLO, "ok"), (off, article, "arithmatex")]
            + [(on, HELLO, "ok"), (on, article, "arithmatex")],
        )
        recorded = bench.child(database, "views")["total"] - before
    uncounted, counted_pair = Pair(*loads[:2]), Pair(*loads[2:])
    cost = 1 - counted_pair.page.rps / uncounted.page.rps
    cpu_cost = 1 - uncounted.page.cpu_ms / counted_pair.page.cpu_ms
    return [
        Row("counting", "article, counting off", uncounted),
        Row(
            "counting",
            f"article, counting on ({recorded:,} views recorded)",
            counted_pair,
            f"costs ≤ 15 % (costs {cost:.0%}; by CPU {cpu_cost:.0%})",
            cost <= 0.15 and not counted_pair.page.failures,
        ),
    ]


def views_counted(bench: Bench, database: Database, url: str, reads: int) -> int:
    """How many views `reads` cookieless GETs of `url` added to the posts' counters (the reads
    journal flushed before each look)."""
    before = bench.child(database, "views")["total"]
    for _ in range(reads):
        fetch(url)
    return bench.child(database, "views")["total"] - before


def scenario_comments(bench: Bench, database: Database) -> list[Row]:
    """Issue 4: an article with 60 and one with 1,000 approved comments."""
    if not bench.child(database, "features")["comments"]:
        raise Skip("the comments app has no Comment model yet")
    site = bench.child(database, "seed", posts=200, comments=[60, 1000])
    with server(bench, database) as app:
        sixty, thousand = pages_against_hello(
            bench, app, [(f"/archives/{pk}", "arithmatex") for pk in site["commented"]]
        )
    # Issue 16: the same articles rendered whole on every request, as after each change.
    with server(bench, database, SPACES_PAGE_CACHE="0") as app:
        whole_sixty, whole_thousand = pages_against_hello(
            bench, app, [(f"/archives/{pk}", "arithmatex") for pk in site["commented"]]
        )
    return [
        share_row("comments", "article, 60 comments", sixty, 0.30),
        slowdown_row("article, 1,000 comments", sixty, thousand),
        share_row(
            "comments",
            "article, 60 comments, rendered whole (`SPACES_PAGE_CACHE=0`)",
            whole_sixty,
            0.10,
        ),
        slowdown_row(
            "article, 1,000 comments, rendered whole (`SPACES_PAGE_CACHE=0`)",
            whole_sixty,
            whole_thousand,
        ),
    ]


def slowdown_row(page: str, sixty: Pair, thousand: Pair) -> Row:
    """The 1,000-comment article's time against the 60-comment one's: at most 4 times."""
    slowdown = sixty.page.rps / thousand.page.rps if thousand.page.rps else float("inf")
    cpu_slowdown = thousand.page.cpu_ms / sixty.page.cpu_ms
    return Row(
        "comments",
        page,
        thousand,
        f"≤ 4× the time of 60 ({slowdown:.1f}×; by CPU {cpu_slowdown:.1f}×)",
        slowdown <= 4 and not thousand.page.failures,
    )


SEARCHES = [("search, Chinese", "梯度"), ("search, English", "gradient")]
# Readers' queries: two words each, most of them found in the seeded posts, some not.
# fmt: off
ZH_WORDS = [
    "梯度", "矩阵", "奇异值", "分解", "正则", "熵", "温度", "损失", "学习率", "最小二乘",
    "方程", "概率", "分布", "迭代", "数据", "目标", "范数", "结论", "计算", "验证",
    "先验", "贝叶斯", "岭回归", "线性", "回归", "模型", "优化", "收敛", "单调", "均匀",
    "正定", "特征值", "向量", "函数", "积分", "导数", "变换", "傅里叶", "随机", "采样",
]
EN_WORDS = [
    "gradient", "matrix", "singular", "decomposition", "entropy", "temperature", "softmax", "loss",
    "learning", "rate", "least", "squares", "normal", "equations", "descent", "flow",
    "distribution", "uniform", "norm", "targets", "data", "model", "regression", "ridge",
    "prior", "bayesian", "convex", "optimisation", "eigenvalue", "vector", "function", "integral",
    "derivative", "fourier", "transform", "random", "sampling", "kernel", "attention",
    "transformer",
]
# fmt: on


def varied_searches(words: list[str], length: int = 2, limit: int = 20_000) -> list[str]:
    """A search page per ordered `length` words, at most `limit` of them (a fixed sample)."""
    queries = [" ".join(combination) for combination in itertools.permutations(words, length)]
    if len(queries) > limit:
        queries = random.Random(length).sample(queries, limit)
    return [f"/search/{quote(query)}/" for query in queries]


FEATURE_PATHS = {"archive": "/content.html", "search": "/search/gradient/"}


def scenario_archive(bench: Bench, database: Database) -> list[Row]:
    """Issue 5: 10,000 posts; listings, the archive page (cached) and searches."""
    views = bench.child(database, "features")["views"]
    site = bench.child(database, "seed", posts=10_000)
    pages = [
        ("home `/`", "/", 0.40),
        (f"tag page ({site['tag']}, 750 posts)", f"/tag/{quote(site['tag'])}/", 0.40),
    ]
    if views["archive"]:
        pages.append(("archive `/content.html` (cached)", "/content.html", 0.40))
    if views["search"]:
        # The search box's `?q=` redirects to `/search/<keywords>/`: measure where readers land.
        pages += [
            (f"{page} (one query, cache hits)", f"/search/{quote(q)}/", 0.10)
            for page, q in SEARCHES
        ]
        # Two-word queries: few enough that the page cache soon holds each one, like a site's
        # recurring searches. Three-word queries: more than the requests made, so nearly every
        # request renders its page (their words, though, are the same few: see blog.ranking).
        for words, kind in (
            (2, "two-word queries, cached after their first request"),
            (3, "three-word queries, mostly misses"),
        ):
            pages += [
                (f"search, {language} ({len(paths):,} {kind})", paths, 0.10)
                for language, paths in (
                    ("Chinese", varied_searches(ZH_WORDS, words)),
                    ("English", varied_searches(EN_WORDS, words)),
                )
            ]
    with server(bench, database) as app:
        pairs = pages_against_hello(bench, app, [(paths, "/archives/") for _, paths, _ in pages])
    rows = [
        share_row("archive", page, pair, floor)
        for (page, _, floor), pair in zip(pages, pairs, strict=True)
    ]
    rows += [
        Row("archive", f"pending: no view at `{FEATURE_PATHS[name]}` yet")
        for name, found in views.items()
        if not found
    ]
    return rows


# A site's day (issue 16): who reads what, and what is written meanwhile.
SITE_DAY_POSTS = 2_000
SITE_DAY_CRAWLERS = 0.30  # uniform over every post
SITE_DAY_COMMENTERS = 0.10  # readers with the remembered-commenter cookie
SITE_DAY_ZIPF = 1.0  # the exponent of readers' popularity: rank r is read ∝ 1 / r^s
SITE_DAY_REQUESTS = 20_000  # the mix wrk cycles through
SITE_DAY_COMMENT_EVERY = 2.0  # seconds between approved comments
SITE_DAY_EDIT_EVERY = 30.0  # seconds between post edits
SITE_DAY_ROUND_FACTOR = 5  # its rounds last this many times --round-seconds (default 10 s)
CRAWLER_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def site_day_mix(ids: list[int], cookie: str) -> tuple[Mix, list[int]]:
    """The requests of a site's day, and the posts by popularity (the writer's Zipf, too).

    Readers follow a Zipf law over the home page and the posts in a fixed popularity order;
    crawlers pick any post alike; a share of the readers are remembered commenters."""
    rng = random.Random(16)
    popular = ids[:]
    rng.shuffle(popular)
    pages = ["/", *(f"/archives/{pk}" for pk in popular)]
    weights = [1 / rank**SITE_DAY_ZIPF for rank in range(1, len(pages) + 1)]
    readers = rng.choices(pages, weights, k=SITE_DAY_REQUESTS)
    commenters = SITE_DAY_COMMENTERS / (1 - SITE_DAY_CRAWLERS)  # of the readers
    requests = []
    for path in readers:
        if rng.random() < SITE_DAY_CRAWLERS:
            requests.append((f"/archives/{rng.choice(ids)}", "crawler"))
        else:
            requests.append((path, "commenter" if rng.random() < commenters else "reader"))
    headers = {
        "reader": {},
        "crawler": {"User-Agent": CRAWLER_AGENT},
        "commenter": {"Cookie": cookie},
    }
    return Mix(tuple(requests), headers), popular


def scenario_site_day(bench: Bench, database: Database) -> list[Row]:
    """Issue 16: 2,000 posts read by a mix of readers, crawlers and commenters, while comments
    are approved every 2 s and a post is edited every 30 s."""
    site = bench.child(database, "seed", posts=SITE_DAY_POSTS, comments=[60], ids=True)
    cookie = bench.child(database, "commenter_cookie")["cookie"]
    mix, popular = site_day_mix(site["ids"], cookie)
    writes = {
        "popular": popular,
        "comment_every": SITE_DAY_COMMENT_EVERY,
        "edit_every": SITE_DAY_EDIT_EVERY,
    }
    paths = sorted({path for path, _kind in mix.requests})
    with server(bench, database) as app:
        # A day's traffic finds the site serving since the morning: each page read once since its
        # last change (the writes during the load are what it then renews).
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            statuses = set(pool.map(lambda path: fetch(app.url + path)[0], paths))
        if statuses != {200}:
            raise RuntimeError(f"priming the site's day answered {sorted(statuses)}")
        with bench.background(database, "writer", **writes):
            before = bench.child(database, "writes")
            # Rounds long enough for several edits (every 30 s) over the scenario's run.
            seconds = bench.options.round_seconds * SITE_DAY_ROUND_FACTOR
            (pair,) = pages_against_hello(bench, app, [(mix, "/archives/")], seconds)
            after = bench.child(database, "writes")
    comments, edits = (after[key] - before[key] for key in ("comments", "edits"))
    cache = pair.page.cache
    served = sum(cache.values())
    hit_rate = f"{cache['hit'] / served:.0%}" if served else "n/a"
    met = pair.share >= 0.40 and not pair.page.failures and comments > 0
    return [
        Row(
            "site-day",
            f"a site's day: {SITE_DAY_POSTS:,} posts, Zipf + {SITE_DAY_CRAWLERS:.0%} crawlers, "
            f"{SITE_DAY_COMMENTERS:.0%} commenters, its {len(paths):,} pages read once before; "
            f"{comments} comments and {edits} edits "
            f"during the run; page cache hit rate {hit_rate} ({cache['miss']:,} misses, "
            f"{cache['other']:,} not cacheable)",
            pair,
            "≥ 40% of hello-world",
            met,
        )
    ]


IMPORT_SITE = {"posts": 1_500, "comments": 20_000}


def scenario_import(bench: Bench, database: Database) -> list[Row]:
    """Issue 13: `import_typecho` of a 1,500-post, 20,000-comment site into an empty one."""
    if not bench.child(database, "features")["importers"]:
        raise Skip("there is no import_typecho command yet")
    source = bench.tmp / "typecho.sqlite3"
    if not source.exists():
        bench.child(database, "typecho_site", path=str(source), **IMPORT_SITE)
    site = f"{IMPORT_SITE['posts']:,} posts + {IMPORT_SITE['comments']:,} comments"
    result = bench.child(database, "import_typecho", path=str(source))
    seconds = result["seconds"]
    return [
        Row(
            "import",
            f"Typecho, {site}: {seconds:.1f} s ({result['cpu']:.1f} s CPU in the importing "
            "process; the database server's is not in it)",
            target="< 120 s, valid trees, every row",
            met=seconds < 120 and result["complete"],
        )
    ]


SCENARIOS = [
    Scenario("pages", "Issue 2: home and article vs hello-world", scenario_pages),
    Scenario("counting", "Issue 3: view counting on vs off", scenario_counting),
    Scenario("comments", "Issue 4: article with 60 / 1,000 comments", scenario_comments),
    Scenario("archive", "Issue 5: 10,000 posts: listings, archive, search", scenario_archive),
    Scenario("site-day", "Issue 16: a site's day, reads and writes mixed", scenario_site_day),
    Scenario("import", "Issue 13: Typecho import, 1,500 posts + 20,000 comments", scenario_import),
]


# --- Parent: report ------------------------------------------------------------------------------


def machine(bench: Bench, databases: list[Database]) -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": f"{cpu}, nproc {os.cpu_count()}",
        "load average at start": " ".join(f"{n:.2f}" for n in os.getloadavg()),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "gunicorn": f"{gunicorn.__version__}, 2 sync workers",
    }
    for database in databases:
        info[database.label] = database.version()
    options = bench.options
    info["load"] = (
        f"{bench.load_name}, {options.connections} connections, {options.threads} threads, "
        f"per URL {options.warmup} s warm-up, then {options.rounds} rounds of "
        f"{options.round_seconds} s taking turns with the scenario's other URLs; loopback"
    )
    return info


def report(info: dict[str, str], rows: list[Row], notes: list[str]) -> str:
    lines = [f"- {key}: {value}" for key, value in info.items()]
    notes = list(notes)
    lines += [
        "",
        "| Database | Scenario | Page | req/s | hello-world req/s | share | CPU ms/req: page, "
        "hello | share by CPU | KB | p99 ms | Target | Met |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        pair = row.pair
        numbers = ["—"] * 7
        if pair:
            numbers = [
                f"{pair.page.rps:,.1f}",
                f"{pair.hello.rps:,.0f}",
                f"{pair.share:.1%}",
                f"{pair.page.cpu_ms:.1f}, {pair.hello.cpu_ms:.2f}",
                f"{pair.cpu_share:.1%}",
                f"{pair.page.kilobytes:,.0f}",
                f"{pair.page.p99_ms:,.0f}",
            ]
            if failed := pair.page.failures + pair.hello.failures:
                notes.append(f"{row.database} {row.page}: {failed:,} failed requests.")
        met = {True: "yes", False: "**no**", None: "—"}[row.met]
        cells = [row.database, row.scenario, row.page, *numbers, row.target or "—", met]
        lines.append("| " + " | ".join(cells) + " |")
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def update_docs(text: str) -> None:
    docs = DOCS.read_text()
    start, end = docs.index(DOCS_START) + len(DOCS_START), docs.index(DOCS_END)
    DOCS.write_text(f"{docs[:start]}\n{text}{docs[end:]}")


# --- Parent: main --------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    names = [scenario.key for scenario in SCENARIOS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--scenarios",
        default=",".join(names),
        help=f"comma-separated, by name or number 1-{len(names)}: {', '.join(names)} (default all)",
    )
    parser.add_argument(
        "--databases",
        default=",".join(DATABASES),
        help="sqlite, postgres, postgres+redis (PostgreSQL with Redis as the cache); default all",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/spaces_bench"
        ),
        help="a scratch database, dropped and created again (and NAME_base beside it)",
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help=f"Redis as every server's cache (postgres+redis: {REDIS_DEFAULT}); FLUSHES it",
    )
    parser.add_argument("--quick", action="store_true", help="1 s warm-up and 3 × 1 s per URL")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per URL (2)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds through the URLs (5)")
    parser.add_argument("--round-seconds", type=int, default=2, help="per URL and round (2)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--load-tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--output", type=Path, help="results file (default bench-results/<date>.md)"
    )
    parser.add_argument(
        "--update-docs", action="store_true", help="also put the table into docs/PERFORMANCE.md"
    )
    options = parser.parse_args(argv)
    if options.quick:
        options.warmup, options.rounds, options.round_seconds = 1, 3, 1
    if min(options.warmup, options.rounds, options.round_seconds) < 1:
        parser.error("--warmup, --rounds and --round-seconds take whole numbers from 1")
    chosen = []
    for item in filter(None, (part.strip() for part in options.scenarios.split(","))):
        key = names[int(item) - 1] if item.isdigit() and 0 < int(item) <= len(names) else item
        if key not in names:
            parser.error(f"unknown scenario {item!r}; choose from {', '.join(names)}")
        chosen.append(key)
    options.scenarios = chosen
    options.databases = [part.strip() for part in options.databases.split(",") if part.strip()]
    if not options.databases or not set(options.databases) <= set(DATABASES):
        parser.error("--databases takes sqlite, postgres, postgres+redis or several")
    return options


def choose_load_tool(options: argparse.Namespace) -> tuple[Callable, str]:
    if options.load_tool != "python" and shutil.which("wrk"):
        version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
        return wrk_load, (version.split(" [")[0].strip() or "wrk")
    if options.load_tool == "wrk":
        sys.exit("wrk is not installed: apt-get install wrk (or use --load-tool python)")
    if options.load_tool == "auto":
        print(
            "WARNING: wrk is not installed (apt-get install wrk). Falling back to a Python load "
            "generator, which saturates before the server: its numbers are lower and noisier.",
            file=sys.stderr,
        )
    return python_load, "Python threads (not comparable with wrk's numbers)"


def open_databases(options: argparse.Namespace, tmp: Path, notes: list[str]) -> list[Database]:
    databases: list[Database] = []
    if "sqlite" in options.databases:
        databases.append(SQLiteDatabase(tmp))
    for name in ("postgres", "postgres+redis"):
        if name not in options.databases:
            continue
        redis_url = (options.redis_url or REDIS_DEFAULT) if name == "postgres+redis" else ""
        postgres = PostgresDatabase(options.postgres_url, redis_url)
        try:
            postgres.sql("SELECT 1")
            if redis_url:
                redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
            databases.append(postgres)
        except (psycopg.OperationalError, redis.RedisError) as error:
            notes.append(f"{postgres.label} skipped: cannot connect ({error})")
            print(notes[-1], file=sys.stderr)
    return databases


def run_scenarios(bench: Bench, database: Database) -> list[Row]:
    """Every chosen scenario on a fresh copy of `database`; a failing one does not stop the rest."""
    rows = []
    print(f"[{database.label}] migrating a base database…", flush=True)
    database.prepare(bench)
    for scenario in SCENARIOS:
        if scenario.key not in bench.options.scenarios:
            rows.append(
                Row(scenario.key, "not run this time (`--scenarios`)", database=database.label)
            )
            continue
        print(f"[{database.label}] {scenario.title}…", flush=True)
        database.fresh()
        try:
            found = scenario.run(bench, database)
        except Skip as skip:
            found = [Row(scenario.key, f"pending: {skip}")]
        except (RuntimeError, subprocess.SubprocessError) as error:
            print(f"    FAILED: {error}", file=sys.stderr)
            found = [Row(scenario.key, f"error: {str(error).splitlines()[0]}", met=False)]
        for row in found:
            row.database = database.label
            rate = f"{row.pair.page.rps:,.1f} req/s, {row.pair.share:.1%}" if row.pair else ""
            print(f"    {row.page}: {rate}", flush=True)
        rows += found
    return rows


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    load_tool, load_name = choose_load_tool(options)
    # Turn `kill` into an exception too, so gunicorn and the scratch databases are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rows: list[Row] = []
    notes: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="spaces-bench-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "bench_settings.py").write_text(
            "from config.settings import *  # noqa: F403\n\n"
            f"STATIC_ROOT = {str(tmp / 'static')!r}\n"
        )
        bench = Bench(options, tmp, load_tool, load_name)
        databases = open_databases(options, tmp, notes)
        if not databases:
            sys.exit("No database to benchmark: " + "; ".join(notes))
        print("collectstatic…", flush=True)
        bench.child(databases[0], "collectstatic")
        info = machine(bench, databases)
        for database in databases:
            try:
                rows += run_scenarios(bench, database)
            finally:
                database.drop()
    notes.append(f"Total run time {time.monotonic() - started:.0f} s.")
    text = report(info, rows, notes)
    print("\n" + text)
    stamp = f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
    output = options.output or ROOT / "bench-results" / f"{stamp}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(f"# Spaces benchmark\n\n{text}")
    print(f"Written to {output}")
    if options.update_docs:
        update_docs(text)
        print(f"Table updated in {DOCS}")
    return 0 if all(row.met is not False for row in rows) else 1


# --- Child: Django side --------------------------------------------------------------------------

ZH_SECTIONS = [
    (
        "最小二乘",
        "给定数据矩阵 $\\boldsymbol{X}\\in\\mathbb{R}^{n\\times d}$ 与目标 $\\boldsymbol{y}$，"
        "最小二乘求解\n\\begin{equation}\\boldsymbol{w}^* = \\mathop{\\text{argmin}}_"
        "{\\boldsymbol{w}} \\Vert \\boldsymbol{X}\\boldsymbol{w} - \\boldsymbol{y}\\Vert^2"
        "\\label{eq:ls-{n}}\\end{equation}\n令梯度为零得到正规方程 $\\boldsymbol{X}^{\\top}"
        "\\boldsymbol{X}\\boldsymbol{w} = \\boldsymbol{X}^{\\top}\\boldsymbol{y}$。",
    ),
    (
        "梯度下降",
        "梯度下降的迭代是 $\\boldsymbol{\\theta}_{t+1} = \\boldsymbol{\\theta}_t - \\eta"
        "\\nabla_{\\boldsymbol{\\theta}} L(\\boldsymbol{\\theta}_t)$，在学习率趋于零时它变成"
        "梯度流\n$$\\frac{d\\boldsymbol{\\theta}}{dt} = -\\nabla_{\\boldsymbol{\\theta}} "
        "L(\\boldsymbol{\\theta})$$\n沿着梯度流，损失单调下降：$\\frac{dL}{dt} = -\\Vert"
        "\\nabla L\\Vert^2 \\le 0$。",
    ),
    (
        "熵与温度",
        "带温度的 Softmax 为 $p_i = \\frac{e^{x_i/\\tau}}{\\sum_j e^{x_j/\\tau}}$，其熵\n"
        "\\begin{equation}H(\\tau) = -\\sum_i p_i \\log p_i\\end{equation}\n关于 $\\tau$ "
        "单调递增：$\\tau\\to 0$ 时退化为 one hot，$\\tau\\to\\infty$ 时趋于均匀分布。",
    ),
    (
        "矩阵分解",
        "任意矩阵都有奇异值分解 $\\boldsymbol{A} = \\boldsymbol{U}\\boldsymbol{\\Sigma}"
        "\\boldsymbol{V}^{\\top}$，于是\n\\begin{equation}\\begin{aligned}\n\\Vert\\boldsymbol{A}"
        "\\Vert_F^2 &= \\sum_i \\sigma_i^2 \\\\\n\\Vert\\boldsymbol{A}\\Vert_2 &= \\sigma_1\n"
        "\\end{aligned}\\end{equation}\n\n| 范数 | 定义 |\n| --- | --- |\n| Frobenius | "
        "$\\sqrt{\\sum \\sigma_i^2}$ |\n| 谱范数 | $\\sigma_1$ |",
    ),
    (
        "代码实现",
        "用 NumPy 几行就能验证上面的结论：\n\n```python\nimport numpy as np\n\nA = "
        "np.random.randn(4, 3)\nU, S, Vt = np.linalg.svd(A)\nassert np.isclose((A**2).sum(), "
        "(S**2).sum())\n```\n\n其中 $\\sigma_i$ 按从大到小排列。",
    ),
]
EN_SECTIONS = [
    (
        "Least squares",
        "Given a data matrix $X\\in\\mathbb{R}^{n\\times d}$ and targets $y$, least squares "
        "solves\n\\begin{equation}w^* = \\mathop{\\text{argmin}}_w \\Vert Xw - y\\Vert^2"
        "\\end{equation}\nand setting the gradient to zero gives the normal equations "
        "$X^{\\top}Xw = X^{\\top}y$.",
    ),
    (
        "Gradient descent",
        "Gradient descent iterates $\\theta_{t+1} = \\theta_t - \\eta\\nabla L(\\theta_t)$; as "
        "the learning rate goes to zero it becomes the gradient flow\n$$\\frac{d\\theta}{dt} = "
        "-\\nabla L(\\theta)$$\nalong which the loss never increases.",
    ),
    (
        "Entropy and temperature",
        "The softmax with temperature, $p_i = e^{x_i/\\tau}/\\sum_j e^{x_j/\\tau}$, has an "
        "entropy\n\\begin{equation}H(\\tau) = -\\sum_i p_i \\log p_i\\end{equation}\nthat grows "
        "with $\\tau$, from a one-hot vector to the uniform distribution.",
    ),
    (
        "Matrix factorisation",
        "Every matrix has a singular value decomposition $A = U\\Sigma V^{\\top}$, hence "
        "$\\Vert A\\Vert_F^2 = \\sum_i \\sigma_i^2$ and $\\Vert A\\Vert_2 = \\sigma_1$.",
    ),
]


def post_bodies() -> list[tuple[str, str]]:
    """(title stem, Markdown) per distinct body: four Chinese, four English, three sections each."""
    bodies = []
    for sections, intro in ((ZH_SECTIONS, "这是一篇关于{}的笔记。"), (EN_SECTIONS, "Notes on {}.")):
        for k in range(4):
            chosen = [sections[(k + i) % len(sections)] for i in range(3)]
            parts = [intro.format(chosen[0][0]), "<!--more-->"]
            parts += [f"## {heading}\n\n{text}" for heading, text in chosen]
            bodies.append((chosen[0][0], "\n\n".join(parts).replace("{n}", str(k))))
    return bodies


def article_body() -> str:
    """A long kexue.fm-style article: every section twice, some forty formulas."""
    parts = ["本文把几个常用的数学工具串起来，公式较多。", "<!--more-->"]
    for round_ in (1, 2):
        for heading, text in ZH_SECTIONS:
            parts.append(f"## {heading}（{round_}）\n\n{text.replace('{n}', f'a{round_}')}")
    return "\n\n".join(parts)


def seed(posts: int, comments: list[int] | None = None, ids: bool = False) -> dict:
    """Bulk-create a site of `posts` published posts; each distinct body is rendered once."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from blog.models import Author, Category, Post, PostAuthor, PostViews, Tag
    from blog.rendering import plain_text, render_markdown

    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench{n}", email=f"bench{n}@example.com") for n in range(3)
    )
    authors = Author.objects.bulk_create(
        Author(user=user, display_name=name, slug=f"bench-{n}")
        for n, (user, name) in enumerate(zip(users, ["苏剑林", "林一", "Ada"], strict=True))
    )
    categories = Category.objects.bulk_create(
        Category(name=name, slug=f"c{n}", order=n)
        for n, name in enumerate(["数学", "机器学习", "物理", "信息时代", "生活", "Notes"])
    )
    tag_names = [f"{stem}{n}" for n in range(10) for stem in ("优化", "概率", "matrix", "熵")]
    tags = Tag.objects.bulk_create(Tag(name=name, slug=f"t{n}") for n, name in enumerate(tag_names))
    rendered = [(stem, body, render_markdown(body)) for stem, body in post_bodies()]
    # The article, and the posts that get comments, sit mid-archive: with neighbours either side.
    long_body = article_body()
    long_html = render_markdown(long_body)
    long_posts = range(posts // 2, posts // 2 + 1 + len(comments or []))
    now = timezone.now()
    rows = []
    for n in range(posts):
        stem, body, html = rendered[n % len(rendered)]
        title = f"{stem}（{n}）" if n % 8 < 4 else f"{stem} ({n})"
        if n in long_posts:
            title, body, html = f"数学工具串讲（{n}）", long_body, long_html
        rows.append(
            Post(
                title=title,
                status=Post.Status.PUBLISHED,
                published_at=now - dt.timedelta(hours=6 * n + 1),
                body=body,
                body_html=html.html,
                excerpt_html=html.excerpt_html,
                toc=[list(entry) for entry in html.toc],
                has_math=html.has_math,
                search_text=plain_text(html.html),
            )
        )
    Post.objects.bulk_create(rows, batch_size=500)
    PostViews.objects.bulk_create(
        (PostViews(post=post, views=(n * 37) % 5000) for n, post in enumerate(rows)),
        batch_size=2000,
    )
    all_ids = ids
    ids = list(Post.objects.order_by("-published_at").values_list("id", flat=True))
    PostAuthor.objects.bulk_create(
        (PostAuthor(post_id=pk, author=authors[n % 3], order=0) for n, pk in enumerate(ids)),
        batch_size=2000,
    )
    Post.categories.through.objects.bulk_create(
        (
            Post.categories.through(post_id=pk, category=categories[n % 6])
            for n, pk in enumerate(ids)
        ),
        batch_size=2000,
    )
    Post.tags.through.objects.bulk_create(
        (
            Post.tags.through(post_id=pk, tag=tags[(n + shift) % len(tags)])
            for n, pk in enumerate(ids)
            for shift in (0, 13, 26)
        ),
        batch_size=2000,
    )
    commented = [ids[n] for n in long_posts[1:]]
    if comments:
        seed_comments(dict(zip(commented, comments, strict=True)))
    site = {"article": ids[posts // 2], "tag": tags[0].name, "commented": commented}
    return site | ({"ids": ids} if all_ids else {})


COMMENT_BODIES = [
    "请问式 $(2)$ 中的 $\\lambda$ 是怎么选的？是否有 $\\lambda \\propto 1/n$ 的经验规律？",
    "写得很清楚，谢谢！补充一点：当 $d \\gg n$ 时可以用 $\\boldsymbol{X}\\boldsymbol{X}^{\\top}$ "
    "的形式求逆，计算量从 $\\mathcal{O}(d^3)$ 降到 $\\mathcal{O}(n^3)$。",
    "Nice derivation. Isn't $$\\nabla_w \\Vert Xw-y\\Vert^2 = 2X^{\\top}(Xw-y)$$ "
    "missing a factor somewhere in the second section?",
    "> 正则项就是先验\n\n这个观点很有启发。那 $L_1$ 正则对应 Laplace 先验吗？",
]


def seed_comments(counts: dict[int, int]) -> None:
    """Approved comments per post, 60 % threads and 40 % replies up to two levels deep.

    A bulk import, so the tree columns are placeholders until the final `rebuild()`."""
    from django.db.models import F

    from blog.models import Post
    from blog.rendering import Profile, render_markdown
    from comments.models import Comment
    from comments.services import tree_lock

    bodies = [(body, render_markdown(body, Profile.COMMENT).html) for body in COMMENT_BODIES]
    tree = {"lft": 0, "rght": 0, "tree_id": 0, "level": 0}

    def comments(post_id: int, parents: list, start: int, count: int) -> list:
        published = Post.objects.values_list("published_at", flat=True).get(pk=post_id)
        rows = []
        for n in range(start, start + count):
            body, html = bodies[n % len(bodies)]
            rows.append(
                Comment(
                    post_id=post_id,
                    parent=parents[n % len(parents)] if parents else None,
                    author_name=f"读者{n}",
                    author_email=f"reader{n}@example.com",
                    body=body,
                    body_html=html,
                    status=Comment.Status.APPROVED,
                    ip_address="192.0.2.1",
                    created_at=published + dt.timedelta(minutes=n),
                    **tree,
                )
            )
        return Comment.objects.bulk_create(rows, batch_size=500)

    with tree_lock():
        for post_id, count in counts.items():
            threads = comments(post_id, [], 0, count * 6 // 10)
            replies = comments(post_id, threads, len(threads), count * 3 // 10)
            comments(
                post_id, replies, len(threads) + len(replies), count - len(threads) - len(replies)
            )
            Post.objects.filter(pk=post_id).update(comment_count=F("comment_count") + count)
        Comment.objects.rebuild()


def typecho_site(path: str, posts: int, comments: int) -> dict:
    """A Typecho SQLite database of `posts` posts (the seed's bodies) and `comments` comments:
    threads three deep, some pending and spam, categories in a hierarchy, tags, fields, views."""
    from tests.importers import typecho_site as typecho

    bodies = [body for _, body in post_bodies()]
    stems = [stem for stem, _ in post_bodies()]
    per_post = comments // posts
    rows: dict[str, list[dict]] = {name: [] for name in typecho.TABLES}
    rows["users"] = [
        {"uid": n, "name": f"writer{n}", "password": "0" * 32, "mail": f"w{n}@example.org",
         "screenName": name, "group": "administrator" if n == 1 else "editor"}
        for n, name in enumerate(["苏剑林", "林一", "Ada"], start=1)
    ]  # fmt: skip
    rows["metas"] = [
        {"mid": m, "name": f"分类{m}", "slug": f"c{m}", "type": "category", "order": m,
         "parent": 0 if m <= 3 else m - 3}
        for m in range(1, 10)
    ] + [
        {"mid": m, "name": f"标签{m}", "slug": f"t{m}", "type": "tag", "order": 0, "parent": 0}
        for m in range(10, 50)
    ]  # fmt: skip
    coid = 0
    for cid in range(1, posts + 1):
        body = bodies[cid % len(bodies)]
        row = typecho.post(
            cid, f"{stems[cid % len(stems)]}（{cid}）", text="<!--markdown-->" + body
        )
        rows["contents"].append(row | {"authorId": 1 + cid % 3, "views": cid * 7})
        rows["relationships"] += [
            {"cid": cid, "mid": 1 + cid % 9},
            {"cid": cid, "mid": 10 + cid % 40},
        ]
        rows["fields"].append(
            {"cid": cid, "name": "thumb", "type": "str", "str_value": f"/t/{cid}.png"}
        )
        count = per_post + (1 if cid <= comments - per_post * posts else 0)
        first = coid + 1
        for n in range(count):
            coid += 1
            # 60 % start a thread; the rest reply one, two or three levels down.
            parent = 0 if n < count * 6 // 10 or n == 0 else first + (n * 7) % (coid - first)
            status = "spam" if n % 23 == 5 else "waiting" if n % 17 == 3 else "approved"
            rows["comments"].append(
                typecho.comment(
                    coid, cid, parent=parent, status=status, created=row["created"] + n * 60
                )
                | {"text": COMMENT_BODIES[coid % len(COMMENT_BODIES)]}
            )
    connection = sqlite3.connect(path)
    cursor = connection.cursor()
    typecho.create_tables(cursor, "sqlite", views=True)
    for table, table_rows in rows.items():
        typecho.insert(cursor, "sqlite", table, table_rows)
    connection.commit()
    connection.close()
    return {"comments": coid}


def import_typecho(path: str) -> dict:
    """Time `manage.py import_typecho` in this process; check what it wrote."""
    from io import StringIO

    from django.core.management import call_command

    from blog.models import Post
    from comments.management.commands.check_comment_trees import tree_errors
    from comments.models import Comment

    started, cpu = time.monotonic(), time.process_time()
    call_command("import_typecho", path, stdout=StringIO(), stderr=StringIO())
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    source = sqlite3.connect(path)
    posts, comments = (
        source.execute(f"SELECT count(*) FROM typecho_{table}").fetchone()[0]
        for table in ("contents", "comments")
    )
    complete = (
        Post.objects.count() == posts
        and Comment.objects.count() == comments
        and next(tree_errors(), None) is None
    )
    return {"seconds": seconds, "cpu": cpu, "complete": complete}


def child(action: str, payload: dict) -> dict:
    """The Django side of the benchmark, run in a process set up for one database."""
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum

    from blog.models import PostViews

    if action == "collectstatic":
        call_command("collectstatic", interactive=False, verbosity=0)
        return {}
    if action == "migrate":
        call_command("migrate", interactive=False, verbosity=0)
        connection.close()  # SQLite folds its WAL back into the file the scenarios copy
        return {}
    if action == "features":
        return {
            "views": {name: resolves(path) for name, path in FEATURE_PATHS.items()},
            "counting_switch": hasattr(settings, "SPACES_VIEW_COUNTING"),
            "comments": importable("comments.models", "Comment"),
            "importers": importable("importers.typecho", "TypechoSource"),
        }
    if action == "seed":
        return seed(**payload)
    if action == "typecho_site":
        return typecho_site(**payload)
    if action == "import_typecho":
        return import_typecho(**payload)
    if action == "views":
        # What the reads journal holds too, as `manage.py flush_views` moves it (the servers
        # flush it themselves every SPACES_VIEW_FLUSH_SECONDS, so a load pays for that).
        call_command("flush_views", verbosity=0, stdout=io.StringIO())
        return PostViews.objects.aggregate(total=Sum("views"))
    if action == "commenter_cookie":
        return {"cookie": commenter_cookie()}
    if action == "writer":
        return write_continuously(**payload)
    if action == "writes":
        return writes_so_far()
    raise ValueError(f"unknown child action {action!r}")


def commenter_cookie() -> str:
    """The `Cookie` header of a reader who has commented before, as the site sets it."""
    from django.http import HttpResponse

    from comments.models import Comment
    from comments.visitors import COOKIE, remember_commenter

    response = HttpResponse()
    comment = Comment(author_name="常客", author_email="regular@example.com")
    remember_commenter(response, comment)
    return f"{COOKIE}={response.cookies[COOKIE].coded_value}"


WRITER_MARK = "[site-day]"


def write_continuously(
    popular: list[int], comment_every: float, edit_every: float, limit: int | None = None
) -> dict:
    """Until stopped (or `limit` comments): a comment approved every `comment_every` s (written
    pending, then approved as a moderator does) and a post edited every `edit_every` s, both on
    posts chosen by the readers' Zipf law."""
    from blog.models import Post
    from comments import services
    from comments.models import Comment

    rng = random.Random()
    weights = [1 / rank**SITE_DAY_ZIPF for rank in range(1, len(popular) + 1)]
    started = time.monotonic()
    comments = edits = 0
    while True:
        (post_id,) = rng.choices(popular, weights)
        comment = Comment(
            post_id=post_id,
            author_name=f"读者{comments}",
            author_email=f"day{comments}@example.com",
            body=f"{WRITER_MARK} 第 {comments} 条：$e^{{i\\pi}} + 1 = 0$ 是怎么来的？",
        )
        with services.tree_lock():
            comment.save()
        services.set_status([comment.pk], Comment.Status.APPROVED)
        comments += 1
        if time.monotonic() - started >= (edits + 1) * edit_every:
            (post_id,) = rng.choices(popular, weights)
            post = Post.objects.get(pk=post_id)
            post.body += f"\n\n{WRITER_MARK} 更新 {edits}：补充一个例子 $x^2 \\ge 0$。"
            post.render()
            post.save()
            edits += 1
        if comments == limit:
            return {"comments": comments, "edits": edits}
        time.sleep(max(0.0, started + comments * comment_every - time.monotonic()))


def writes_so_far() -> dict:
    """How many of the writer's comments and edits the database holds."""
    from blog.models import Post
    from comments.models import Comment

    return {
        "comments": Comment.objects.filter(body__startswith=WRITER_MARK).count(),
        "edits": sum(
            post.body.count(WRITER_MARK)
            for post in Post.objects.filter(body__contains=WRITER_MARK).only("body")
        ),
    }


def resolves(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def importable(module: str, name: str) -> bool:
    try:
        return hasattr(__import__(module, fromlist=[name]), name)
    except ImportError:
        return False


if __name__ == "__main__":
    # Run as a script, Python puts tests/ first on the path, where tests/blog shadows the app.
    sys.path[0] = str(ROOT)
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        answer = child(sys.argv[2], json.loads(sys.argv[3]))
        print(RESULT_PREFIX + json.dumps(answer))
        sys.exit(0)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit("Interrupted; the server was stopped and the scratch databases dropped.")
