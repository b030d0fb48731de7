"""How long the whole course takes offline, what replay costs per call, and what the offline sandbox costs.

    python benchmarks/bench_course.py            # every lesson, then the replay overhead
    python benchmarks/bench_course.py --calls 500

Goals on a 2-core machine: the whole course ≤ 60 s; replay ≤ 5 ms per call. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from apicourse import navigation  # noqa: E402
from notebooks import execute_notebook  # noqa: E402

CHAT_BODY = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


def run_course() -> float:
    total = 0.0
    print(f"{'notebook':<32}{'seconds':>9}")
    for path in navigation.lessons():
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            execute_notebook(path, Path(tmp))
            took = time.perf_counter() - began
        total += took
        print(f"{path.stem:<32}{took:>9.2f}")
    print(f"{'whole course':<32}{total:>9.2f}   (goal ≤ 60 s)")
    return total


def replay_overhead(calls: int) -> None:
    """Median time of one chat completion replayed from a cassette, against the same SDK call answered
    in memory by an httpx2 MockTransport (the SDK's own cost): the difference is what replay adds."""
    import httpx2
    import openai
    import vcr

    messages = [{"role": "user", "content": "Hello!"}]
    with tempfile.TemporaryDirectory() as tmp:
        cassette = Path(tmp) / "bench.yaml"
        mock = httpx2.MockTransport(lambda request: httpx2.Response(200, json=CHAT_BODY))
        direct = openai.OpenAI(api_key="sk-bench", http_client=httpx2.Client(transport=mock))
        recorder = vcr.VCR(record_mode="all", match_on=("method", "path", "query", "body"))
        # vcrpy patches httpx2's MockTransport too: record the in-memory answer once, then replay it.
        with recorder.use_cassette(str(cassette)):
            direct.chat.completions.create(model="gpt-4o", messages=messages)
        player = vcr.VCR(record_mode="none", match_on=("method", "path", "query", "body"))
        replayed = openai.OpenAI(api_key="sk-bench", http_client=httpx2.Client(transport=mock))

        def median_ms(client: openai.OpenAI, context) -> float:
            times = []
            with context:
                for _ in range(calls):
                    began = time.perf_counter()
                    client.chat.completions.create(model="gpt-4o", messages=messages)
                    times.append((time.perf_counter() - began) * 1000)
            return statistics.median(times)

        class Nothing:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

        baseline = median_ms(direct, Nothing())
        with_replay = median_ms(replayed, player.use_cassette(str(cassette), allow_playback_repeats=True))
        began = time.perf_counter()
        for _ in range(20):
            with player.use_cassette(str(cassette)):
                pass
        load_ms = (time.perf_counter() - began) / 20 * 1000
    print(f"SDK call answered in memory: median {baseline:.3f} ms over {calls} calls")
    print(f"SDK call replayed by vcrpy:  median {with_replay:.3f} ms")
    print(f"replay overhead per call:    {with_replay - baseline:+.3f} ms (ratio {with_replay / baseline:.2f}x; goal ≤ 5 ms)")
    print(f"loading a one-call cassette: {load_ms:.3f} ms")


def sandbox_time(calls: int) -> None:
    """Median time of one unrecorded chat completion (a changed prompt), answered in-process by the offline
    sandbox (the stand-in's FastAPI app, no server), plain and streamed."""
    import os

    import openai

    import apicourse
    from apicourse import replay

    with tempfile.TemporaryDirectory() as tmp:
        os.environ[replay.CASSETTE_DIR_VAR] = tmp  # an empty cassette: every call is unrecorded
        os.environ["APICOURSE_STREAM_DELAY"] = "0"
        os.environ.pop("APICOURSE_STRICT_REPLAY", None)
        course = apicourse.start("05_openai", quiet=True)
        client = openai.OpenAI()
        for stream in (False, True):
            times = []
            for i in range(calls):
                began = time.perf_counter()
                answer = client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": f"Prompt number {i}"}], stream=stream
                )
                if stream:
                    list(answer)
                times.append((time.perf_counter() - began) * 1000)
            kind = "streamed" if stream else "plain"
            print(f"offline sandbox, {kind:<8} median {statistics.median(times):.2f} ms over {calls} calls")
        course.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--skip-course", action="store_true")
    args = parser.parse_args()
    if not args.skip_course:
        run_course()
    replay_overhead(args.calls)
    sandbox_time(min(args.calls, 100))


if __name__ == "__main__":
    main()
