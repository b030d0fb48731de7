"""The record command: refuses without keys (writing nothing); with --standin it records a notebook through
the official SDKs — sync, async, streaming, binary — into a scrubbed cassette the SDKs read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from cassette_checks import check_cassette, header, load

from apicourse.record import missing_keys, providers_used, secret_problems

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")

CELLS = [
    'import apicourse; course = apicourse.start("98_tiny")',
    """from openai import OpenAI, AsyncOpenAI
import asyncio
oai = OpenAI()
print(oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Say hello"}]).id)
for chunk in oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Say hello"}],
                                         stream=True, stream_options={"include_usage": True}):
    pass
print(oai.responses.create(model="gpt-4o", input="Say hello").output_text)
with oai.responses.stream(model="gpt-4o", input="Say hello, streamed") as s:
    print(s.get_final_response().status)
async def ask():
    return await AsyncOpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}])
print((await ask()).model)""",
    """import anthropic
from apicourse import models
claude = anthropic.Anthropic()
print(claude.messages.create(model=models.anthropic(), max_tokens=50,
                             messages=[{"role": "user", "content": "Say hello"}]).stop_reason)
with claude.messages.stream(model=models.anthropic(), max_tokens=50,
                            messages=[{"role": "user", "content": "What's the weather in Paris?"}],
                            tools=[{"name": "get_weather", "input_schema": {"type": "object"}}]) as s:
    print(s.get_final_message().stop_reason)""",
    """from huggingface_hub import InferenceClient
hf = InferenceClient()
print(hf.chat_completion([{"role": "user", "content": "Say hello"}], model="meta-llama/Llama-3.3-70B-Instruct").id)
print(hf.text_classification("I love this", model="distilbert/distilbert-base-uncased-finetuned-sst-2-english"))
print(hf.text_to_image("a fox", model="stabilityai/stable-diffusion-xl-base-1.0").size)""",
]


def _notebook(folder: Path, cells: list[str] = CELLS, name: str = "98_tiny") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS and not k.startswith("APICOURSE_")}
    env["APICOURSE_ENV_FILE"] = str(tmp_path / "no.env")  # never the developer's own .env
    env.update(extra)
    return env


def _record(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apicourse.record", *args, "--cassettes", str(tmp_path / "cassettes")],
        capture_output=True, text=True, env=_env(tmp_path, **extra), timeout=300, check=False,
    )  # fmt: skip


def test_scanning_finds_the_providers_a_notebook_uses() -> None:
    assert providers_used(CELLS) == ["openai", "anthropic", "huggingface"]
    assert providers_used(["import requests"]) == []


def test_refuses_without_keys_and_writes_nothing(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path)
    done = _record(tmp_path, str(notebook))
    assert done.returncode == 2
    assert (
        "OPENAI_API_KEY" in done.stderr and "ANTHROPIC_API_KEY" in done.stderr and "HF_TOKEN" in done.stderr
    )
    assert "--standin" in done.stderr
    assert not (tmp_path / "cassettes").exists()


def test_names_only_the_missing_keys(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path)
    assert missing_keys([notebook], {"OPENAI_API_KEY": "sk-mine", "HF_TOKEN": "hf_mine"}) == {
        "98_tiny": ["ANTHROPIC_API_KEY"]
    }
    assert (
        missing_keys([notebook], {"OPENAI_API_KEY": "sk-replay-placeholder"})["98_tiny"][0]
        == "OPENAI_API_KEY"
    )


def test_standin_recording_is_scrubbed_and_readable_by_the_sdks(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path)
    done = _record(tmp_path, "--standin", str(notebook))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[1/1] 98_tiny" in done.stdout and "request(s)" in done.stdout
    cassette = tmp_path / "cassettes" / "98_tiny" / "98_tiny.yaml"
    text = cassette.read_text(encoding="utf-8")
    assert "127.0.0.1" not in text, "stand-in URLs must be restored to the provider's"
    assert secret_problems(text) == []
    for placeholder in ("sk-replay-placeholder", "sk-ant-replay-placeholder", "hf_replay_placeholder"):
        assert placeholder not in text
    interactions = load(cassette)
    uris = {i["request"]["uri"].split("?")[0] for i in interactions}
    assert {"https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1/responses",
            "https://api.anthropic.com/v1/messages", "https://router.huggingface.co/v1/chat/completions"} <= uris  # fmt: skip
    assert any(header(i["response"], "content-type") == "image/png" for i in interactions)
    assert any(header(i["response"], "content-type").startswith("text/event-stream") for i in interactions)
    assert check_cassette(cassette) == []


def test_a_failing_notebook_writes_nothing(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path, [CELLS[0], CELLS[2], "raise RuntimeError('boom')"], name="97_broken")
    done = _record(tmp_path, "--standin", str(notebook))
    assert done.returncode == 1
    assert "FAILED" in done.stdout and "nothing written" in done.stdout
    assert not (tmp_path / "cassettes" / "97_broken").exists()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("x-api-key: abc", "x-api-key"),
        ("content: sk-ant-abcdefgh12345", "key-like"),
        ("token hf_" + "a1" * 16, "key-like"),
        ("plain: text", None),
    ],
)
def test_secret_check(text: str, found: str | None) -> None:
    problems = secret_problems(text)
    assert (not problems) if found is None else any(found in p for p in problems)
