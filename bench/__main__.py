from __future__ import annotations

import importlib
import os
import sys

BENCHMARKS = {
    "encryption": "bench.encryption",
    "hl7": "bench.hl7",
    "import": "bench.import_bench",
    "queue": "bench.queue_bench",
    "plan": "bench.plan_bench",
    "sweep": "bench.sweep_bench",
    "report": "bench.report_bench",
}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careloop.settings")
    os.environ.setdefault("CARELOOP_QUIET_DEV_KEYS", "1")
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"未知的基准：{', '.join(unknown)}；可用：{', '.join(BENCHMARKS)}")
    for name in names:
        print(f"== {name}")
        importlib.import_module(BENCHMARKS[name]).run()


if __name__ == "__main__":
    main(sys.argv[1:])
