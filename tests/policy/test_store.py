"""Hot reload: a changed file swaps in a new engine; a broken one keeps the old and says why."""

from __future__ import annotations

import threading

import pytest

from bot.policy import DEFAULT_MODEL_TEXT, PolicyError, PolicyStore, ReloadEvent, compute_version

from .conftest import arn

ALLOW = "p, U0A, rds:CreateBackup, *, allow\n"
DENY = "p, U0A, rds:CreateBackup, *, allow\np, U0A, rds:CreateBackup, *, deny\n"


def test_edit_changes_the_next_decision(policy_dir):
    folder = policy_dir(ALLOW)
    events: list[ReloadEvent] = []
    store = PolicyStore(folder, on_reload=events.append)
    first = store.current()
    assert first.decide("U0A", "rds:CreateBackup", arn()).allowed
    assert store.reload_if_changed() is None  # nothing changed

    (folder / "policy.csv").write_text(DENY, encoding="utf-8")
    event = store.reload_if_changed()
    assert event is not None and event.ok and event.error is None
    assert event.previous_version == first.version and event.version == store.current().version
    assert events == [event]
    decision = store.current().decide("U0A", "rds:CreateBackup", arn())
    assert not decision.allowed and decision.policy_version == event.version
    # the engine a caller already holds is untouched
    assert first.decide("U0A", "rds:CreateBackup", arn()).allowed


def test_broken_file_keeps_old_policy_and_reports_once(policy_dir):
    folder = policy_dir(ALLOW)
    events: list[ReloadEvent] = []
    store = PolicyStore(folder, on_reload=events.append)
    old = store.current()

    (folder / "policy.csv").write_text(ALLOW + "p, U0A, rds:CreateBackup, *, maybe\n",
                                       encoding="utf-8")
    event = store.reload_if_changed()
    assert event is not None and not event.ok
    assert "policy.csv:2" in event.error and "unknown effect" in event.error
    assert event.previous_version == old.version
    assert store.current() is old
    assert store.current().decide("U0A", "rds:CreateBackup", arn()).allowed
    assert store.reload_if_changed() is None  # the same broken content is reported once
    assert len(events) == 1

    (folder / "policy.csv").write_text(DENY, encoding="utf-8")
    fixed = store.reload_if_changed()
    assert fixed is not None and fixed.ok
    assert not store.current().decide("U0A", "rds:CreateBackup", arn()).allowed


def test_deleted_file_keeps_old_policy(policy_dir):
    folder = policy_dir(ALLOW)
    store = PolicyStore(folder)
    old = store.current()
    (folder / "policy.csv").unlink()
    event = store.reload_if_changed()
    assert event is not None and not event.ok and "cannot read" in event.error
    assert store.current() is old
    assert store.reload_if_changed() is None


def test_model_change_reloads_too(policy_dir):
    folder = policy_dir(ALLOW)
    store = PolicyStore(folder)
    model = folder / "model.conf"
    model.write_text(model.read_text(encoding="utf-8").replace("g = _, _", "g = _, _, _"),
                     encoding="utf-8")
    event = store.reload_if_changed()
    assert event is not None and not event.ok and "model.conf" in event.error


def test_same_size_edit_is_noticed(policy_dir):
    folder = policy_dir(ALLOW)
    store = PolicyStore(folder)
    (folder / "policy.csv").write_text(ALLOW.replace("U0A", "U0B"), encoding="utf-8")
    event = store.reload_if_changed()
    assert event is not None and event.ok
    assert store.current().decide("U0B", "rds:CreateBackup", arn()).allowed


def test_first_load_must_succeed(policy_dir):
    with pytest.raises(PolicyError):
        PolicyStore(policy_dir("p, U0A\n"))


def test_failing_listener_does_not_undo_a_reload(policy_dir, caplog):
    folder = policy_dir(ALLOW)

    def explode(event: ReloadEvent) -> None:
        raise RuntimeError("listener bug")

    store = PolicyStore(folder, on_reload=explode)
    (folder / "policy.csv").write_text(DENY, encoding="utf-8")
    event = store.reload_if_changed()
    assert event is not None and event.ok
    assert store.current().version == event.version
    assert "on_reload callback failed" in caplog.text


def test_decisions_during_reloads_see_one_whole_policy(policy_dir):
    """Threads decide while another swaps policies: every answer matches one of the two."""
    folder = policy_dir(ALLOW)
    store = PolicyStore(folder)
    versions = {store.current().version: True}
    errors: list[BaseException] = []
    stop = threading.Event()

    def decide() -> None:
        try:
            while not stop.is_set():
                d = store.current().decide("U0A", "rds:CreateBackup", arn())
                if versions.get(d.policy_version) is not d.allowed:
                    errors.append(AssertionError(f"{d.policy_version} said {d.allowed}"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=decide) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for i in range(20):
            text = DENY if i % 2 == 0 else ALLOW
            versions[compute_version(DEFAULT_MODEL_TEXT, text)] = text == ALLOW
            (folder / "policy.csv").write_text(text, encoding="utf-8")
            store.reload_if_changed()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
