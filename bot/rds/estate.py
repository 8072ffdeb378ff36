"""Every account and region the bot reaches, read as one directory.

:class:`Estate` is the :class:`~bot.rds.directory.RdsDirectory` the workflow holds.
Its reads about one instance go, through :class:`Locator`, to the account and
region that instance lives in: learned from searches and lookups, or, for an
instance not seen yet, asked of every account at once (DescribeDBInstanceAttribute
finds an instance account-wide). With one account and one region nothing is asked.
Searches (the type-ahead pickers) run in every place at once on a small thread
pool, each place's answer cached for :data:`SEARCH_TTL_S`; a place that fails or
is slow is reported (:class:`Search`) and never hides the others. ``at(place)``
is a plain directory of one place: a request's progress is read where it runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from bot.rds.directory import InstanceInfo, Price, RdsDirectory
from bot.rds.errors import RdsError
from bot.rds.gateway import RdsGateway
from bot.rds.places import Accounts, Place
from bot.rds.pool import Gateways
from bot.rds.reads import items
from bot.rds.retry import CallSafety

log = logging.getLogger(__name__)

#: How long one place's search answer is reused (type-ahead asks again on every keystroke).
SEARCH_TTL_S = 20.0
#: How long a search waits for the slowest place; the rest answer the next keystroke from the cache.
SEARCH_BUDGET_S = 1.8
WORKERS = 8
MAX_LOCATIONS = 4096
_LOOKUP = "DescribeDBInstanceAttribute"


@dataclass(frozen=True)
class Unreadable:
    """A place a search could not read: RDS's error, or None when it did not answer in time."""

    place: Place
    error: RdsError | None


@dataclass(frozen=True)
class Search:
    """What a search found in every place it could read, and the places it could not."""

    instances: list[InstanceInfo]
    unreadable: list[Unreadable]


def _named(params: Mapping[str, Any]) -> str:
    """The instance a call is about: DBInstanceId, DescribeHistoryTasks' InstanceId, ListTagResources' first ID."""
    for name in ("DBInstanceId", "InstanceId", "ResourceId"):
        value = params.get(name)
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if value:
            return str(value).split(",")[0]
    return ""


class Locator:
    """The estate-wide directory's gateway: each call goes to the place of the instance it names."""

    def __init__(self, gateways: Gateways, pool: ThreadPoolExecutor) -> None:
        self.gateways = gateways
        self._pool = pool
        self._where: dict[str, Place] = {}
        self._lock = threading.Lock()

    @property
    def region_id(self) -> str:
        return self.gateways.settings.region_id

    def remember(self, instance_id: str, place: Place) -> None:
        with self._lock:
            self._where.pop(instance_id, None)
            while len(self._where) >= MAX_LOCATIONS:
                self._where.pop(next(iter(self._where)))
            self._where[instance_id] = place

    def known(self, instance_id: str) -> Place | None:
        with self._lock:
            return self._where.get(instance_id)

    def call(self, action: str, params: Mapping[str, Any], *, safety: CallSafety = CallSafety.READ) -> dict[str, Any]:
        instance_id = _named(params)
        if not instance_id:
            # Nothing named (DescribePrice): the default account, in the region the call gives.
            place = Place(self.gateways.accounts().default.alias, str(params.get("RegionId") or self.region_id))
            return self.gateways.at(place).call(action, params, safety=safety)
        place = self.known(instance_id)
        if place is None:
            place, answer = self.locate(instance_id)
            if answer is not None and action == _LOOKUP:
                return answer  # the lookup that found it is the answer asked for
        return self.gateways.at(place).call(action, params, safety=safety)

    def locate(self, instance_id: str) -> tuple[Place, dict[str, Any] | None]:
        """Where ``instance_id`` lives, and the lookup answer that said so (None when nothing was asked)."""
        accounts = self.gateways.accounts()
        places = self.gateways.places()
        if len(accounts.entries) == 1 and len({p.region for p in places}) <= 1:
            return (places[0] if places else self.gateways.default_place()), None
        asks = [(a.alias, self._pool.submit(self._lookup, a.alias, (a.regions or self.gateways.settings.regions)[0],
                                            instance_id)) for a in accounts.entries]
        errors: list[RdsError] = []
        for alias, future in asks:
            try:
                body = future.result()
            except RdsError as error:
                errors.append(error)
                continue
            found = items(body, "Items", "DBInstanceAttribute")
            if found:
                place = Place(alias, str(found[0].get("RegionId") or "") or self.region_id)
                self.remember(instance_id, place)
                return place, body
        # Not found anywhere: an account that could not answer is the likelier story than "no such instance".
        unsure = [e for e in errors if not e.code.endswith("NotFound")]
        raise (unsure or errors or [RdsError("InvalidDBInstance.NotFound", f"{instance_id} was not found",
                                             status=404)])[0]

    def _lookup(self, alias: str, region: str, instance_id: str) -> dict[str, Any]:
        return self.gateways.at(Place(alias, region)).call(_LOOKUP, {"DBInstanceId": instance_id})


class Estate(RdsDirectory):
    """The :class:`RdsDirectory` over every place: reads routed by instance, searches in every place."""

    def __init__(self, gateways: Gateways, *, ttl_s: float = 30.0, search_ttl_s: float = SEARCH_TTL_S,
                 search_budget_s: float = SEARCH_BUDGET_S) -> None:
        self.gateways = gateways
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="rds-estate")
        self.locator = Locator(gateways, self._pool)
        super().__init__(self.locator, ttl_s=ttl_s)
        self.search_ttl_s = search_ttl_s
        self.search_budget_s = search_budget_s
        self._places: dict[Place, RdsDirectory] = {}
        self._places_lock = threading.Lock()

    # -- places -----------------------------------------------------------

    def accounts(self) -> Accounts:
        return self.gateways.accounts()

    def at(self, place: Place) -> RdsDirectory:
        """A directory of one place (its own cache): a request's reads where it runs."""
        with self._places_lock:
            found = self._places.get(place)
            if found is None:
                found = self._places[place] = RdsDirectory(_PlaceGateway(self.gateways, place),
                                                           ttl_s=self.search_ttl_s)
            return found

    def gateway_at(self, place: Place) -> RdsGateway:
        return self.gateways.at(place)

    def place_of(self, instance: InstanceInfo | str) -> Place:
        """Where an instance lives (looked for when not known yet; raises RdsError)."""
        placed = isinstance(instance, InstanceInfo) and (instance.account or not self.accounts().named)
        if isinstance(instance, InstanceInfo) and instance.region_id and placed:
            return Place(instance.account, instance.region_id)
        instance_id = instance.id if isinstance(instance, InstanceInfo) else instance
        return self.locator.known(instance_id) or self.locator.locate(instance_id)[0]

    def _placed(self, info: InstanceInfo, place: Place | None = None) -> InstanceInfo:
        """``info`` with its account and region, remembered for the reads that follow."""
        place = place or self.locator.known(info.id) or self.gateways.default_place()
        where = Place(place.account, info.region_id or place.region)
        self.locator.remember(info.id, where)
        return info.model_copy(update={"account": where.account, "region_id": where.region})

    # -- reads ------------------------------------------------------------

    def instance(self, instance_id: str, *, region: str | None = None, fresh: bool = False) -> InstanceInfo:
        return self._placed(super().instance(instance_id, region=region, fresh=fresh))

    def search_instances(self, query: str = "", *, engine: str | None = None, limit: int = 100) -> list[InstanceInfo]:
        return self.search(query, engine=engine, limit=limit).instances

    def search(self, query: str = "", *, engine: str | None = None, limit: int = 100,
               regions: Collection[str] | None = None, account: str | None = None) -> Search:
        """Instances matching ``query`` in every place, at once; or only in ``account``'s places, or only
        in ``regions``. Both given: exactly those regions of that account, searched or not by default
        (a restore target may be in any region its backup set restores to)."""
        if regions is not None and account is not None:
            places = [Place(account, region) for region in regions]
        else:
            places = [p for p in self.gateways.places()
                      if (regions is None or p.region in regions) and (account is None or p.account == account)]
        futures: dict[Future[list[InstanceInfo]], Place] = {
            self._pool.submit(self._search_at, place, query, engine, limit): place for place in places}
        done, _late = wait(futures, timeout=self.search_budget_s)
        found: list[InstanceInfo] = []
        unreadable: list[Unreadable] = []
        seen: set[str] = set()
        for future, place in futures.items():
            if future not in done:
                unreadable.append(Unreadable(place, None))  # still running: it fills the cache for the next keystroke
                continue
            try:
                answer = future.result()
            except RdsError as error:
                unreadable.append(Unreadable(place, error))
                continue
            except Exception:  # noqa: BLE001 - one place's failure must not hide the others
                log.exception("search failed", extra={"place": place.label()})
                unreadable.append(Unreadable(place, None))
                continue
            for info in answer:
                if info.id not in seen:
                    seen.add(info.id)
                    found.append(info)
        return Search(found[:limit], unreadable)

    def _search_at(self, place: Place, query: str, engine: str | None, limit: int) -> list[InstanceInfo]:
        return [self._placed(i, place) for i in self.at(place).search_instances(query, engine=engine, limit=limit)]

    def clone_price(self, source: InstanceInfo, params: Mapping[str, Any]) -> Price:
        return self.at(self.place_of(source)).clone_price(source, params)

    def close(self) -> None:
        """Stop the search threads (searches still running are abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def forget(self, instance_id: str) -> None:
        super().forget(instance_id)
        with self._places_lock:
            places = list(self._places.values())
        for directory in places:
            directory.forget(instance_id)


class _PlaceGateway:
    """One place's gateway, looked up on every call (accounts.toml may change under a long-lived directory)."""

    def __init__(self, gateways: Gateways, place: Place) -> None:
        self.gateways = gateways
        self.place = place
        self.region_id = place.region

    def call(self, action: str, params: Mapping[str, Any], *, safety: CallSafety = CallSafety.READ) -> dict[str, Any]:
        return self.gateways.at(self.place).call(action, params, safety=safety)
