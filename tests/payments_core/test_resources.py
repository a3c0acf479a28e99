"""The data files are found through the installed package: a wheel installed without the checkout (an image, a
non-editable install) has its migrations, questions, schemas, sample files and the example's settings."""

import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "bin" / "uv"

CHECK = """
import sys
from alembic.script import ScriptDirectory
from csv_importer.views.upload import SAMPLE
from dashboards.questions import load_dashboard
from payments_core.db.migrate import alembic_config
from payments_core.resources import data_path
from payments_core.schemas import TOPIC_MODELS, render, schema_path
from payments_core.settings import example_values

installed = sys.argv[1]
for name in ("alembic.ini", "migrations", "metabase", "schemas", "csvs", "env.example"):
    assert str(data_path(name)).startswith(installed), (name, data_path(name))
assert len(load_dashboard().questions) == int(sys.argv[2]), "every question of the checkout's dashboard"
assert ScriptDirectory.from_config(alembic_config("postgresql://x@y/z")).get_current_head() is not None
assert all(schema_path(topic).read_text() == render(topic) for topic in TOPIC_MODELS)
assert SAMPLE.exists() and str(SAMPLE).startswith(installed)
assert "payments-local-importer-secret" in example_values(), "the example's keys are known, to be refused"
print("ok")
"""


def test_a_wheel_without_the_checkout_finds_every_data_file(tmp_path):
    subprocess.run([str(UV), "build", "--wheel", "-q", "-o", str(tmp_path / "dist")], cwd=ROOT, check=True,
                   timeout=300)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)

    # The wheel's packages come first on the path; the test's environment gives the third-party packages.
    cards = len(yaml.safe_load((ROOT / "metabase" / "dashboard.yaml").read_text())["cards"])
    result = subprocess.run([sys.executable, "-c", CHECK, str(installed), str(cards)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"})

    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
