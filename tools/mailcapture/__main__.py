"""`python -m tools.mailcapture --port 2525 --dir .azurite/mail`: the capture server `make run` starts."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from tools import mailcapture


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.mailcapture", description=__doc__)
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", type=Path, default=Path(".azurite/mail"), help="where .eml files and index.jsonl go")
    args = parser.parse_args()
    controller, _ = mailcapture.start(args.port, directory=args.dir)
    print(f"Capturing mail on 127.0.0.1:{args.port} into {args.dir}/ (index.jsonl, *.eml)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
