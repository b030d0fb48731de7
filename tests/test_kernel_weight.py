"""What a lesson's kernel loads: each lesson pays only for the modules it uses.

On Binder every open lesson keeps a kernel alive, and all of them share 1-2 GB
(``benchmarks/bench_memory.py`` prints the figure). Each test runs a lesson's calls in a fresh Python
process, as a kernel would, and checks that a heavy module the lesson does not need was not imported
along the way (an eager import would cost every kernel its megabytes again).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from apicourse import paths

JSON_SCHEMA = ("nbformat", "jsonschema", "fastjsonschema")
"""nbformat and the JSON-schema validators it brings: about 30 MB in a kernel."""


def loaded_after(code: str, tmp: Path) -> set[str]:
    """The top-level modules imported once ``code`` has run in a fresh interpreter with no key."""
    probe = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(paths.ROOT),
        "HOME": str(tmp),
        "APICOURSE_ENV_FILE": str(tmp / ".env"),
        "APICOURSE_STREAM_DELAY": "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return {name.split(".")[0] for name in json.loads(run.stdout.splitlines()[-1])}


def test_the_banner_does_not_load_nbformat(tmp_path: Path):
    # the banner reads which providers the lesson calls from its notebook: plain JSON is enough
    loaded = loaded_after(
        """
        import apicourse
        course = apicourse.start("05_openai", quiet=True)
        assert "this lesson makes no Hugging Face calls" in str(course), str(course)
        """,
        tmp_path,
    )
    assert not loaded.intersection(JSON_SCHEMA)


@pytest.mark.parametrize("notebook", ["00_start_here", "10_key_takeaways"])
def test_a_lesson_without_provider_calls_stays_light(tmp_path: Path, notebook: str):
    loaded = loaded_after(f'import apicourse; print(apicourse.start("{notebook}", quiet=True))', tmp_path)
    assert not loaded.intersection(JSON_SCHEMA)


SERVER = ("fastapi", "starlette", "uvicorn")
"""What serves the practice API and the stand-in: about 12 MB in a kernel that never starts either."""


def test_an_exercise_not_yet_written_starts_no_stand_in(tmp_path: Path):
    # a learner's Run All in 05-09 checks exercises still reading `...`: nothing is sent, so nothing is served
    loaded = loaded_after(
        """
        from apicourse import exercises
        def ask_tutor(client, question):
            ...  # your code here
        verdict = exercises.check_ask_tutor(ask_tutor)
        assert not verdict and "ask_tutor" in verdict.message, verdict.message
        """,
        tmp_path,
    )
    assert not loaded.intersection(SERVER)


def test_what_a_model_accepts_is_read_without_the_stand_in_server(tmp_path: Path):
    # lesson 05 asks the stand-in's rules what a model accepts for temperature
    loaded = loaded_after(
        """
        from apicourse import models
        assert models.openai_sampling("gpt-4.1", 0.7) == {"temperature": 0.7}
        """,
        tmp_path,
    )
    assert not loaded.intersection(SERVER)


def test_a_written_exercise_is_still_checked_against_the_stand_in(tmp_path: Path):
    # the other side of the lazy start: the learner's calls do reach the stand-in once there are any
    loaded_after(
        """
        from apicourse import exercises
        def ask_tutor(client, question):
            reply = client.chat.completions.create(
                model="gpt-4.1", max_completion_tokens=200,
                messages=[{"role": "system", "content": "You are a patient tutor."},
                          {"role": "user", "content": question}])
            return reply.choices[0].message.content
        assert exercises.check_ask_tutor(ask_tutor)
        """,
        tmp_path,
    )


def test_the_backoff_timeline_draws_without_matplotlib(tmp_path: Path):
    # lesson 04's explorer: matplotlib and numpy would add about 45 MB to its kernel
    loaded = loaded_after(
        """
        from apicourse.widgets import backoff_explorer
        explorer = backoff_explorer(base=0.5, retries=6, jitter="full", cap=8)
        assert explorer.plot.value  # the timeline is drawn
        """,
        tmp_path,
    )
    assert not loaded.intersection({"matplotlib", "numpy", "PIL"})


def test_the_server_and_the_grader_do_not_build_iri_parsers(tmp_path: Path):
    # jsonschema 4.24+ imports rfc3987-syntax, which builds Earley parsers at import: 2.8 s and ~21 MB in the
    # Jupyter server (jupyter-events validates its events with jsonschema) and in every grading process
    # (nbgrader validates notebooks). requirements.txt pins jsonschema below that; this fails if it moves.
    loaded = loaded_after("import jupyter_events.validators, nbgrader.apps", tmp_path)
    assert "jsonschema" in loaded  # the imports above really do reach jsonschema's format checkers
    assert "rfc3987_syntax" not in loaded and "lark" not in loaded


def test_the_quizs_certificate_cell_with_nothing_to_import_stays_light(tmp_path: Path):
    # most sessions run the quiz's import_certificate() cell with no certificate.json: the ledger (SQLAlchemy,
    # about 17 MB) is not loaded for that, in a kernel that stays open while the learner answers
    release = json.loads((paths.QUIZ / "release" / "module_assessment" / "module_assessment.ipynb").read_text())
    cell = next("".join(c["source"]) for c in release["cells"]
                if c["cell_type"] == "code" and "import_certificate()" in "".join(c["source"]))
    loaded = loaded_after(
        cell.replace("import_certificate()", "result = import_certificate()")
        + '\nassert not result.imported and "There is no certificate.json" in result.message, result\n',
        tmp_path,
    )
    assert "sqlalchemy" not in loaded


HTTP = ("vcr", "requests", "urllib3", "httpx", "httpx2", "yaml")
"""vcrpy and the HTTP libraries it imports to patch them: about 13 MB in a kernel that sends nothing."""


@pytest.mark.parametrize("notebook", ["00_start_here", "10_key_takeaways"])
def test_a_lesson_that_sends_nothing_loads_no_replay_machinery(tmp_path: Path, notebook: str):
    loaded = loaded_after(f'import apicourse; print(apicourse.start("{notebook}"))', tmp_path)
    assert not loaded.intersection(HTTP)


@pytest.mark.parametrize("library", ["openai", "requests"])
def test_replay_begins_with_the_first_http_import(tmp_path: Path, library: str):
    # the other side of the lazy start: a call made after the banner, in the same cell as its import,
    # is still answered offline (by the stand-in here: lesson 00 has no recordings), never sent out
    call = {
        "openai": """
            import openai
            reply = openai.OpenAI().chat.completions.create(
                model="gpt-4.1", max_completion_tokens=50, messages=[{"role": "user", "content": "Hello?"}])
            text = reply.choices[0].message.content
            """,
        "requests": """
            import os, requests
            key = os.environ["OPENAI_API_KEY"]  # replay's placeholder, set by start()
            answer = requests.post("https://api.openai.com/v1/chat/completions", timeout=10,
                                   headers={"Authorization": f"Bearer {key}"},
                                   json={"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hello?"}]})
            text = answer.json()["choices"][0]["message"]["content"]
            """,
    }[library]
    loaded = loaded_after(
        'import apicourse; apicourse.start("00_start_here", quiet=True)\n'
        + textwrap.dedent(call)
        + 'assert text.startswith("[offline stand-in]"), text\n',
        tmp_path,
    )
    assert "vcr" in loaded


def test_a_first_call_through_urllib_is_stopped_before_it_leaves(tmp_path: Path):
    # urllib is loaded in every kernel, so no import begins replay for it: the call itself does, and is
    # stopped (the guard under it would refuse anything that got past: no traffic leaves this test either)
    loaded = loaded_after(
        """
        import os, urllib.request
        import apicourse
        from apicourse import guard
        apicourse.start("00_start_here", quiet=True)
        guard.install()
        def call():
            body = b'{"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hello?"}]}'
            key = os.environ["OPENAI_API_KEY"]  # replay's placeholder, set by start()
            request = urllib.request.Request("https://api.openai.com/v1/chat/completions", data=body,
                                             headers={"Content-Type": "application/json",
                                                      "Authorization": f"Bearer {key}"})
            return urllib.request.urlopen(request, timeout=10).read().decode()
        try:
            call()
            raise AssertionError("the first call went through")
        except OSError as error:
            assert "stopped before it left the machine" in str(error), error
        text = call()  # replay has begun: the stand-in answers, labelled
        assert "[offline stand-in]" in text, text
        """,
        tmp_path,
    )
    assert "vcr" in loaded
