"""The grading process: runs one task's checks and sends the result back on its own pipe.

Started by `graders.isolate`, never by hand. The verdict travels on a file descriptor the
parent passed in, not on stdout, so that whatever the learner's code prints is just output.
The process ends with os._exit, so threads the learner left running cannot keep it alive.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from graders.runner import run_task


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m graders.worker")
    parser.add_argument("--task", required=True)
    parser.add_argument("--submission", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--hidden", action="store_true")
    parser.add_argument("--result-fd", type=int, required=True)
    args = parser.parse_args(argv)
    channel = os.fdopen(args.result_fd, "w", encoding="utf-8")
    result = run_task(args.task, args.submission, hidden=args.hidden, seed=args.seed)
    channel.write(json.dumps(result.to_dict()))
    channel.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
