# Imported first by every script: this repository's lib/ ahead on sys.path, so a job runs the package this
# workflow's rules were planned with (a plain venv with `pip install -e .`, or the conda env of workflow/envs/).
import sys
from pathlib import Path

_lib = Path(__file__).resolve().parents[2] / "lib"
if _lib.is_dir() and str(_lib) not in sys.path:
    sys.path.insert(0, str(_lib))
