"""`python -m ilsref.app --config run/app.json`: the ILS reference app (HTTPS + HTTP redirect)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from ilsref.app.config import AppConfig
from ilsref.app.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ilsref.app")
    parser.add_argument("--config", type=Path, required=True, help="run/app.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(AppConfig.load(args.config)))


if __name__ == "__main__":
    main()
