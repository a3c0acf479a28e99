"""Throttling of failed sign-ins. Failures slow further attempts down; they never lock an account, so that nobody
can keep a person out by failing in their name.

Three keys count failures: the pair (account, address), so a stranger's failures never slow the person down at
their own address; the address alone, with more failures allowed, so that one address cannot try many accounts
quickly; and the account alone, with more still, which slows down only addresses the account never signed in from:
many addresses guessing one password (each within its own free failures) are slowed down together, while the
person signs in at once from wherever they signed in before. Past its free failures, a key waits a delay that
doubles with each further failure, up to a ceiling; a key without failures for `forget_s` starts afresh, and a
successful sign-in clears its pair.

Memory is bounded whatever is sent: a key is a 16-byte digest (a username of any length costs the same), and at
most `capacity` keys are kept, the least recently failed going first; as many (account, address) pairs that signed
in are remembered, the least recently used going first. Kept in the process's memory: the app runs as one process
(waitress threads); a restart forgets, which only ever lets a person in sooner.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

__all__ = ["Throttle"]


def _key(*parts: str) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.digest()


class Throttle:
    def __init__(self, free_per_pair: int = 5, free_per_address: int = 20, free_per_account: int = 50,
                 first_delay_s: float = 1.0, most_delay_s: float = 900.0, forget_s: float = 3600.0,
                 capacity: int = 100_000, clock=time.monotonic):
        self.free_per_pair, self.free_per_address = free_per_pair, free_per_address
        self.free_per_account = free_per_account
        self.first_delay_s, self.most_delay_s, self.forget_s = first_delay_s, most_delay_s, forget_s
        self.capacity, self.clock = capacity, clock
        self._failures: OrderedDict[bytes, tuple[int, float]] = OrderedDict()  # key -> (failures, last failure)
        self._known: OrderedDict[bytes, None] = OrderedDict()  # (account, address) pairs that signed in
        self._lock = threading.Lock()

    def _keys(self, account: str, address: str) -> list[tuple[bytes, int]]:
        return [(_key("pair", account.lower(), address), self.free_per_pair),
                (_key("address", address), self.free_per_address),
                (_key("account", account.lower()), self.free_per_account)]

    def _slowing(self, account: str, address: str) -> list[tuple[bytes, int]]:
        """The keys whose failures slow this attempt: the account's only from an address it never signed in from."""
        keys = self._keys(account, address)
        return keys[:2] if _key("known", account.lower(), address) in self._known else keys

    def _delay(self, failures: int, free: int) -> float:
        if failures < free:
            return 0.0
        return min(self.first_delay_s * 2 ** min(failures - free, 60), self.most_delay_s)

    def wait_s(self, account: str, address: str) -> float:
        """Seconds until `account` may be tried again from `address`; 0 when it may now."""
        with self._lock:
            return self._wait(account, address)

    def attempt(self, account: str, address: str) -> float:
        """Check and count an attempt at once: the seconds to wait (nothing counted), or 0, the attempt then counted
        as failed until `succeeded` says otherwise. Checking and counting apart would let parallel requests all
        pass the check while the password is verified."""
        with self._lock:
            wait = self._wait(account, address)
            if wait <= 0:
                self._fail(account, address)
            return wait

    def failed(self, account: str, address: str) -> None:
        with self._lock:
            self._fail(account, address)

    def succeeded(self, account: str, address: str) -> None:
        """The attempt was right: the pair's failures are forgotten, and the address's count loses this one."""
        (pair, _), (by_address, _), _ = self._keys(account, address)
        known = _key("known", account.lower(), address)
        with self._lock:
            self._known[known] = None
            self._known.move_to_end(known)
            while len(self._known) > self.capacity:
                self._known.popitem(last=False)
            self._failures.pop(pair, None)
            failures, last = self._failures.get(by_address, (0, 0.0))
            if failures > 1:
                self._failures[by_address] = (failures - 1, last)
            else:
                self._failures.pop(by_address, None)

    def _wait(self, account: str, address: str) -> float:
        now, waits = self.clock(), [0.0]
        for key, free in self._slowing(account, address):
            failures, last = self._failures.get(key, (0, 0.0))
            if failures and now - last < self.forget_s:
                waits.append(last + self._delay(failures, free) - now)
        return max(waits)

    def _fail(self, account: str, address: str) -> None:
        now = self.clock()
        for key, _ in self._keys(account, address):
            failures, last = self._failures.pop(key, (0, 0.0))
            self._failures[key] = (failures + 1 if now - last < self.forget_s else 1, now)
        while len(self._failures) > self.capacity:
            self._failures.popitem(last=False)

    def __len__(self) -> int:
        return len(self._failures)
