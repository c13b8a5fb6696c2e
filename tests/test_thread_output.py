"""graders.kit.thread_output: every write is filed under the thread that made it, and nothing
leaks."""

from __future__ import annotations

import io
import sys
import threading

import pytest

from graders.kit.thread_output import ThreadOutput


def test_each_thread_gets_exactly_its_own_lines():
    barrier = threading.Barrier(4)

    def chatter(name: str) -> None:
        barrier.wait()  # all four print at the same moment
        for step in range(200):
            print(f"{name} says", step)

    threads = [threading.Thread(target=chatter, args=(f"t{i}",)) for i in range(4)]
    with ThreadOutput() as out:
        print("main first")
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    by_thread = out.lines_by_thread()
    assert [line.text for line in by_thread[threading.current_thread()]] == ["main first"]
    for i, thread in enumerate(threads):
        assert [line.text for line in by_thread[thread]] == [f"t{i} says {s}" for s in range(200)]
        assert all(line.thread is thread for line in by_thread[thread])
    assert len(out.text().splitlines()) == 801


def test_lines_are_joined_across_writes_and_stamped_in_order():
    with ThreadOutput() as out:
        sys.stdout.write("a")
        sys.stdout.write("b\nc")
        print()
        print("\n\n   ")  # blank lines are dropped
        sys.stdout.write("tail without newline")
    lines = out.lines(threading.current_thread())
    assert [line.text for line in lines] == ["ab", "c", "tail without newline"]
    assert [line.order for line in lines] == sorted(line.order for line in lines)
    assert lines[0].time <= lines[1].time <= lines[2].time
    assert out.lines(threading.Thread()) == []


def test_stdout_is_restored_even_after_an_error_or_a_replacement():
    before = sys.stdout
    with pytest.raises(RuntimeError), ThreadOutput():
        raise RuntimeError("boom")
    assert sys.stdout is before
    with ThreadOutput():
        sys.stdout = io.StringIO()  # code under test swaps stdout itself
    assert sys.stdout is before


def test_echo_passes_writes_on_and_the_writer_behaves_like_a_text_stream():
    target = io.StringIO()
    saved, sys.stdout = sys.stdout, target
    try:
        with ThreadOutput(echo=True) as out:
            print("shown", flush=True)
            assert sys.stdout.writable() and not sys.stdout.isatty()
            assert sys.stdout.encoding == "utf-8"
            with pytest.raises(TypeError):
                sys.stdout.write(b"bytes")  # type: ignore[arg-type]
        with ThreadOutput() as quiet:
            print("hidden")
    finally:
        sys.stdout = saved
    assert target.getvalue() == "shown\n"
    assert out.text() == "shown\n" and quiet.text() == "hidden\n"


def test_a_thread_output_cannot_be_entered_twice():
    out = ThreadOutput()
    with out, pytest.raises(RuntimeError):
        out.__enter__()
