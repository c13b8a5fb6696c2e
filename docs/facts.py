"""Measure the facts docs/design.md rests on, on this machine and this Python.

    .venv/bin/python docs/facts.py 1      # a plain stress run vs. a missing lock
    .venv/bin/python docs/facts.py 2      # forced interleaving vs. a missing lock
    .venv/bin/python docs/facts.py 3      # requests_mock.Mocker serializes; an Adapter does not
    .venv/bin/python docs/facts.py 4      # random yields vs. check-then-pop on a shared list
    .venv/bin/python docs/facts.py 6      # threading.settrace + an audit hook: threads die

Facts 1 and 6 need only the standard library: `PYENV_VERSION=3.13.0 python docs/facts.py 1`
runs it on another interpreter. Each prints one line of numbers.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
RUNS = 20

RACY = """
counter = 0
def increment(times):
    global counter
    for _ in range(times):
        new = counter + 1
        counter = new
def run_threads(n_threads, times):
    import threading
    global counter
    counter = 0
    threads = [threading.Thread(target=increment, args=(times,)) for _ in range(n_threads)]
    for t in threads: t.start()
    for t in threads: t.join()
    return counter
"""


def _module(source: str):
    folder = tempfile.mkdtemp(prefix="threadkit-facts-")
    path = Path(folder, "racy.py")
    path.write_text(source)
    namespace: dict = {"__file__": str(path), "__name__": "racy"}
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - our own fixed source
    return path, namespace


def fact1() -> None:
    sys.setswitchinterval(1e-6)
    _, mod = _module(RACY)
    right = sum(mod["run_threads"](5, 10_000) == 50_000 for _ in range(RUNS))
    print(f"fact 1, Python {sys.version.split()[0]}: right total in {right}/{RUNS} plain runs")


def fact2() -> None:
    from graders.kit.interleave import ForcedInterleaving

    path, mod = _module(RACY)
    lost, start = 0, time.perf_counter()
    for seed in range(RUNS):
        with ForcedInterleaving([str(path)], seed=seed, watch_globals=["counter"]):
            lost += mod["run_threads"](5, 100) != 500
    each = (time.perf_counter() - start) / RUNS
    print(f"fact 2: lost updates in {lost}/{RUNS} forced runs, {each:.2f} s a run")


def fact3() -> None:
    import requests
    import requests_mock

    from graders.kit.http_fixture import HttpFixture

    def slow(request, context):
        time.sleep(0.2)
        return "ok"

    def four_at_once() -> float:
        urls = [f"http://threadkit.test/{i}" for i in range(4)]
        threads = [threading.Thread(target=requests.get, args=(u,)) for u in urls]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - start

    with requests_mock.Mocker() as mocker:
        mocker.get(requests_mock.ANY, text=slow)
        mocked = four_at_once()
    with HttpFixture({f"http://threadkit.test/{i}": "ok" for i in range(4)}, latency=0.2):
        adapter = four_at_once()
    print(f"fact 3: 4 threaded requests of 0.2 s: Mocker {mocked:.2f} s, Adapter {adapter:.2f} s")


def fact4() -> None:
    from graders.kit.interleave import ForcedInterleaving

    source = """
def pool(urls, n):
    import threading, time
    todo = list(enumerate(urls))
    def work():
        while todo:
            i, url = todo.pop()
            time.sleep(0.01)  # the download
    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads: t.start()
    for t in threads: t.join()
"""
    path, mod = _module(source)
    failed = {"yields": 0, "stall": 0}
    for seed in range(RUNS):
        for mode, stall in (("yields", False), ("stall", True)):
            errors: list[BaseException] = []
            old = threading.excepthook
            threading.excepthook = lambda args, errors=errors: errors.append(args.exc_value)
            try:
                with ForcedInterleaving(
                    [str(path)], seed=seed, yield_probability=0.5, stall_last_pop=stall
                ):
                    mod["pool"]([f"u{i}" for i in range(7)], 3)
            finally:
                threading.excepthook = old
            failed[mode] += bool(errors)
    print(
        f"fact 4: unlocked check-then-pop failed in {failed['yields']}/{RUNS} runs with random "
        f"yields alone, {failed['stall']}/{RUNS} with the last-pop stall"
    )


def fact6() -> None:
    # An audit hook written in Python (the grading process's guard is one) may hand the GIL
    # over inside sys.settrace; the sleep makes that happen at every call.
    def hook(event: str, args: tuple[object, ...]) -> None:
        if event == "sys.settrace":
            time.sleep(0.001)

    died: list[str] = []
    sys.addaudithook(hook)
    sys.unraisablehook = lambda u: died.append(repr(u.exc_value))
    ran: list[int] = []
    threading.settrace(lambda *args: None)
    threads = [threading.Thread(target=ran.append, args=(i,)) for i in range(RUNS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    threading.settrace(None)  # type: ignore[arg-type]
    print(
        f"fact 6: {sys.version.split()[0]}: {RUNS - len(ran)} of {RUNS} new threads under "
        f"threading.settrace ended before their target ran {died[:1]}"
    )


UNTRACE = """
import sys, threading, time
def local(frame, event, arg):
    return local
def trace(frame, event, arg):
    if frame.f_code.co_filename != __file__:
        return None
    frame.f_trace_opcodes = True
    return local
sys._getframe().f_trace_opcodes = True
threading.settrace(trace)
sys.settrace(trace)
threads = [threading.Thread(target=time.sleep, args=(0.05,)) for _ in range(5)]
for t in threads:
    t.start()
sys.settrace(REPLACEMENT)  # while the other threads still trace, opcode events on
threading.settrace(None)
for t in threads:
    t.join()
"""


def fact7() -> None:
    import subprocess
    import tempfile

    codes = []
    for replacement in ("None", "lambda *args: None"):
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
            script.write(UNTRACE.replace("REPLACEMENT", replacement))
        run = [sys.executable, script.name]
        runs = [subprocess.run(run, stderr=subprocess.DEVNULL).returncode for _ in range(RUNS)]
        os.unlink(script.name)
        codes.append(f"sys.settrace({replacement}): {sum(r != 0 for r in runs)} of {RUNS} crashed")
    print(f"fact 7: {sys.version.split()[0]}: " + "; ".join(codes))


MANY_THREADS = """
import re, threading
def vm():
    return int(re.search(r"VmSize:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024
go = threading.Event()
def work():
    chunks = [bytearray(1000) for _ in range(50)]
    go.wait()
threads = [threading.Thread(target=work) for _ in range(100)]
for t in threads:
    t.start()
print(vm())
go.set()
for t in threads:
    t.join()
"""


def fact8() -> None:
    import subprocess

    sizes = []
    for arenas in (None, "2"):
        env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
        if arenas:
            env["MALLOC_ARENA_MAX"] = arenas
        out = subprocess.run([sys.executable, "-c", MANY_THREADS], env=env, capture_output=True)
        sizes.append(f"MALLOC_ARENA_MAX={arenas or 'unset'}: {out.stdout.decode().strip()} MiB")
    print(f"fact 8: {sys.version.split()[0]}: 100 threads reserve " + ", ".join(sizes))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    facts = {"1": fact1, "2": fact2, "3": fact3, "4": fact4, "6": fact6, "7": fact7, "8": fact8}
    facts[sys.argv[1] if len(sys.argv) > 1 else "1"]()
