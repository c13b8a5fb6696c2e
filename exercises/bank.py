"""Task deadlock: transfers that cannot deadlock.

A small bank. Every `Account` has a unique `number`, a `balance` and its own `lock`.
`transfer(src, dst, amount)` holds both accounts' locks while it moves the money, so that no
other thread sees it half-moved. As given, it has two bugs that make threads wait forever:

- it locks `src` first, then `dst`. While one thread runs transfer(a, b, ...) and another
  runs transfer(b, a, ...), each can take its first lock and then wait for the other's
  lock forever: a deadlock.
- when `src` has too little money it raises InsufficientFunds between acquire() and
  release(): the locks stay taken, and every later transfer on those accounts waits forever.
  If threads don't release what they hold, work in other threads is blocked.

Your job, in `transfer` (keep its name and arguments):
  1. lock the two accounts in one order that every thread agrees on, whatever the direction
     of the transfer: the account with the smaller `number` first. (Any order that never
     changes would do; a balance changes, so it is not one.)
  2. release every lock transfer took, both when it returns and when it raises: use
     `with account.lock:` blocks instead of acquire() and release().
  3. check the balance and move the money while holding both locks: read or change an
     account's `balance` only while holding that account's lock.
  4. if `src.balance < amount`, raise InsufficientFunds and change no balance (a transfer of
     exactly the whole balance succeeds).
  5. a transfer from an account to itself (`src is dst`) returns and changes nothing. It must
     not take the same lock twice: a Lock makes even the thread that holds it wait, forever.
  6. transfers on different accounts still run at the same time: do not make every transfer
     wait for one lock of the whole bank.
And write `run_transfers(transfers)`, where `transfers` is a list of (src, dst, amount):
  7. run every transfer of the list in its own thread, all the threads at the same time;
  8. join every thread before returning;
  9. a transfer that raises InsufficientFunds is skipped: catch the exception inside its
     thread, so that the thread ends normally; the other transfers still happen.

The checks replace every account's `lock` with a lock of their own (it works like a
threading.Lock: `with`, acquire(), release(), locked()) to see which thread holds which lock,
and they make threads take their locks at the worst moments. So lock an account only through
`account.lock`.

Check your work with:  make check TASK=deadlock
"""

import threading


class InsufficientFunds(Exception):
    """Raised by transfer when the source account has less money than the amount."""


class Account:
    """A bank account: a unique number, a balance, and a lock that guards the balance."""

    def __init__(self, number, balance=0):
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()


def transfer(src, dst, amount):
    """Move `amount` from `src` to `dst`. Buggy: it can deadlock, and it leaks locks on errors."""
    src.lock.acquire()
    dst.lock.acquire()
    if src.balance < amount:
        raise InsufficientFunds(f"account {src.number} has {src.balance}, not {amount}")
    src.balance -= amount
    dst.balance += amount
    dst.lock.release()
    src.lock.release()


def run_transfers(transfers):
    """Run every (src, dst, amount) in its own thread, all at once; join them all."""
    # TODO: one thread per transfer, all started, then all joined. In each thread, skip a
    #       transfer that raises InsufficientFunds (catch it there).
    raise NotImplementedError("run_transfers is not written yet")


if __name__ == "__main__":
    import random

    accounts = [Account(number, 1_000) for number in random.sample(range(100, 1000), 10)]
    transfers = [(*random.sample(accounts, 2), random.randint(1, 100)) for _ in range(100)]
    run_transfers(transfers)
    print("total:", sum(account.balance for account in accounts), "(it should be 10000)")
