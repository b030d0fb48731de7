"""Load on the practice API: requests per second and p99 latency, and the rate limits holding under load.

    python benchmarks/bench_practice_load.py [--seconds 5] [--connections 8]

The server runs in this process, exactly as ``practice.start()`` runs it for a lesson (uvicorn in a
background thread, 127.0.0.1); the load comes from a second process over loopback: a small asyncio
client keeping ``--connections`` HTTP/1.1 connections busy, bounded by time and by count.

1. With the rate limits out of the way (huge ``rpm``/``tpm``), ``POST /v1/chat/completions`` and
   ``GET /v1/files`` (20 files listed): requests/s, p50 and p99 latency, and the server's CPU time per
   request (the figure that does not depend on what else the machine is running).
2. With a lesson's limits, a burst far over them: exactly ``rpm`` requests (and exactly as many chat
   completions as fit in ``tpm`` tokens) get 200, every other one 429. Exit status 1 if not.

Prints measured figures (not a test). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Explain APIs in one sentence."}]}


# ---------------------------------------------------------------- the load generator (second process)


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    port: int, request: bytes, deadline: float, budget: list[int], results: list[tuple[int, float]]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status = await _read_response(reader)
            results.append((status, time.perf_counter() - started))
    finally:
        writer.close()


def _request_bytes(method: str, path: str, key: str, body: dict | None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    return (head + "\r\n").encode() + data


def client_main(args: argparse.Namespace) -> None:
    """The second process: drive one route, print what happened as JSON."""
    body = json.loads(args.body) if args.body else None
    request = _request_bytes(args.method, args.path, args.key, body)
    results: list[tuple[int, float]] = []
    budget = [args.max_requests]

    async def run() -> float:
        started = time.perf_counter()
        deadline = started + args.seconds
        await asyncio.gather(
            *(_connection(args.port, request, deadline, budget, results) for _ in range(args.connections))
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    latencies = sorted(seconds for _, seconds in results)
    print(
        json.dumps(
            {
                "requests": len(results),
                "seconds": elapsed,
                "statuses": statuses,
                "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
                "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0,
            }
        )
    )


# ---------------------------------------------------------------- the benchmark (this process serves)


def drive(api, method: str, path: str, body: dict | None, *, seconds: float, connections: int, max_requests: int):
    """Run the load generator in a second process against ``api``; its figures as a dict."""
    command = [
        sys.executable,
        __file__,
        "--client",
        "--port", str(api.port),
        "--key", api.key,
        "--method", method,
        "--path", path,
        "--body", json.dumps(body) if body is not None else "",
        "--seconds", str(seconds),
        "--connections", str(connections),
        "--max-requests", str(max_requests),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise SystemExit(f"load generator failed:\n{done.stderr}")
    return json.loads(done.stdout)


def throughput(api, seconds: float, connections: int) -> None:
    """Requests/s and latency with the limits out of the way."""
    import requests

    api.configure(rpm=10**9, tpm=10**12, window_seconds=60)
    for i in range(20):
        files = {"file": (f"train-{i}.jsonl", b'{"messages": []}\n')}
        requests.post(f"{api.url}/v1/files", headers=api.headers, files=files, data={"purpose": "fine-tune"}, timeout=5)
    print(f"Throughput, rate limits off ({connections} connections, {seconds:g} s per route, one server thread):")
    for label, method, path, body in (
        ("POST /v1/chat/completions", "POST", "/v1/chat/completions", CHAT),
        ("GET /v1/files (20 files)", "GET", "/v1/files", None),
    ):
        api.reset_limits()
        cpu = time.process_time()  # this process only serves meanwhile: its CPU time is the server's
        r = drive(api, method, path, body, seconds=seconds, connections=connections, max_requests=10**6)
        cpu_ms = 1000 * (time.process_time() - cpu) / max(1, r["requests"])
        ok = r["statuses"].get("200", 0)
        print(
            f"  {label:28} {r['requests'] / r['seconds']:8.0f} requests/s   p50 {r['p50_ms']:6.2f} ms   "
            f"p99 {r['p99_ms']:6.2f} ms   server CPU {cpu_ms:.2f} ms/request   ({r['requests']} requests, {ok} × 200)"
        )
        if ok != r["requests"]:
            print(f"    unexpected statuses: {r['statuses']}")


def limits_hold(api, connections: int) -> bool:
    """A burst far over a lesson's limits: exactly the allowed number get through."""
    import requests

    print(f"Rate limits under load ({connections} connections, one burst each, window 60 s):")
    held = True
    rpm, burst = 50, 600
    api.configure(rpm=rpm, tpm=10**12, window_seconds=60)
    r = drive(api, "GET", "/v1/files", None, seconds=60, connections=connections, max_requests=burst)
    held &= _report(f"rpm={rpm}", r, rpm, burst)

    api.configure(rpm=10**9, tpm=10**12, window_seconds=60)
    cost = requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, json=CHAT, timeout=5).json()
    per_call = cost["usage"]["total_tokens"]
    tpm = 40 * per_call + per_call // 2  # room for 40 calls, not 41
    api.configure(rpm=10**9, tpm=tpm, window_seconds=60)
    r = drive(api, "POST", "/v1/chat/completions", CHAT, seconds=60, connections=connections, max_requests=burst)
    held &= _report(f"tpm={tpm} ({per_call} tokens a call)", r, tpm // per_call, burst)
    return held


def _report(label: str, r: dict, allowed: int, burst: int) -> bool:
    ok, refused = r["statuses"].get("200", 0), r["statuses"].get("429", 0)
    holds = ok == allowed and refused == burst - allowed and r["requests"] == burst
    print(
        f"  {label:32} {burst} sent: {ok} × 200, {refused} × 429   (expected exactly {allowed} × 200)   "
        f"{'holds' if holds else 'BROKEN: ' + json.dumps(r['statuses'])}"
    )
    return holds


def main() -> None:
    """Parse the arguments; run as the benchmark, or as its load generator (``--client``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="load time per route (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    for name in ("--port", "--max-requests"):
        parser.add_argument(name, type=int, default=0, help=argparse.SUPPRESS)
    for name in ("--key", "--method", "--path", "--body"):
        parser.add_argument(name, default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args)
        return

    from apicourse import practice

    with practice.start(replace=False, quiet=True, key=practice.new_key()) as api:
        throughput(api, args.seconds, args.connections)
        held = limits_hold(api, args.connections)
    raise SystemExit(0 if held else 1)


if __name__ == "__main__":
    main()
