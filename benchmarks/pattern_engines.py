"""What building a model with a Unicode pattern field costs, per regex engine, in a fresh process.

podium.identity's Principal checks its id (``^[\\w.@+-]{1,128}$``) on every command's start
path. Built as ``Field(pattern=...)``, pydantic compiles the pattern in its own (Rust) regex
engine; podium now checks it with Python's ``re`` in a validator. Each configuration runs in
a fresh interpreter (pydantic imported and one model built before the clock starts), in
alternation, and prints CPU milliseconds.

    .venv/bin/python benchmarks/pattern_engines.py [--repeat 5]
"""

from __future__ import annotations

import statistics
import subprocess
import sys

SETUP = "import re, time, pydantic\nclass W(pydantic.BaseModel):\n    x: int = 0\n"
BUILD = {
    "Field(pattern=...) (pydantic's engine)": (
        "class P(pydantic.BaseModel):\n"
        "    id: str = pydantic.Field(pattern=r'^[\\w.@+-]{1,128}$')\n"
    ),
    "validator with Python's re (podium now)": (
        "V = re.compile(r'^[\\w.@+-]{1,128}$')\n"
        "class P(pydantic.BaseModel):\n"
        "    id: str\n"
        "    @pydantic.field_validator('id')\n"
        "    @classmethod\n"
        "    def _id(cls, v: str) -> str:\n"
        "        assert V.fullmatch(v)\n"
        "        return v\n"
    ),
}


def main() -> None:
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
    times: dict[str, list[float]] = {name: [] for name in BUILD}
    for _ in range(repeat):
        for name, body in BUILD.items():
            code = SETUP + "t = time.process_time()\n" + body
            code += "print((time.process_time() - t) * 1000)\n"
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            times[name].append(float(done.stdout))
    peer = statistics.median(times["Field(pattern=...) (pydantic's engine)"])
    print("| model built with | CPU ms (median) | × Field(pattern) |")
    print("|---|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {median / peer:.2f}× |")


if __name__ == "__main__":
    main()
