"""Writes the HTTP (OpenAPI) and message (AsyncAPI) contracts of every service to docs/.

    python -m deploy.docs           # regenerate
    python -m deploy.docs --check   # fail if docs/ is out of date (the tests run this)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deploy.local import ROOT, SERVICES

DOCS = ROOT / "docs"


def contracts() -> dict[Path, str]:
    from services.delivery.main import create_app as delivery_app
    from services.intake.main import create_app as intake_app
    from services.sorting.main import create_app as sorting_app

    apps = {"intake": intake_app(), "sorting": sorting_app(), "delivery": delivery_app()}
    files: dict[Path, str] = {}
    for name in SERVICES:
        app = apps[name]
        files[DOCS / "openapi" / f"{name}.json"] = json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        asyncapi = json.loads(app.state.runtime.asyncapi().to_specification().to_json())
        files[DOCS / "asyncapi" / f"{name}.json"] = json.dumps(asyncapi, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return files


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for path, text in contracts().items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run `python -m deploy.docs`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
