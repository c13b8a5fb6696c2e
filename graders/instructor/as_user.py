"""Learner code as a user without privileges, for graders that run as root (Gradescope).

Gradescope runs the autograder as root; its best practice is to run students' code as another
user, so that it cannot rewrite results.json, the grader or the hidden checks. `AsUser` is a
`Sandbox` level that does that: each task's grading process (the one that imports the learner's
module) starts as root, and before anything else runs

    python -m graders.instructor.as_user --uid U --gid G --own WORKDIR -- COMMAND...

which gives the run's own work folder (the private copy of the modules, its TMPDIR and HOME) to
that user, brings the loopback interface up if the level gave the process a network namespace
of its own (only root can, and the checks serve their pages on 127.0.0.1), drops every group
and the gid and uid for good, asks again to die with its parent (a change of credentials clears
that), and execs the command. The parent (root) keeps the report pipe and writes the results
in a folder the user cannot write to.

`for_user` picks the strongest level at which the user can really run the grader here, and
says so when it cannot (no such user, not root, the kit unreadable by that user).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import pwd
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from graders.engine.sandbox import LEVELS, NETNS_ENV, Sandbox, detect, loopback_up
from graders.paths import KIT_ROOT

PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class AsUser(Sandbox):
    """An isolation level whose grading process runs as `user` (uid, gid) instead of root."""

    user: str = ""
    uid: int = -1
    gid: int = -1

    def describe(self) -> str:
        return f"{super().describe()}; learner code runs as user {self.user} (uid {self.uid})"

    def wrap(self, cmd: list[str], *, workdir: Path, hidden_file: Path | None) -> list[str]:
        drop = [
            sys.executable,
            "-m",
            "graders.instructor.as_user",
            f"--uid={self.uid}",
            f"--gid={self.gid}",
            f"--own={workdir}",
            "--",
        ]
        if self.level == "bwrap":  # bubblewrap itself runs as the user (its own user namespace)
            return drop + super().wrap(cmd, workdir=workdir, hidden_file=hidden_file)
        # netns: `unshare --net` needs root, so the drop comes after it
        return super().wrap(drop + cmd, workdir=workdir, hidden_file=hidden_file)


def for_user(user: str, requested: str = "auto") -> tuple[Sandbox, str]:
    """The sandbox to grade with, and one line on who runs the learner's code.

    `user` "" means: as whoever runs the grader. Otherwise the strongest level (or the one
    requested) at which `user` can run Python and import the kit here; if none, or there is
    no such user, or this process is not root, the learner's code runs as this process's own
    user, and the line says why.
    """
    if not user:
        return detect(requested), f"learner code runs as {_me()} (no other user asked for)"
    if os.geteuid() != 0:
        return detect(requested), f"learner code runs as {_me()}: only root can switch to {user}"
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return detect(requested), f"learner code runs as root: there is no user {user!r} here"
    levels = list(reversed(LEVELS)) if requested == "auto" else [requested]
    for level in levels:
        box = AsUser(level, user, entry.pw_uid, entry.pw_gid)
        if works(box):
            return box, f"learner code runs as user {user} (uid {entry.pw_uid})"
    return (
        detect(requested),
        f"learner code runs as root: user {user!r} cannot run the grader here "
        "(is the kit, and its Python, readable by that user?)",
    )


def works(box: AsUser) -> bool:
    """Whether the user, at this level, can start Python and import the kit here."""
    with tempfile.TemporaryDirectory(prefix="threadkit-probe-") as tmp:
        cmd = box.wrap(
            [sys.executable, "-c", "import graders.tasks"], workdir=Path(tmp), hidden_file=None
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env |= {"PYTHONPATH": str(KIT_ROOT), "HOME": tmp, "TMPDIR": tmp} | box.env()
        try:
            done = subprocess.run(
                cmd, cwd=tmp, env=env, capture_output=True, timeout=30, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0


def _me() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def main(argv: list[str] | None = None) -> NoReturn:
    """Hand the work folder to the user, drop to it, exec the command (never returns)."""
    args = _parse(argv)
    parent = os.getppid()
    _own(Path(args.own), args.uid, args.gid)
    if os.environ.get(NETNS_ENV):
        loopback_up()
    os.setgroups([])
    os.setresgid(args.gid, args.gid, args.gid)
    os.setresuid(args.uid, args.uid, args.uid)
    if os.getresuid() != (args.uid,) * 3 or os.getresgid() != (args.gid,) * 3:
        os._exit(126)
    _die_with_parent(parent)
    try:
        os.execvp(args.command[0], args.command)
    except OSError as exc:
        print(f"as_user: cannot run {args.command[0]}: {exc}", file=sys.stderr)
        os._exit(127)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m graders.instructor.as_user")
    parser.add_argument("--uid", type=int, required=True)
    parser.add_argument("--gid", type=int, required=True)
    parser.add_argument("--own", required=True, help="the folder to give to the user first")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command or args.uid == 0:
        parser.error("give a command, and a user other than root")
    return args


def _own(folder: Path, uid: int, gid: int) -> None:
    """The folder and everything in it now belong to the user (symlinks are not followed)."""
    os.lchown(folder, uid, gid)
    for here, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.lchown(os.path.join(here, name), uid, gid)


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent dies (again: a credential change cleared it)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


if __name__ == "__main__":
    main()
