"""The secret scanner catches what it must (so the repository-wide scan means something)."""

from __future__ import annotations

from pathlib import Path

from apicourse.secrets import find_secrets, scan_text

# Built at run time so that no key-like literal is ever committed.
FAKE_OPENAI = "sk-proj-" + "Ab3dE" * 9
FAKE_ANTHROPIC = "sk-ant-api03-" + "Zy9xW" * 9
FAKE_HF = "hf_" + "QrStU" * 7


def kinds(text: str) -> list[str]:
    return [kind for kind, _ in scan_text(text)]


def test_catches_each_providers_key():
    assert kinds(f"key = '{FAKE_OPENAI}'") == ["OpenAI key"]
    assert kinds(f"ANTHROPIC_API_KEY={FAKE_ANTHROPIC}") == ["Anthropic key"]
    assert kinds(f'{{"token": "{FAKE_HF}"}}') == ["Hugging Face token"]


def test_catches_recorded_authorization_in_a_cassette(tmp_path: Path):
    cassette = tmp_path / "c.yaml"
    cassette.write_text(
        "interactions:\n- request:\n    headers:\n      authorization:\n      - Bearer " + "q" * 30 + "\n"
        "      x-api-key:\n      - abcdefgh12345\n"
    )
    found = find_secrets(cassette)
    assert any(f.startswith("recorded credential header") for f in found)
    assert any(f.startswith("Bearer token") for f in found)


def test_secret_excerpt_is_masked():
    [(_, excerpt)] = scan_text(FAKE_OPENAI)
    assert excerpt.endswith("…") and len(excerpt) < len(FAKE_OPENAI) // 2


def test_lets_teaching_code_and_placeholders_through():
    teaching = '''headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
OPENAI_API_KEY=sk-replay-placeholder
ANTHROPIC_API_KEY=sk-ant-replay-placeholder
HF_TOKEN=hf_replay_placeholder
'''
    assert scan_text(teaching) == []
