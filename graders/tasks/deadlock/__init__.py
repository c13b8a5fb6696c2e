"""Visible checks for deadlock: transfers lock in one order, unlock on errors, and still overlap.

The checks own the locks they observe. Every account's `lock` is replaced by a `WatchedLock`
of one `LockWatch`, which knows which thread holds which lock and which thread waits for
which. So a deadlock is seen the moment its cycle closes, with no timeout: the threads in it
are unblocked (their acquire raises `DeadlockBroken`) and the failure tells the story.

A deadlock must happen in EVERY run when the order is wrong, not only when the scheduler is
unlucky. So the deadlock checks start their transfers one by one, and hold each transfer just
after it took its first lock until every other transfer of the group has taken a lock too (or
waits for one, or has ended): two transfers in opposite directions then always hold one lock
each and want the other's. With one global order the second transfer waits for the first
lock instead, which also lets the first go on at once: correct code never waits on a timeout.

Accounts are made from the learner's own `Account` class, with `balance` turned into a
property that notes who reads or changes it while holding which lock (requirement 3), and
that serves as the latch that proves transfers on different accounts overlap (requirement 6).

Transfers are instant, so a run_transfers that forgets a join would usually get away with
it. So in money_conserved each of its threads, once its transfer has returned, is held
until run_transfers joins that very thread (or returns): a thread never joined is alive at
the return in every run (requirement 8), and a held thread holds no lock, blocks nobody.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from random import Random
from types import ModuleType, TracebackType
from typing import Any

from graders.kit import waitfor
from graders.kit.checks import Context, check
from graders.kit.feedback import CheckFailed, Location, describe_exception, location
from graders.kit.interleave import ForcedInterleaving
from graders.kit.join_gate import JoinGate
from graders.kit.thread_watch import stack_lines

_RawLock = threading.Lock
_Condition = threading.Condition
_Thread = threading.Thread
_current = threading.current_thread
_clock = time.perf_counter
_getframe = sys._getframe

POLL = 0.05  # a waiting thread looks this often whether the lock's holder has ended
PAUSE_LIMIT = 1.0  # longest a transfer is held once all are started (only for odd code)
STAGE_LIMIT = 1.0  # longest the check waits for a transfer it started to take a lock...
BYSTANDER_LIMIT = 3.0  # ...or for a bystander to end (the balances must change in time)
HOLD_LIMIT = 3.0  # longest a transfer's thread is held (done) when the caller never joins it
OVERLAP_LIMIT = 2.0  # longest a transfer waits inside its locks with no other coming in
CALL_LIMIT = 5.0  # longest the check waits for the transfers it started to return
BALANCE, LABEL = "_threadkit_balance", "_threadkit_label"

TYPICAL_SECONDS = 0.2  # seconds on 2 cores: the order tasks start in (Task.typical_seconds)

REQUIREMENTS = {
    "R1": "transfer locks the two accounts in one order every thread agrees on (the smaller "
    "number first), whatever the direction of the transfer",
    "R2": "transfer releases every lock it took, both when it returns and when it raises",
    "R3": "transfer checks the balance and moves the money holding both locks: a balance is "
    "read or changed only while holding that account's lock",
    "R4": "if src.balance < amount, transfer raises InsufficientFunds and changes no balance; "
    "a transfer of exactly the whole balance succeeds",
    "R5": "a transfer from an account to itself returns and changes nothing, without taking "
    "the same lock twice",
    "R6": "transfers on different accounts still run at the same time (no one lock for the "
    "whole bank)",
    "R7": "run_transfers runs every transfer of the list in its own thread, all at the same time",
    "R8": "run_transfers joins every thread before returning",
    "R9": "a transfer that raises InsufficientFunds is caught inside its thread and skipped; "
    "the other transfers still happen",
}


# --- the checks' own locks ---------------------------------------------------------------


class DeadlockBroken(BaseException):
    """Raised in a thread the checks unblocked: the lock it waited for could never come.

    A BaseException, so that an `except Exception:` in the learner's code does not swallow it
    and carry on as if the transfer had happened.
    """


@dataclass(frozen=True)
class Wait:
    """One thread waiting, without a timeout, for one lock, at one line of the learner's file."""

    thread: threading.Thread
    lock: WatchedLock
    line: int


@dataclass(frozen=True)
class Stuck:
    """Why the checks stopped the threads: waits in a cycle, or a lock whose holder has ended.

    In a cycle each wait's lock is held by the next wait's thread (the last one's by the
    first's); a cycle of one is a thread waiting for a lock it holds itself.
    """

    waits: tuple[Wait, ...]
    ended: threading.Thread | None = None  # the holder that ended without releasing

    @property
    def ordered(self) -> tuple[Wait, ...]:
        """The cycle, starting from the thread with the first name (Thread-1)."""
        start = min(range(len(self.waits)), key=lambda i: self.waits[i].thread.name)
        return self.waits[start:] + self.waits[:start]

    def story(self) -> str:
        """'Thread-1 holds account 3's lock and waits for account 7's; Thread-2 holds ...'."""
        first = self.ordered[0]
        if self.ended is not None:
            return (
                f"{first.thread.name} waits for {first.lock.label}'s lock, which "
                f"{self.ended.name} took and never released ({self.ended.name} has ended)"
            )
        if len(self.waits) == 1:
            return f"{first.thread.name} holds {first.lock.label}'s lock and waits for it again"
        waits = self.ordered
        parts = []
        for i, wait in enumerate(waits):
            held = waits[i - 1].lock.label
            lock = " lock" if i == 0 else ""
            parts.append(
                f"{wait.thread.name} holds {held}'s{lock} and waits for {wait.lock.label}'s"
            )
        return "; ".join(parts)


@dataclass(frozen=True)
class Access:
    """A balance read or changed by a thread that did not hold that account's lock."""

    thread: str
    account: str
    verb: str  # "read" | "changed"
    line: int


class WatchedLock:
    """One account's lock, owned by the checks: a threading.Lock that its LockWatch can see."""

    def __init__(self, watch: LockWatch, label: str) -> None:
        self._watch = watch
        self.label = label
        self.owner: threading.Thread | None = None
        self.taken_line = 0  # the learner's line that took it last
        self.freed = _Condition(watch.mutex)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._watch.acquire(self, blocking, timeout)

    def release(self) -> None:
        self._watch.release(self)

    def locked(self) -> bool:
        return self.owner is not None

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "locked" if self.owner is not None else "unlocked"
        return f"<{state} lock of {self.label}>"


class LockWatch:
    """The checks' locks for one run: holders, waiters, and the latches that force timings.

    - every wait without a timeout is checked for a cycle of waits, or for a holder that has
      ended, when it starts and each POLL: then every waiting thread raises DeadlockBroken;
    - `group(threads)`: each of these threads is held just after its first lock until all of
      them have taken a lock, wait for one or ended (PAUSE_LIMIT at most);
    - `caller`: the thread that calls run_transfers; its own balance reads are not judged
      (after a join nothing runs beside it). With `hold`, each other thread is held after
      its first transfer (`done`, called by `held_after`) in a JoinGate
      (graders.kit.join_gate) until the code joins it (or the caller waits another way, or
      returns), so that a thread never joined is seen alive at the return in every run;
    - `overlap=k`: a thread touching a balance while holding a lock waits there until k
      threads do so at once (or OVERLAP_LIMIT passes with none coming in); `peak_inside` is
      the most seen.
    """

    def __init__(
        self,
        files: Iterable[str],
        *,
        caller: threading.Thread | None = None,
        hold: bool = False,
        overlap: int = 0,
    ) -> None:
        self.files = frozenset(files)
        self.mutex = _RawLock()
        self._changed = _Condition(self.mutex)
        self._locks: list[WatchedLock] = []
        self.stuck: Stuck | None = None
        self._closed = False
        self._waiting: dict[threading.Thread, Wait] = {}  # waits without a timeout
        self._blocked: set[threading.Thread] = set()  # every thread waiting for a lock
        self._holding: dict[threading.Thread, list[WatchedLock]] = {}
        self._took: set[threading.Thread] = set()
        self._ended: set[threading.Thread] = set()
        self._group: frozenset[threading.Thread] = frozenset()
        self._group_open = False
        self._started_at: float | None = None
        self._caller = caller
        # the caller is the thread making the watch: the gate never holds it
        self.gate = JoinGate(HOLD_LIMIT) if hold and caller is not None else None
        self._held_once: set[threading.Thread] = set()
        self._last_in = 0.0
        self._overlap = overlap
        self._overlap_over = overlap <= 0
        self._inside: set[threading.Thread] = set()
        self.peak_inside = 0
        self.recording = False
        self.unlocked: list[Access] = []

    def __enter__(self) -> LockWatch:
        if self.gate is not None:
            self.gate.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        if self.gate is not None:
            self.gate.__exit__(kind, exc, tb)

    def lock(self, label: str) -> WatchedLock:
        made = WatchedLock(self, label)
        self._locks.append(made)
        return made

    def still_held(self) -> list[WatchedLock]:
        with self.mutex:
            return [lock for lock in self._locks if lock.owner is not None]

    def group(self, threads: Iterable[threading.Thread]) -> None:
        with self.mutex:
            self._group = frozenset(threads)

    def started_all(self) -> None:
        """Every thread of the group has been started: pauses may now time out."""
        with self.mutex:
            self._started_at = _clock()
            self._changed.notify_all()

    def ended(self, thread: threading.Thread) -> None:
        with self.mutex:
            self._ended.add(thread)
            self._changed.notify_all()

    def open_holds(self) -> None:
        if self.gate is not None:
            self.gate.open()

    def close(self) -> None:
        """Unblock everything for good: waits raise DeadlockBroken, latches open."""
        with self.mutex:
            self._closed = True
            self._wake_all()

    def wait_progress(self, thread: threading.Thread, *, done: bool, limit: float) -> None:
        """Wait until `thread` took a lock, waits for one or ended (`done`: waits or ended).
        A wait on a lock of the learner's own (a bank-wide lock) counts too: nothing notifies
        this watch of it, so the wait-for graph is asked every QUIET_LOOK."""
        end = _clock() + limit
        with self.mutex:
            while not self._halted():
                if thread in self._ended or thread in self._blocked or waitfor.blocked(thread):
                    return
                if not done and thread in self._took:
                    return
                left = end - _clock()
                if left <= 0:
                    return
                self._changed.wait(min(left, waitfor.QUIET_LOOK))

    # -- the lock operations (WatchedLock calls these) --

    def acquire(self, lock: WatchedLock, blocking: bool, timeout: float) -> bool:
        me = _current()
        line = learner_line(self.files)
        with self.mutex:
            self._raise_if_halted()
            if lock.owner is not None:
                if not blocking or not self._wait(lock, me, timeout, line):
                    return False
            lock.owner, lock.taken_line = me, line
            self._holding.setdefault(me, []).append(lock)
            first = me not in self._took
            self._took.add(me)
            self._changed.notify_all()
            if first:
                self._pause(me)
            return True

    def release(self, lock: WatchedLock) -> None:
        with self.mutex:
            owner = lock.owner
            if owner is None:
                raise RuntimeError("release unlocked lock")
            lock.owner = None
            held = self._holding.get(owner, [])
            if lock in held:
                held.remove(lock)
            if not held:
                self._inside.discard(owner)
            lock.freed.notify_all()
            self._changed.notify_all()

    def done(self) -> None:
        """A transfer has returned or raised in this thread: the first time, hold the thread
        there until run_transfers joins it (the gate), holding no lock, blocking nobody."""
        me = _current()
        if self.gate is None:
            return
        with self.mutex:
            if me in self._held_once:
                return
            self._held_once.add(me)
        self.gate.hold()

    def touched(self, account: object, verb: str) -> None:
        """A balance was read or changed (from the watched Account's property)."""
        if not self.recording and not self._overlap:
            return
        me = _current()
        own = vars(account).get("lock")
        line = learner_line(self.files)
        with self.mutex:
            holds = isinstance(own, WatchedLock) and own.owner is me
            if self.recording and me is not self._caller and not holds:
                self._note_unlocked(Access(me.name, label(account), verb, line))
            if self._overlap and self._holding.get(me) and me not in self._inside:
                self._inside.add(me)
                self.peak_inside = max(self.peak_inside, len(self._inside))
                self._meet()

    # -- inside, with the mutex held --

    def _note_unlocked(self, access: Access) -> None:
        """Keep the first unlocked access of each kind at each line: one is enough to show."""
        if all((a.verb, a.line) != (access.verb, access.line) for a in self.unlocked):
            if len(self.unlocked) < 10:
                self.unlocked.append(access)

    def _wait(self, lock: WatchedLock, me: threading.Thread, timeout: float, line: int) -> bool:
        end = None if timeout < 0 else _clock() + timeout
        self._blocked.add(me)
        if end is None:
            self._waiting[me] = Wait(me, lock, line)
        self._changed.notify_all()
        try:
            # a waiter of the checks' locks: the graph cannot see it
            with waitfor.held_by_kit(lambda: lock.owner is None):
                return self._wait_for_owner(lock, me, end)
        finally:
            self._blocked.discard(me)
            self._waiting.pop(me, None)

    def _wait_for_owner(self, lock: WatchedLock, me: threading.Thread, end: float | None) -> bool:
        """Wait (mutex held) until `lock` is free: True, or False when `end` passes first."""
        while lock.owner is not None:
            self._raise_if_halted()
            if end is None:
                self._find_stuck(me)
                lock.freed.wait(POLL)
                continue
            left = end - _clock()
            if left <= 0:
                return False
            lock.freed.wait(left)
        return True

    def _find_stuck(self, me: threading.Thread) -> None:
        """Follow holder -> the lock it waits for -> its holder ... from `me`'s wait."""
        chain = [self._waiting[me]]
        seen = {me}
        while True:
            holder = chain[-1].lock.owner
            if holder is None:
                return
            if holder is me:
                self._stop(Stuck(tuple(chain)))
            if holder in seen:
                return  # a cycle that `me` only waits on: one of its threads reports it
            wait = self._waiting.get(holder)
            if wait is None:
                if not holder.is_alive():
                    self._stop(Stuck((chain[-1],), ended=holder))
                return
            seen.add(holder)
            chain.append(wait)

    def _stop(self, stuck: Stuck) -> None:
        if self.stuck is None:
            self.stuck = stuck
        self._wake_all()
        raise DeadlockBroken(stuck.story())

    def _halted(self) -> bool:
        return self.stuck is not None or self._closed

    def _raise_if_halted(self) -> None:
        if self.stuck is not None:
            raise DeadlockBroken(self.stuck.story())
        if self._closed:
            raise DeadlockBroken("the check has ended")

    def _wake_all(self) -> None:
        self._changed.notify_all()
        for lock in self._locks:
            lock.freed.notify_all()
        if self.gate is not None:
            self.gate.open()  # a halted run holds nobody

    def _moved(self, thread: threading.Thread) -> bool:
        """Took a lock, waits for one (these locks, or the learner's own), or ended."""
        if thread in self._took or thread in self._blocked or thread in self._ended:
            return True
        return waitfor.blocked(thread)

    def _pause(self, me: threading.Thread) -> None:
        """Hold a thread of the group after its first lock until the whole group has moved.

        At most PAUSE_LIMIT after the last of the group was started (however long starting
        them took on a loaded machine), and CALL_LIMIT in all.
        """
        if me not in self._group or self._group_open:
            return
        cap = _clock() + CALL_LIMIT
        while not (self._group_open or self._halted()):
            if all(self._moved(t) for t in self._group):
                self._group_open = True
                self._changed.notify_all()
                return
            end = cap if self._started_at is None else min(cap, self._started_at + PAUSE_LIMIT)
            left = end - _clock()
            if left <= 0:
                return
            self._changed.wait(min(left, waitfor.QUIET_LOOK))  # the learner's locks: _moved

    def _meet(self) -> None:
        """The overlap latch: wait inside the locks until `overlap` threads are inside.

        Given up as soon as no other thread can come in (the wait-for graph: the others wait
        on these, or are done; the first thread inside looks), else when OVERLAP_LIMIT passes
        with no new thread coming in: a run that keeps starting threads on a slow machine is
        still making its way there.
        """
        self._last_in = _clock()
        probe = waitfor.quiet if len(self._inside) == 1 else None  # the first one in looks
        waitfor.wait_quietly(
            self._changed,
            lambda: self._overlap_over or self._halted() or len(self._inside) >= self._overlap,
            lambda: self._last_in + OVERLAP_LIMIT,
            probe,
        )
        self._overlap_over = True  # met, or given up: later threads run straight on
        self._changed.notify_all()


def learner_line(files: frozenset[str]) -> int:
    """The line of the learner's file the calling thread is at (0 if it is not in it)."""
    frame = _getframe(1)
    while frame is not None:
        if frame.f_code.co_filename in files:
            return frame.f_lineno
        frame = frame.f_back
    return 0


# --- accounts ------------------------------------------------------------------------------


def account_class(mod: ModuleType, watch: LockWatch) -> type:
    """The learner's Account, with `balance` a property that tells `watch` who touches it."""

    class WatchedAccount(mod.Account):  # type: ignore[name-defined,misc]
        @property
        def balance(self) -> object:
            watch.touched(self, "read")
            return vars(self)[BALANCE]

        @balance.setter
        def balance(self, value: object) -> None:
            watch.touched(self, "changed")
            vars(self)[BALANCE] = value

    return WatchedAccount


def open_accounts(mod: ModuleType, watch: LockWatch, specs: Iterable[tuple[int, int]]) -> list:
    """Accounts (number, balance) of the learner's class, in this order, with our locks."""
    cls = account_class(mod, watch)
    accounts = []
    for number, balance in specs:
        account = cls(number, balance)
        account.lock = watch.lock(f"account {number}")
        vars(account)[LABEL] = f"account {number}"
        accounts.append(account)
    return accounts


def held_after(watch: LockWatch, transfer: Callable[..., Any]) -> Callable[..., Any]:
    """The learner's transfer, holding its thread in `watch` once it returned or raised."""

    def held_transfer(*args: Any, **kwargs: Any) -> Any:
        try:
            return transfer(*args, **kwargs)
        finally:
            watch.done()

    return held_transfer


def label(account: object) -> str:
    return str(vars(account).get(LABEL, "an account"))


def balance_of(account: object) -> object:
    """The balance as stored, read without telling the watch."""
    return vars(account).get(BALANCE)


def balances(accounts: Sequence[object]) -> list[object]:
    return [balance_of(a) for a in accounts]


def exact(values: Sequence[object], want: Sequence[int]) -> bool:
    """Equal, and every value an exact int (an object's __eq__ could lie)."""
    return len(values) == len(want) and all(type(v) is int and v == w for v, w in zip(values, want))


def shown(accounts: Sequence[object], values: Sequence[object]) -> str:
    return ", ".join(f"{label(a)}: {v!r}" for a, v in zip(accounts, values))


# --- transfers the checks run in their own threads ------------------------------------------


@dataclass
class Call:
    """One transfer the check runs in a thread of its own, and how it ended."""

    func: Callable[..., Any]
    src: object
    dst: object
    amount: int
    name: str
    grouped: bool = True  # held after its first lock until the group has moved
    thread: threading.Thread | None = field(default=None, repr=False)
    error: BaseException | None = None
    returned: bool = False

    @property
    def text(self) -> str:
        return f"transfer({label(self.src)}, {label(self.dst)}, {self.amount})"

    def run(self, watch: LockWatch) -> None:
        try:
            self.func(self.src, self.dst, self.amount)
            self.returned = True
        except BaseException as exc:  # noqa: BLE001 - the learner's code may raise anything
            self.error = exc
        finally:
            watch.ended(_current())


def run_calls(watch: LockWatch, calls: Sequence[Call]) -> None:
    """Start the calls one by one, each once the one before took a lock, waits, or ended.

    Grouped calls are held after their first lock until every grouped call has moved: that
    alone forces the deadlock of a wrong order, whatever the scheduler does; starting them one
    by one only fixes who comes first (Thread-1), so the story is the same in every run. An
    ungrouped call (a bystander that changes balances) is waited for until it ends or waits,
    so that the calls after it see the balances it left.
    """
    for call in calls:
        call.thread = _Thread(target=call.run, args=(watch,), name=call.name, daemon=True)
    watch.group(c.thread for c in calls if c.grouped and c.thread is not None)
    for call in calls:
        assert call.thread is not None
        call.thread.start()
        limit = STAGE_LIMIT if call.grouped else BYSTANDER_LIMIT
        watch.wait_progress(call.thread, done=not call.grouped, limit=limit)
    watch.started_all()
    end = _clock() + CALL_LIMIT
    for call in calls:
        assert call.thread is not None
        call.thread.join(max(0.0, end - _clock()))


def stuck_failure(ctx: Context, stuck: Stuck, calls: Sequence[Call] = ()) -> CheckFailed:
    """The story of threads that would have waited forever, in the learner's words."""
    ran = {c.thread: c.text for c in calls}
    waits = stuck.ordered
    details = []
    for wait in waits:
        doing = f" ran {ran[wait.thread]} and" if wait.thread in ran else ""
        at = f" at {location(ctx.path, wait.line)}" if wait.line else ""
        details.append(f"{wait.thread.name}{doing} waits{at}")
    in_story = {w.thread for w in waits}
    details += [f"{c.name} ran {c.text} in between" for c in calls if c.thread not in in_story]
    if stuck.ended is not None:
        taken = waits[0].lock.taken_line
        at = f" at {location(ctx.path, taken)}" if taken else ""
        details.append(f"{stuck.ended.name} took {waits[0].lock.label}'s lock{at}")
    details.append("The checks stopped these threads: they would have waited forever.")
    at_line = Location.of(ctx.path, waits[0].line) if waits[0].line else None
    if stuck.ended is not None:
        summary = "A lock was never released, so a transfer waits for it forever"
        hint = (
            "A transfer that raised left its locks taken: the raise skipped the release(). A "
            "`with account.lock:` block releases the lock however the block is left."
        )
    elif len(waits) == 1:
        summary = "A transfer waits for a lock that its own thread already holds"
        hint = (
            "When src is dst there is only one lock, and a threading.Lock makes even its "
            "holder wait. Deal with src is dst before taking any lock."
        )
    else:
        summary = "Your transfers deadlocked: each thread waits for a lock another one holds"
        hint = (
            "The threads took the same locks in different orders. Whatever the direction of "
            "the transfer, lock the two accounts in one order that every thread agrees on and "
            "that does not change while threads run."
        )
    return CheckFailed(
        summary,
        expected="every transfer to finish",
        got=stuck.story(),
        location=at_line,
        details=details,
        hint=hint,
        kind="deadlock",
        replay=ctx.replay,
    )


def require_returned(ctx: Context, watch: LockWatch, calls: Sequence[Call]) -> None:
    """Fail on a deadlock, a transfer that never returned, or one that raised."""
    if watch.stuck is not None:
        raise stuck_failure(ctx, watch.stuck, calls)
    running = [c for c in calls if c.thread is not None and c.thread.is_alive()]
    if running:
        threads = [c.thread for c in running if c.thread is not None]
        raise CheckFailed(
            f"{running[0].text} did not return within {CALL_LIMIT:g} s",
            expected="every transfer to return",
            got=f"still running: {', '.join(c.name for c in running)}",
            details=stack_lines(ctx.files, threads),
            hint="A thread that waits for a lock nobody releases, or for a lock of your own "
            "that another thread holds, waits forever.",
            kind="timeout",
            replay=ctx.replay,
        )
    for call in calls:
        if call.error is not None:
            raise describe_exception(call.error, ctx.files, f"{call.name} running {call.text}")


# --- run_transfers on many accounts -------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Accounts (number, balance), transfers (src index, dst index, amount), and the ones
    that must fail. Transfers go one way along a seeded ranking of the accounts (no two in
    opposite directions, so no lock order can deadlock here: that is the deadlock checks'
    job), and each account sends less than it holds, so no transfer that should succeed can
    fail, whatever the order the threads run in."""

    specs: tuple[tuple[int, int], ...]
    jobs: tuple[tuple[int, int, int], ...]
    failing: frozenset[int]  # positions in jobs

    def expected(self) -> list[int]:
        final = [balance for _, balance in self.specs]
        for pos, (src, dst, amount) in enumerate(self.jobs):
            if pos not in self.failing:
                final[src] -= amount
                final[dst] += amount
        return final


def plan_transfers(
    rng: Random, specs: Sequence[tuple[int, int]], n_ok: int, n_failing: int, most: int
) -> Plan:
    n = len(specs)
    rank = rng.sample(range(n), n)  # transfers go from a lower rank to a higher one
    budget = [balance - 1 for _, balance in specs]  # never the whole balance: `<` vs `<=`
    incoming = [0] * n
    jobs: list[tuple[int, int, int]] = []
    for _ in range(50 * n_ok):
        if len(jobs) == n_ok:
            break
        low, high = sorted(rng.sample(range(n), 2))
        src, dst = rank[low], rank[high]
        amount = min(rng.randint(1, most), budget[src])
        if amount >= 1:
            budget[src] -= amount
            incoming[dst] += amount
            jobs.append((src, dst, amount))
    bad = []
    for _ in range(n_failing):
        low, high = sorted(rng.sample(range(n), 2))
        src, dst = rank[low], rank[high]
        bad.append((src, dst, specs[src][1] + incoming[src] + rng.randint(1, 50)))
    listed = [(job, False) for job in rng.sample(jobs, len(jobs))]
    for job in bad:  # never first or last: skipping either end must change a balance
        listed.insert(rng.randint(1, len(listed) - 1), (job, True))
    failing = frozenset(pos for pos, (_, fails) in enumerate(listed) if fails)
    return Plan(tuple(specs), tuple(job for job, _ in listed), failing)


def run_plan(ctx: Context, plan: Plan, *, hold: bool) -> None:
    """Call run_transfers on the plan and judge what it did.

    With `hold`, its threads are held after their transfer until it joins them or returns,
    and a thread still alive when it returns fails the check (requirement 8). That keeps
    them all alive at once: the grading process has room for about 130 threads.
    """
    mod = ctx.load()
    with LockWatch(ctx.files, caller=_current(), hold=hold) as watch:
        accounts = open_accounts(mod, watch, plan.specs)
        transfers = [(accounts[s], accounts[d], amount) for s, d, amount in plan.jobs]
        if hold:
            mod.transfer = held_after(watch, mod.transfer)  # run_transfers' threads call it
        call = f"run_transfers(<a list of {len(transfers)} transfers>)"
        watch.recording = True
        try:
            with new_threads_held(ctx):
                ctx.call(mod.run_transfers, transfers)
        finally:
            watch.open_holds()
        ctx.settle(CALL_LIMIT)
        watch.recording = False
        require_locked_access(ctx, watch)  # first: an order read from balances may deadlock
        if watch.stuck is not None:
            raise stuck_failure(ctx, watch.stuck)
        if hold:
            ctx.require_joined(
                call,
                hint="Start every thread first, then call join() on every one of them before "
                "run_transfers returns.",
            )
        require_no_escape(ctx, mod)
        require_unlocked(ctx, watch, f"after {call} returned")
        require_balances(ctx, plan, accounts, call)


def new_threads_held(ctx: Context) -> ForcedInterleaving:
    """While run_transfers runs, the threads it starts run none of the learner's code until it
    waits for them (or returns): a thread whose lambda reads the loop's variables then reads
    their last values in every run, not only when the scheduler happens to be slow (R7)."""
    return ForcedInterleaving(
        ctx.files, seed=ctx.seed, yield_probability=0.0, hold_new_threads=True
    )


def require_no_escape(ctx: Context, mod: ModuleType) -> None:
    """Fail if an exception escaped a thread: InsufficientFunds (skip it!) or another."""
    if ctx.watch is None or not ctx.watch.errors:
        return
    funds = getattr(mod, "InsufficientFunds", None)
    for error in ctx.watch.errors:
        if isinstance(funds, type) and isinstance(error.exc, funds):
            failure = describe_exception(error.exc, ctx.files, error.thread)
            raise CheckFailed(
                "InsufficientFunds escaped from a transfer's thread instead of being skipped",
                expected="a transfer without the money skipped, its thread ending normally",
                got=f"{error.thread} ended with InsufficientFunds: {error.exc}",
                location=failure.feedback.location,
                hint="A thread cannot hand an exception back to run_transfers: catch "
                "InsufficientFunds inside the function the thread runs, around the transfer.",
            )
    ctx.watch.raise_thread_errors()


def require_locked_access(ctx: Context, watch: LockWatch) -> None:
    if not watch.unlocked:
        return
    first = watch.unlocked[0]
    more = [
        f"{a.thread} {a.verb} {a.account}'s balance"
        + (f" at {location(ctx.path, a.line)}" if a.line else "")
        for a in watch.unlocked[1:4]
    ]
    raise CheckFailed(
        "A balance was read or changed without holding its account's lock",
        expected="every read and change of a balance inside that account's `with ...lock:`",
        got=f"{first.thread} {first.verb} {first.account}'s balance without holding "
        f"{first.account}'s lock",
        location=Location.of(ctx.path, first.line) if first.line else None,
        details=more,
        hint="Take both accounts' locks first, then check src.balance and move the money "
        "inside the locked blocks. A balance touched outside its lock races with other "
        "transfers: between a check and the move, another thread can take the money.",
    )


def require_unlocked(ctx: Context, watch: LockWatch, when: str) -> None:
    held = watch.still_held()
    if not held:
        return
    lock = held[0]
    taken = f" (taken at {location(ctx.path, lock.taken_line)})" if lock.taken_line else ""
    raise CheckFailed(
        "A transfer left a lock taken",
        expected=f"every account's lock free {when}",
        got=f"{lock.label}'s lock was still taken{taken}",
        location=Location.of(ctx.path, lock.taken_line) if lock.taken_line else None,
        details=[f"{len(held)} lock(s) in all were left taken."],
        hint="A raise between acquire() and release() skips the release(). A "
        "`with account.lock:` block releases the lock however the block is left, also when "
        "an exception passes through.",
    )


def require_balances(ctx: Context, plan: Plan, accounts: Sequence[object], call: str) -> None:
    got, want = balances(accounts), plan.expected()
    if exact(got, want):
        return
    wrong = [
        f"{label(a)} holds {g!r} instead of {w}"
        for a, g, w in zip(accounts, got, want)
        if not (type(g) is int and g == w)
    ]
    total = sum(g for g in got if type(g) is int)
    n_bad = len(plan.failing)
    raise CheckFailed(
        f"The balances are wrong after {call}",
        expected=f"{len(plan.jobs) - n_bad} transfers done and {n_bad} skipped (not enough "
        f"money): total {sum(want)}",
        got="; ".join(wrong[:4]) + f" (total {total})",
        replay=ctx.replay,
        hint="Run every transfer of the list, each in its own thread, and join them all. A "
        "transfer without the money must change no balance, and must not stop the others.",
    )


# --- the checks ---------------------------------------------------------------------------


def two_numbers(rng: Random) -> tuple[int, int]:
    low, high = sorted(rng.sample(range(1, 100), 2))
    return low, high


def open_in_random_order(
    mod: ModuleType, watch: LockWatch, rng: Random, specs: Sequence[tuple[int, int]]
) -> list:
    """The accounts in the order of `specs`, created in a seeded order (ids vary with it)."""
    order = rng.sample(range(len(specs)), len(specs))
    made = dict(zip(order, open_accounts(mod, watch, [specs[i] for i in order])))
    return [made[i] for i in range(len(specs))]


@check("Two transfers in opposite directions never deadlock", points=3, requires="R1", timeout=20.0)
def no_deadlock(ctx: Context) -> None:
    rng = ctx.rng("pairs")
    for equal, src_high in ((True, True), (False, False)):
        mod = ctx.load()
        with LockWatch(ctx.files) as watch:
            low, high = two_numbers(rng)
            money = rng.randint(20, 500)
            other = money if equal else money + rng.randint(1, 200)
            pair = open_in_random_order(mod, watch, rng, [(low, money), (high, other)])
            src, dst = (pair[1], pair[0]) if src_high else (pair[0], pair[1])
            most = min(money, other) // 2
            calls = [
                Call(mod.transfer, src, dst, rng.randint(1, most), "Thread-1"),
                Call(mod.transfer, dst, src, rng.randint(1, most), "Thread-2"),
            ]
            run_calls(watch, calls)
            require_returned(ctx, watch, calls)


def run_one(
    ctx: Context, mod: ModuleType, watch: LockWatch, src: object, dst: object, n: int
) -> Call:
    call = Call(mod.transfer, src, dst, n, "Thread-1")
    run_calls(watch, [call])
    if watch.stuck is not None or (call.thread is not None and call.thread.is_alive()):
        require_returned(ctx, watch, [call])
    return call


@check(
    "A transfer without the money raises InsufficientFunds, changes nothing and unlocks",
    points=2,
    requires=("R2", "R4"),
)
def failed_transfer(ctx: Context) -> None:
    rng = ctx.rng("failing")
    for src_low in (True, False):
        mod = ctx.load()
        with LockWatch(ctx.files) as watch:
            low, high = two_numbers(rng)
            money = rng.randint(10, 300)
            numbers = (low, high) if src_low else (high, low)
            src, dst = open_in_random_order(
                mod, watch, rng, [(numbers[0], money), (numbers[1], rng.randint(0, 300))]
            )
            before = balances((src, dst))
            call = run_one(ctx, mod, watch, src, dst, money + rng.randint(1, 100))
            require_insufficient(ctx, mod, call, money)
            if not exact(balances((src, dst)), before):  # type: ignore[arg-type]
                raise CheckFailed(
                    "A transfer that failed changed balances",
                    expected=f"{shown((src, dst), before)} after {call.text} raised",
                    got=shown((src, dst), balances((src, dst))),
                    hint="Check first, then move: raise InsufficientFunds before you change "
                    "any balance.",
                )
            require_unlocked(ctx, watch, f"after {call.text} raised InsufficientFunds")
    whole_balance(ctx, rng)


def require_insufficient(ctx: Context, mod: ModuleType, call: Call, money: int) -> None:
    funds = getattr(mod, "InsufficientFunds", None)
    if isinstance(funds, type) and isinstance(call.error, funds):
        return
    if call.error is None:
        got = "it returned normally"
    else:
        got = f"it raised {type(call.error).__name__}: {call.error}"
    raise CheckFailed(
        "transfer did not raise InsufficientFunds when src had too little money",
        expected=f"{call.text} to raise InsufficientFunds ({label(call.src)} holds {money})",
        got=got,
        hint="While holding both locks, check src.balance < amount and raise "
        "InsufficientFunds(...) when it is true.",
    )


def whole_balance(ctx: Context, rng: Random) -> None:
    """A transfer of exactly the whole balance succeeds, and unlocks."""
    mod = ctx.load()
    with LockWatch(ctx.files) as watch:
        low, high = two_numbers(rng)
        money, other = rng.randint(10, 300), rng.randint(0, 300)
        src, dst = open_in_random_order(mod, watch, rng, [(high, money), (low, other)])
        call = run_one(ctx, mod, watch, src, dst, money)
        if call.error is not None or not exact(balances((src, dst)), [0, other + money]):
            raise CheckFailed(
                "A transfer of the whole balance did not succeed",
                expected=f"{call.text} ({label(src)} holds {money}) to leave "
                f"{label(src)}: 0, {label(dst)}: {other + money}",
                got=f"it raised {type(call.error).__name__}: {call.error}"
                if call.error is not None
                else shown((src, dst), balances((src, dst))),
                hint="Only src.balance < amount is too little money: moving exactly the "
                "whole balance is allowed.",
            )
        require_unlocked(ctx, watch, f"after {call.text} returned")


@check(
    "A transfer from an account to itself changes nothing and does not hang",
    points=1,
    requires="R5",
)
def self_transfer(ctx: Context) -> None:
    rng = ctx.rng("self")
    money = rng.randint(10, 300)
    number = rng.randint(1, 99)
    for amount in (rng.randint(1, money), money):  # and exactly the whole balance: it returns
        one_self_transfer(ctx, money, number, amount)


def one_self_transfer(ctx: Context, money: int, number: int, amount: int) -> None:
    mod = ctx.load()
    with LockWatch(ctx.files) as watch:
        (account,) = open_accounts(mod, watch, [(number, money)])
        call = Call(mod.transfer, account, account, amount, "Thread-1")
        run_calls(watch, [call])
        funds = getattr(mod, "InsufficientFunds", None)
        if isinstance(funds, type) and isinstance(call.error, funds):
            raise CheckFailed(
                "A transfer from an account to itself raised InsufficientFunds",
                expected=f"{call.text} ({label(account)} holds {money}) to return and change "
                "nothing",
                got=f"it raised InsufficientFunds: {call.error}",
                hint="Moving money from an account to itself changes nothing: when src is dst, "
                "return. (And a transfer of exactly the whole balance has the money.)",
            )
        require_returned(ctx, watch, [call])
        if not exact(balances([account]), [money]):
            raise CheckFailed(
                "A transfer from an account to itself changed its balance",
                expected=f"{label(account)} to hold {money} after {call.text}",
                got=f"it holds {balance_of(account)!r}",
                hint="Moving money from an account to itself changes nothing: return.",
            )
        require_unlocked(ctx, watch, f"after {call.text} returned")


@check(
    "Many transfers at once: every balance right, no money made or lost",
    points=2,
    requires=("R2", "R3", "R4", "R7", "R8", "R9"),
    timeout=20.0,
)
def money_conserved(ctx: Context) -> None:
    rng = ctx.rng("bank")
    n = rng.randint(4, 6)
    specs = [(number, rng.randint(200, 500)) for number in rng.sample(range(1, 1000), n)]
    plan = plan_transfers(rng, specs, rng.randint(12, 20), rng.randint(1, 2), most=25)
    run_plan(ctx, plan, hold=True)


@check(
    "Transfers on different accounts run at the same time",
    points=2,
    requires=("R6", "R7"),
    timeout=20.0,
)
def transfers_overlap(ctx: Context) -> None:
    rng = ctx.rng("disjoint")
    k = rng.randint(33, 40)  # more than any default pool (ThreadPoolExecutor: at most 32)
    specs = [(number, rng.randint(50, 300)) for number in rng.sample(range(1, 1000), 2 * k)]
    mod = ctx.load()
    with LockWatch(ctx.files, overlap=k) as watch:
        accounts = open_in_random_order(mod, watch, rng, specs)
        transfers = []
        for i in range(k):
            src, dst = rng.sample(accounts[2 * i : 2 * i + 2], 2)
            transfers.append((src, dst, rng.randint(1, balance_of(src) - 1)))  # type: ignore[operator]
        with new_threads_held(ctx):
            ctx.call(mod.run_transfers, transfers)
        ctx.settle(CALL_LIMIT)
        if watch.stuck is not None:
            raise stuck_failure(ctx, watch.stuck)
        if watch.peak_inside >= k:
            return
        got = (
            f"at most {watch.peak_inside} at once"
            if watch.peak_inside
            else "no transfer changed a balance while holding an account's lock (account.lock)"
        )
        raise CheckFailed(
            "Transfers on different accounts did not run at the same time",
            expected=f"all {k} transfers, each on two accounts of its own, inside their locks "
            "at the same moment",
            got=got,
            hint="Lock only the two accounts of the transfer: one lock for the whole bank "
            "makes every transfer wait for every other one. And give every transfer a thread "
            "of its own, all started before you join any.",
        )


# Graded hints for `make hint TASK=deadlock`: one more each time, never the answer.
HINTS = (
    "Write run_transfers first (start every thread, then join them all), then run "
    "`python exercises/bank.py`: with the given transfer it can hang. `make check "
    "TASK=deadlock` tells you which thread holds which lock and waits for which.",
    "A deadlock is a cycle: Thread-1 holds A and waits for B while Thread-2 holds B and waits "
    "for A. It needs two threads to take the same two locks in different orders. If every "
    "thread takes them in the same order, the second one waits for the first lock instead, "
    "and the cycle cannot close.",
    "The order must come from something about the accounts that never changes while threads "
    "run. `sorted()` with a `key=` gives you the two accounts in that order, whichever is "
    "src and whichever is dst.",
    "An exception between acquire() and release() skips the release(). A `with lock:` block "
    "releases on the way out, however the block is left; two nested `with` blocks hold two "
    "locks. When src is dst there is only one lock: a Lock does not let its own holder take "
    "it again, so handle that case before locking.",
    "In run_transfers, a thread cannot hand an exception back to you. Give the threads a small "
    "function of yours that calls transfer inside try/except InsufficientFunds.",
)
