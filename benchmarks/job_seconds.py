"""Train-job seconds per study of a finished run, from its job logs (`logs/<study>/train/<experiment>/<cell>.log`).

    python benchmarks/job_seconds.py [LOGS ...]

Each job log ends with "job train done in X s"; this sums X per study, split into the claim-map jobs (experiments
named map_*) and the rest (the default part). Given two or more log folders (before, after), it prints one column
per folder.
"""
from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

DONE = re.compile(r"job train done in ([0-9.]+) s")


def job_seconds(logs: Path) -> dict[str, dict[str, float]]:
    """{study: {"maps": seconds, "rest": seconds}} over every train job log that finished."""
    total: dict[str, dict[str, float]] = defaultdict(lambda: {"maps": 0.0, "rest": 0.0})
    for path in sorted(logs.glob("*/train/*/*.log")):
        study, experiment = path.parts[-4], path.parts[-2]
        found = DONE.findall(path.read_text(errors="replace"))
        if found:
            total[study]["maps" if experiment.startswith("map_") else "rest"] += float(found[-1])
    return dict(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="*", type=Path, default=[Path("logs")])
    args = parser.parse_args()
    tables = [job_seconds(p) for p in args.logs]
    studies = sorted(set().union(*tables))
    print("study      " + "".join(f"{p!s:>34s}" for p in args.logs))
    for study in studies:
        cells = [t.get(study, {"maps": 0.0, "rest": 0.0}) for t in tables]
        text = [f"default part {c['rest']:.0f} s, maps {c['maps']:.0f} s" for c in cells]
        print(f"{study:10s} " + "".join(f"{t:>34s}" for t in text))


if __name__ == "__main__":
    main()
