"""The sample service the deployment example ships. `python app.py --health` checks it."""

import json
import sys
import time
from pathlib import Path

SETTINGS = Path(__file__).with_name("settings.json")


def healthy() -> bool:
    """The service is healthy when its settings load and name a port."""
    settings = json.loads(SETTINGS.read_text())
    if settings.get("hang_on_health"):
        time.sleep(3600)
    return isinstance(settings.get("port"), int)


if __name__ == "__main__" and "--health" in sys.argv:
    sys.exit(0 if healthy() else 1)
