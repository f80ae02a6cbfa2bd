"""The store's interface, in domain terms. A backend that misses a method fails at construction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import shapely

from store.models import (
    ApiKey,
    Campaign,
    CampaignEvent,
    Case,
    CaseFacts,
    ChronicPlace,
    Delivery,
    Event,
    Feature,
    LayerVersion,
    Media,
    NewCampaign,
    NewCase,
    OpenRequest,
    Owners,
    User,
)

# one change to one case: (case id, the version the actor saw, the changes, the action, the reason)
Step = tuple[int, int, dict[str, Any], str, str]

BBox = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


class Store(ABC):
    """Persistence for users, cases and their append-only event log."""

    url: str

    # -- schema ------------------------------------------------------------------------------------
    @abstractmethod
    def check_schema(self) -> None:
        """Raise SchemaOutOfDate unless the database is at the code's migration head."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    # -- users -------------------------------------------------------------------------------------
    @abstractmethod
    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        districts: Sequence[str] = (),
        display_name: str = "",
        unit: str | None = None,
    ) -> User:
        """Create an account (password hashed with argon2); Conflict if the name is taken."""

    @abstractmethod
    def update_user(
        self,
        username: str,
        *,
        password: str | None = None,
        role: str | None = None,
        districts: Sequence[str] | None = None,
        active: bool | None = None,
        unit: str | None = None,
    ) -> User:
        """Change an account's password, role, district scope, unit ("" clears it) or whether it may sign in,
        and end its sessions; NotFound if absent."""

    @abstractmethod
    def get_user(self, username: str) -> User:
        """One account; NotFound if absent."""

    @abstractmethod
    def list_users(self) -> list[User]:
        """All accounts, by name."""

    @abstractmethod
    def authenticate(self, username: str, password: str) -> User:
        """The account if the password is right; Forbidden otherwise (without saying which part was wrong)."""

    # -- sessions and the sign-in throttle -----------------------------------------------------------
    @abstractmethod
    def start_session(self, username: str, at: datetime) -> str:
        """A new session for an account; returns its token (only the token's hash is stored)."""

    @abstractmethod
    def session_user(
        self, token: str, at: datetime, idle: timedelta, lifetime: timedelta, touch_every: timedelta
    ) -> User | None:
        """The active account of a live session (None if unknown, idle too long, too old or disabled); marks the
        session as seen when it was last seen more than `touch_every` ago."""

    @abstractmethod
    def end_session(self, token: str) -> None:
        """End one session (sign-out)."""

    @abstractmethod
    def end_sessions(self, username: str) -> int:
        """End every session of an account; returns how many."""

    @abstractmethod
    def prune_sessions(self, before: datetime) -> int:
        """Forget sessions last seen before a time; returns how many."""

    @abstractmethod
    def count_attempts(self, keys: Sequence[str], window: timedelta, at: datetime) -> list[int]:
        """Count one more sign-in attempt under each key (per fixed window); the counts, this one included.
        Atomic: concurrent attempts each see a distinct count."""

    @abstractmethod
    def forgive_attempts(self, reset: Sequence[str], decrement: Sequence[str]) -> None:
        """After a successful sign-in: forget the counts under `reset`, take one off those under `decrement`."""

    # -- cases -------------------------------------------------------------------------------------
    @abstractmethod
    def create_case(
        self,
        new: NewCase,
        owners: Owners,
        state: str,
        actor: str,
        at: datetime,
        photos: Sequence[Media] = (),
        request: OpenRequest | None = None,
    ) -> Case:
        """Store a new case with its ownership answer, a 'report' event, its photos' rows and (from Open311) the
        request's private record, in one transaction."""

    @abstractmethod
    def insert_history(
        self, history: Sequence[tuple[Case, Sequence[Event]]], photos: Sequence[Sequence[Media]] = ()
    ) -> int:
        """Store cases with their event logs (and `photos[k]`, the photo rows of `history[k]`) in one transaction;
        ids, and numbers where case_no is "", assigned."""

    @abstractmethod
    def insert_history_batches(self, batches: Iterable[Sequence[tuple[Case, Sequence[Event]]]]) -> int:
        """insert_history for batches made one at a time while they are stored (memory stays bounded), all in one
        transaction: if making or storing any batch fails, nothing is stored."""

    @abstractmethod
    def get_case(self, case_id: int) -> Case:
        """One case; NotFound if absent."""

    @abstractmethod
    def update_case(
        self,
        case_id: int,
        expected_version: int,
        changes: dict[str, Any],
        actor: str,
        action: str,
        reason: str,
        at: datetime,
    ) -> Case:
        """Apply changes if the case is still at expected_version (else Conflict naming who changed it, when)."""

    @abstractmethod
    def update_many(self, steps: Sequence[Step], actor: str, at: datetime, photos: Sequence[Media] = ()) -> list[Case]:
        """Apply changes to several cases (each at the version the actor saw, else Conflict) and store photo rows,
        all in one transaction: all or nothing. The cases after, in the order of `steps`."""

    @abstractmethod
    def reassign_many(self, changes: dict[int, dict[str, Any]], actor: str, reason: str, at: datetime) -> int:
        """Apply ownership changes to many cases in one transaction, with one event each; returns the count."""

    @abstractmethod
    def cases(
        self,
        states: Sequence[str] | None = None,
        districts: Sequence[str] | None = None,
        limit: int | None = None,
        active_since: datetime | None = None,
    ) -> list[Case]:
        """Cases, newest first, optionally by state, district, and open or active since a time
        (store.models.active_since)."""

    @abstractmethod
    def reported_matters(self, reporter: str, limit: int = 8) -> list[str]:
        """The matter codes of an account's latest reports, newest first, each once."""

    @abstractmethod
    def cases_in_bbox(self, bbox: BBox, states: Sequence[str] | None = None) -> list[Case]:
        """Cases whose point lies in a lon/lat box (edges included)."""

    @abstractmethod
    def cases_in_polygon(self, polygon: shapely.Geometry, states: Sequence[str] | None = None) -> list[Case]:
        """Cases whose point lies in a lon/lat polygon (boundary included)."""

    @abstractmethod
    def events(self, case_id: int) -> list[Event]:
        """A case's audit log, oldest first."""

    @abstractmethod
    def events_of(self, active_since: datetime | None = None, districts: Sequence[str] | None = None) -> list[Event]:
        """The event logs of the cases `case_facts(active_since, districts=…)` gives, in one query: by case, then
        oldest first (what the evaluation replays)."""

    @abstractmethod
    def case_facts(
        self,
        active_since: datetime | None = None,
        changed_after: int | None = None,
        districts: Sequence[str] | None = None,
    ) -> list[CaseFacts]:
        """Light records of cases that are open, or were reported or closed since `active_since` (all if None);
        with `changed_after`, only cases changed after that revision; with `districts`, only theirs."""

    @abstractmethod
    def count_by_state(self) -> dict[str, int]:
        """How many cases are in each state."""

    @abstractmethod
    def revision(self) -> int:
        """A number that grows with every change to cases (the newest event's id): cheap to poll. Events commit
        in id order, so every change up to the revision read is visible: following it skips none."""

    # -- photos, patrol cells, webhook outbox ----------------------------------------------------------
    @abstractmethod
    def add_media(self, items: Sequence[Media]) -> list[Media]:
        """Store photo rows (once per case, stage and file); the cases' photos after."""

    @abstractmethod
    def media_of(self, case_ids: Sequence[int]) -> list[Media]:
        """The photos of some cases, oldest first."""

    @abstractmethod
    def media_by_hash(self, sha256: str) -> list[Media]:
        """Every row of one file (the cases it belongs to)."""

    @abstractmethod
    def set_patrol_cells(self, username: str, cells: Sequence[str]) -> list[str]:
        """Replace the cells an inspector patrols; NotFound if the account is absent."""

    @abstractmethod
    def patrol_cells(self, username: str) -> list[str]:
        """The cells an inspector patrols."""

    @abstractmethod
    def inspectors_of(self, cells: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """For each cell some active inspector patrols: who."""

    @abstractmethod
    def enqueue_delivery(self, kind: str, payload: dict[str, Any], at: datetime) -> int:
        """Put a webhook message in the outbox; its id."""

    @abstractmethod
    def due_deliveries(self, at: datetime, limit: int = 50) -> list[Delivery]:
        """Messages to send now, oldest first."""

    @abstractmethod
    def record_attempt(
        self, delivery_id: int, at: datetime, error: str = "", next_at: datetime | None = None, give_up: bool = False
    ) -> None:
        """Record one attempt at a delivery (no error: delivered)."""

    @abstractmethod
    def deliveries(self, failed: bool | None = None, limit: int = 200) -> list[Delivery]:
        """The newest messages of the outbox (failed=True: those given up)."""

    # -- Open311 clients and requests ------------------------------------------------------------------
    @abstractmethod
    def add_api_key(self, name: str, channel: str, key_hash: str, rate_per_minute: int, at: datetime) -> ApiKey:
        """Store a new client key by its sha256; Conflict if the name is taken."""

    @abstractmethod
    def api_key(self, name: str) -> ApiKey:
        """One key by name; NotFound if there is none."""

    @abstractmethod
    def api_keys(self) -> list[ApiKey]:
        """Every key, oldest first (revoked ones too)."""

    @abstractmethod
    def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key whose sha256 this is (revoked or not), if any."""

    @abstractmethod
    def revoke_api_key(self, name: str, at: datetime) -> ApiKey:
        """Revoke a key from `at` on; NotFound if there is none."""

    @abstractmethod
    def count_api_post(self, key_name: str, window: timedelta, at: datetime) -> int:
        """Count one POST of a key in its fixed window; the count in this window so far. Atomic."""

    @abstractmethod
    def log_api_call(self, at: datetime, key_name: str, method: str, path: str, status: int) -> None:
        """Append a call made with a key to the log."""

    @abstractmethod
    def api_calls_since(self, since: datetime) -> dict[str, int]:
        """Calls per key name since a time."""

    @abstractmethod
    def open_requests(self, case_ids: Sequence[int]) -> dict[int, OpenRequest]:
        """The private records of the cases among these that came in through Open311."""

    @abstractmethod
    def cases_by_number(self, case_nos: Sequence[str]) -> list[Case]:
        """The cases with these numbers (unknown numbers are left out), newest first."""

    @abstractmethod
    def cases_reported(
        self,
        start: datetime,
        end: datetime,
        matters: Sequence[str] | None = None,
        states: Sequence[str] | None = None,
        limit: int = 1000,
    ) -> list[Case]:
        """Cases reported in [start, end], of some matters and states (None: any), newest first, at most `limit`."""

    # -- chronic places --------------------------------------------------------------------------------
    @abstractmethod
    def add_chronic_place(self, place: ChronicPlace) -> ChronicPlace:
        """Store a new chronic place (its id assigned)."""

    @abstractmethod
    def get_chronic_place(self, place_id: int) -> ChronicPlace:
        """One chronic place; NotFound if absent."""

    @abstractmethod
    def chronic_places(
        self, states: Sequence[str] | None = None, districts: Sequence[str] | None = None
    ) -> list[ChronicPlace]:
        """Chronic places, newest recurrence first, optionally by state and district."""

    @abstractmethod
    def update_chronic_place(self, place_id: int, changes: dict[str, Any], at: datetime) -> ChronicPlace:
        """Change a chronic place's fast-track case, repeats, last report, state or position."""

    # -- campaigns (周期集群仗) ---------------------------------------------------------------------------
    @abstractmethod
    def add_campaign(self, new: NewCampaign, actor: str, at: datetime) -> Campaign:
        """Store a new campaign (its id assigned) and its "create" event; Conflict if the name is taken."""

    @abstractmethod
    def get_campaign(self, campaign_id: int) -> Campaign:
        """One campaign; NotFound if absent."""

    @abstractmethod
    def campaigns(self, districts: Sequence[str] | None = None) -> list[Campaign]:
        """Campaigns, latest start first; with `districts`, those whose area touches one of them."""

    @abstractmethod
    def update_campaign(
        self, campaign_id: int, changes: dict[str, Any], version: int, actor: str, at: datetime
    ) -> Campaign:
        """Change a campaign if it is still at `version` (Conflict otherwise), recording the values before."""

    @abstractmethod
    def campaign_events(self, campaign_id: int) -> list[CampaignEvent]:
        """A campaign's history, oldest first."""

    # -- layers ------------------------------------------------------------------------------------
    @abstractmethod
    def add_layer_version(
        self,
        layer: str,
        features: Sequence[Feature],
        source: str,
        sha256: str,
        effective_from: datetime,
        actor: str,
        reassign: dict[int, dict[str, Any]],
        at: datetime,
    ) -> LayerVersion:
        """Store a new version of a layer and re-own the given cases, all in one transaction."""

    @abstractmethod
    def layer_versions(self, layer: str | None = None) -> list[LayerVersion]:
        """Versions, oldest first."""

    @abstractmethod
    def layer_features(self, version_id: int) -> list[Feature]:
        """The features of one version."""
