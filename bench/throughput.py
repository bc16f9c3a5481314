#!/usr/bin/env python3
"""Job throughput: no-op jobs enqueued and completed per second, end to end,
with 2 workers — kinoflow on SQLite, kinoflow on PostgreSQL, and Celery 5 with
Redis (broker and result backend) doing the same, all in one run. Each system
is measured submitting one job per call and submitting in batches of 100
(kinoflow's `POST /v1/jobs/batch`, Celery's `group`), with the CPU time its
server side spent per job (kinoflow and, on PostgreSQL, the database's
processes; Celery's worker processes and Redis). Then kinoflow's latency from
submission to `succeeded` (the job's own `created_at` to `finished_at`) at
half its peak one-per-call rate, p50 and p99.

Run through bench/throughput (it installs what is missing and builds kinoflow)."""

import concurrent.futures
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

JOBS = int(os.environ.get("BENCH_JOBS", "5000"))
# Each figure is the best of this many runs: the machine is shared and noisy.
RUNS = 3
BATCH = 100
CLIENTS = 8
NOOP = {"pipeline": "noop", "params": {}}
LATENCY_JOBS = 2000
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """User and system CPU seconds the processes `pids` (and the children
    they waited for) have used."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / TICKS


def pids_named(*names):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/comm").read().strip() in names:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry))
    return found


class Api:
    """One keep-alive HTTP connection per client thread, as a real client keeps."""

    def __init__(self, base):
        self.host = urlsplit(base).netloc
        self.local = threading.local()
        self.token = None

    def request(self, method, path, body=None):
        if not hasattr(self.local, "connection"):
            self.local.connection = http.client.HTTPConnection(self.host, timeout=60)
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        data = json.dumps(body) if body is not None else None
        try:
            self.local.connection.request(method, path, data, headers)
            response = self.local.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closes connections idle for a minute: open another.
            self.local.connection = http.client.HTTPConnection(self.host, timeout=60)
            self.local.connection.request(method, path, data, headers)
            response = self.local.connection.getresponse()
        payload = response.read()
        if response.status >= 400:
            sys.exit(f"{method} {path} answered {response.status}: {payload[:200]!r}")
        return payload


def start_kinoflow(kinoflow, work, database_url=None):
    data = os.path.join(work, "data")
    log = open(os.path.join(work, "server.log"), "w")
    command = [kinoflow, "serve", "--bind", "127.0.0.1:0", "--data-dir", data, "--workers", "2"]
    if database_url:
        command += ["--database-url", database_url]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log,
                               env={**os.environ, "RUST_LOG": "warn,kinoflow_server=info",
                                    "KINOFLOW_TEST_PIPELINES": "true"})
    deadline = time.time() + 30
    while time.time() < deadline:
        text = open(log.name).read()
        match = re.search(r"listening on (http://\S+)", text)
        if match:
            return process, match.group(1)
        time.sleep(0.05)
    process.kill()
    sys.exit("kinoflow did not start:\n" + open(log.name).read())


def succeeded(api):
    metrics = api.request("GET", "/metrics").decode()
    match = re.search(r'kinoflow_jobs\{pipeline="noop",state="succeeded"\} (\d+)', metrics)
    return int(match.group(1)) if match else 0


def signed_in(base):
    api = Api(base)
    credentials = {"email": "bench@example.com", "password": "benchmark password"}
    api.request("POST", "/v1/auth/register", credentials)
    api.token = json.loads(api.request("POST", "/v1/auth/token", credentials))["access_token"]
    return api


def kinoflow_rate(kinoflow, batch, database_url=None):
    """Jobs per second, and server CPU microseconds per job."""
    work = tempfile.mkdtemp(prefix="kinoflow-throughput-")
    process, base = start_kinoflow(kinoflow, work, database_url)
    try:
        api = signed_in(base)
        server = [process.pid] + (pids_named("postgres") if database_url else [])
        cpu_before = cpu_seconds(server)
        if batch:
            calls = JOBS // BATCH
            submit = lambda _: api.request("POST", "/v1/jobs/batch", {"jobs": [NOOP] * BATCH})
        else:
            calls = JOBS
            submit = lambda _: api.request("POST", "/v1/jobs", NOOP)
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(submit, range(calls)))
        while succeeded(api) < JOBS:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        return JOBS / elapsed, (cpu_seconds(server) - cpu_before) / JOBS * 1e6
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(work, ignore_errors=True)


def iso_ms(text):
    """Milliseconds since the epoch of an RFC 3339 time kinoflow wrote."""
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def kinoflow_latency(kinoflow, rate, database_url=None):
    """p50 and p99 milliseconds from submission to `succeeded`, with jobs
    submitted one per call at `rate` per second, evenly spaced."""
    work = tempfile.mkdtemp(prefix="kinoflow-latency-")
    process, base = start_kinoflow(kinoflow, work, database_url)
    try:
        api = signed_in(base)
        # At most about ten seconds of submissions.
        jobs = max(CLIENTS, min(LATENCY_JOBS, int(rate * 10)))
        interval = CLIENTS / rate
        started = time.perf_counter()

        def paced(client):
            for n in range(jobs // CLIENTS):
                due = started + (n + client / CLIENTS) * interval
                time.sleep(max(0.0, due - time.perf_counter()))
                api.request("POST", "/v1/jobs", NOOP)

        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(paced, range(CLIENTS)))
        total = jobs // CLIENTS * CLIENTS
        while succeeded(api) < total:
            time.sleep(0.02)
        latencies = []
        cursor = None
        while True:
            path = "/v1/jobs?limit=200" + (f"&cursor={cursor}" if cursor else "")
            page = json.loads(api.request("GET", path))
            latencies += [iso_ms(job["finished_at"]) - iso_ms(job["created_at"])
                          for job in page["jobs"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        latencies.sort()
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        return pick(0.50), pick(0.99)
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(work, ignore_errors=True)


CELERY_TASKS = '''
from celery import Celery
app = Celery("tasks", broker="redis://127.0.0.1:6379/14", backend="redis://127.0.0.1:6379/15")
app.conf.worker_prefetch_multiplier = 4

@app.task
def noop():
    return None
'''


def celery_rate(batch):
    work = tempfile.mkdtemp(prefix="celery-throughput-")
    with open(os.path.join(work, "tasks.py"), "w") as f:
        f.write(CELERY_TASKS)
    subprocess.run(["redis-cli", "-n", "14", "flushdb"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["redis-cli", "-n", "15", "flushdb"], check=True, stdout=subprocess.DEVNULL)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--concurrency", "2",
         "--loglevel", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server = [worker.pid] + pids_named("redis-server")
        sys.path.insert(0, work)
        from celery import group  # noqa: E402
        from tasks import noop  # noqa: E402
        noop.delay().get(timeout=60)  # the worker is up
        server += children_of(worker.pid)
        cpu_before = cpu_seconds(server)
        started = time.perf_counter()
        if batch:
            # Celery's Redis result backend hangs when groups are sent from
            # several threads at once: one thread sends them.
            results = [group(noop.s() for _ in range(BATCH)).apply_async()
                       for _ in range(JOBS // BATCH)]
        else:
            with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(lambda _: noop.delay(), range(JOBS)))
        for result in results:
            result.get(timeout=300)
        elapsed = time.perf_counter() - started
        return JOBS / elapsed, (cpu_seconds(server) - cpu_before) / JOBS * 1e6
    finally:
        worker.terminate()
        worker.wait()
        shutil.rmtree(work, ignore_errors=True)


def postgres_database():
    name = "kinoflow_throughput"
    admin = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"]
    subprocess.run(admin + [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
    subprocess.run(admin + [f"CREATE DATABASE {name}"], check=True)
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def measured(system, how, run):
    """Says each run as it ends (runs vary; the table keeps the best)."""
    print(f"{system}, {how}: {run[0]:.0f} jobs/s, {run[1]:.0f} CPU us/job", flush=True)
    return run


def best(runs):
    """The fastest of several runs: (jobs/s, CPU us per job)."""
    return max(runs, key=lambda run: run[0])


def main():
    kinoflow = sys.argv[1]
    rows = []
    peaks = {}
    for batch in (False, True):
        how = f"batches of {BATCH}" if batch else "one per call"
        celery = best([measured("Celery", how, celery_rate(batch)) for _ in range(RUNS)])
        sqlite = best([measured("SQLite", how, kinoflow_rate(kinoflow, batch))
                       for _ in range(RUNS)])
        postgres = best([measured("PostgreSQL", how,
                                  kinoflow_rate(kinoflow, batch, postgres_database()))
                         for _ in range(RUNS)])
        if not batch:
            peaks = {"SQLite": sqlite[0], "PostgreSQL": postgres[0]}
        rows += [
            (f"Celery 5 + Redis, {how}", celery, celery),
            (f"kinoflow, SQLite, {how}", sqlite, celery),
            (f"kinoflow, PostgreSQL, {how}", postgres, celery),
        ]
    latency = {
        "SQLite": kinoflow_latency(kinoflow, peaks["SQLite"] / 2),
        "PostgreSQL": kinoflow_latency(kinoflow, peaks["PostgreSQL"] / 2, postgres_database()),
    }
    print()
    print(f"{JOBS} no-op jobs, 2 workers, submitted by {CLIENTS} concurrent clients, end to end,")
    print(f"best of {RUNS} runs; CPU is the server side's (user + system) per job:")
    print()
    print("| system, submission | jobs/s | against Celery submitting the same way | CPU us/job |")
    print("|---|---|---|---|")
    for name, (rate, cpu), (celery_rate_, _) in rows:
        print(f"| {name} | {rate:.0f} | {rate / celery_rate_:.2f} x | {cpu:.0f} |")
    print()
    print("kinoflow latency, submission to succeeded, jobs one per call at half the peak")
    print(f"one-per-call rate (up to {LATENCY_JOBS} jobs, about ten seconds):")
    print()
    print("| database | rate, jobs/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name, (p50, p99) in latency.items():
        print(f"| {name} | {peaks[name] / 2:.0f} | {p50:.1f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
