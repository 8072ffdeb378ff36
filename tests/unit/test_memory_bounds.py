"""DeliveryGuard and the serve process's memory: what stays bounded however many requests arrive."""

from __future__ import annotations

from bot.slack.bolt_app import DeliveryGuard


def test_keeps_at_most_keep_keys_and_the_shared_record_still_refuses_a_forgotten_one() -> None:
    record: set[str] = set()

    def seen(key: str) -> bool:
        new = key not in record
        record.add(key)
        return new

    guard = DeliveryGuard(seen=seen, keep=3)
    assert all(guard.first_time(f"trigger:{i}") for i in range(100))
    assert len(guard._seen) <= 3  # a busy bot's ten minutes of keys are not all kept
    assert not guard.first_time("trigger:99")  # still kept here
    assert not guard.first_time("trigger:0")  # forgotten here; refused by the shared record


def test_without_a_shared_record_a_recent_duplicate_is_refused() -> None:
    guard = DeliveryGuard()
    assert guard.first_time("body:abc")
    assert not guard.first_time("body:abc")


def test_serve_limits_malloc_arenas_unless_the_environment_says(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ctypes
    import sys

    from bot import cli

    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, option: int, value: int) -> int:
            calls.append((option, value))
            return 1

    monkeypatch.setattr(ctypes, "CDLL", lambda name: Libc())
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    cli._limit_malloc_arenas()
    assert calls == [(-8, 2)]  # M_ARENA_MAX
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    cli._limit_malloc_arenas()
    assert calls == [(-8, 2)]


def test_the_rds_cache_forgets_expired_searches_however_many_distinct_ones_were_typed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.rds import directory as directory_module
    from bot.rds.directory import SWEEP_FLOOR, RdsDirectory

    class Gateway:
        region_id = "cn-hangzhou"
        calls = 0

        def call(self, action: str, params, **_kw):  # type: ignore[no-untyped-def]
            Gateway.calls += 1
            return {"Items": {"DBInstance": []}}

    clock = [1000.0]
    monkeypatch.setattr(directory_module.time, "monotonic", lambda: clock[0])
    cache = RdsDirectory(Gateway(), ttl_s=20.0)
    for typed in range(5000):  # one keystroke a second, each a search of its own
        cache.search_instances(f"rm-{typed}")
        clock[0] += 1.0
    assert len(cache._cache) <= max(SWEEP_FLOOR, 2 * 20) + 1  # only what is younger than ttl_s, about
    calls = Gateway.calls
    cache.search_instances("rm-4999")  # still fresh: answered from the cache
    assert Gateway.calls == calls
