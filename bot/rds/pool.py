"""One gateway per (account, region), built when first needed and kept.

The accounts come from a callable (``accounts.toml`` may be edited while the bot
runs): a gateway is kept per account *as configured*, so a changed entry gets a
new gateway with its new credentials, and an alias that is gone is an error that
names it. ``RDSBOT_RDS_ENDPOINT`` (the emulator in tests) serves every region;
without it each region's gateway reaches that region's endpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.config import Settings
from bot.rds.errors import ErrorKind, RdsError
from bot.rds.gateway import RdsGateway, SdkGateway
from bot.rds.places import Account, Accounts, Place

#: Gateways kept at once; the oldest are dropped first (an account edited many times).
MAX_GATEWAYS = 256


class Gateways:
    """The gateway of each :class:`Place`; ``fixed`` (tests, scripts) answers for every place."""

    def __init__(self, settings: Settings, accounts: Callable[[], Accounts] | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, fixed: RdsGateway | None = None) -> None:
        self.settings = settings
        self._accounts = accounts or (lambda: Accounts.single(settings))
        self._sleep = sleep
        self._fixed = fixed
        self._built: dict[tuple[Account, str], RdsGateway] = {}
        self._lock = threading.Lock()

    def accounts(self) -> Accounts:
        return self._accounts()

    def places(self) -> list[Place]:
        """Where the pickers search: every account's regions (RDSBOT_REGIONS unless it names its own)."""
        return self.accounts().places(self.settings.regions)

    def default_place(self) -> Place:
        return Place(self.accounts().default.alias, self.settings.region_id)

    def account(self, alias: str) -> Account:
        """The account of ``alias`` (``""``: the default one, for requests made before accounts.toml);
        raises RdsError when accounts.toml no longer has it."""
        accounts = self.accounts()
        found = accounts.get(alias) or (accounts.default if not alias else None)
        if found is None:
            raise RdsError("AccountUnknown", f"the account {alias or '(default)'} is not in accounts.toml any more",
                           ErrorKind.AUTH)
        return found

    def at(self, place: Place) -> RdsGateway:
        """The gateway for reads (and calls without a session) in ``place``."""
        if self._fixed is not None:
            return self._fixed
        accounts = self.accounts()
        account = self.account(place.account)
        region = place.region or self.settings.region_id
        key = (account, region)
        with self._lock:
            gateway = self._built.get(key)
            if gateway is None:
                gateway = self._build(accounts, account, region)
                while len(self._built) >= MAX_GATEWAYS:
                    self._built.pop(next(iter(self._built)))
                self._built[key] = gateway
        return gateway

    def _build(self, accounts: Accounts, account: Account, region: str) -> RdsGateway:
        if account.assumes_role_for_reads:
            from bot.rds.sts import RoleReads

            return RoleReads(self.settings, account, region, sleep=self._sleep)
        if not accounts.named:
            # The deployment's one account: exactly the gateway the bot always had (its own key,
            # RDSBOT_RAM_ROLE_ARN for per-request sessions), in this region.
            return SdkGateway(self.settings, sleep=self._sleep, region_id=region)
        return SdkGateway(self.settings, sleep=self._sleep, region_id=region, account=account,
                          role_arn=accounts.session_role(account, self.settings))

    def for_request(self, place: Place, request_id: str, requester: str, action: str,
                    resources: list[str]) -> RdsGateway:
        """The gateway of one request's mutating call in ``place``: a session of the account's role
        when it has one (allowing ``action`` on ``resources`` only), else the place's gateway."""
        gateway = self.at(place)
        session: Callable[..., RdsGateway] | None = getattr(gateway, "for_request", None)
        return session(request_id, requester, action, resources) if session is not None else gateway

    def warm(self) -> None:
        """Build the default place's SDK client now (the first import costs about two seconds)."""
        warm = getattr(self.at(self.default_place()), "warm", None)
        if warm is not None:
            warm()
