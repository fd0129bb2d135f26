"""Watched positions and per-symbol trigger thresholds, so a tick costs one or two float compares."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from risk.stops import StopLevels, check_exit, ratchet
from tradebot.domain import Direction, Symbol

# Float thresholds are widened by this relative margin so a boundary price always reaches the exact Decimal
# check of risk.stops; the fast path may only ever give a false "maybe", never a false "no".
_SLACK = 1e-9
_TICK_LEGS = ("stop_loss", "trailing_stop", "take_profit")  # time stops belong to the trade cycle, not ticks


@dataclass(slots=True)
class Watched:
    """One open position under watch: its account, signed quantity and protective levels."""

    account: str
    symbol: Symbol
    qty: Decimal  # signed: positive long, negative short
    levels: StopLevels
    exiting: bool = False  # an exit is in flight: never trigger it again

    @property
    def key(self) -> tuple[str, Symbol]:
        """Return (account, symbol), the identity of a position."""
        return self.account, self.symbol


@dataclass(frozen=True, slots=True)
class Hit:
    """A tick crossed a position's stop or target."""

    position: Watched
    price: float
    level: Decimal
    leg: str  # stop_loss | trailing_stop | take_profit
    reason: str
    ts: datetime  # the tick's exchange time


@dataclass(slots=True)
class SymbolBook:
    """Every watched position in one symbol and the band of prices that needs no attention."""

    symbol: Symbol
    positions: list[Watched] = field(default_factory=list)
    lower: float = -math.inf  # a price at or below this may hit a long stop, a short target or a short trail
    upper: float = math.inf  # a price at or above this may hit a long target, a short stop or a long trail

    def refresh(self) -> None:
        """Recompute the band from every position not already exiting."""
        lo, hi = -math.inf, math.inf
        for p in self.positions:
            if p.exiting:
                continue
            lv = p.levels
            if lv.is_long:
                lo = max(lo, float(lv.stop))
                if lv.take_profit is not None:
                    hi = min(hi, float(lv.take_profit))
                if lv.trail_distance is not None:
                    hi = min(hi, float(lv.trail_anchor))  # a new high moves the trail
            else:
                hi = min(hi, float(lv.stop))
                if lv.take_profit is not None:
                    lo = max(lo, float(lv.take_profit))
                if lv.trail_distance is not None:
                    lo = max(lo, float(lv.trail_anchor))  # a new low moves the trail
        self.lower = lo + abs(lo) * _SLACK if math.isfinite(lo) else lo
        self.upper = hi - abs(hi) * _SLACK if math.isfinite(hi) else hi


class LevelBook:
    """Positions by symbol with their bands; the engine's only state."""

    def __init__(self) -> None:
        self.books: dict[Symbol, SymbolBook] = {}
        # symbol -> (lower, upper): the hot path reads this one dict and compares two floats.
        self.bands: dict[str, tuple[float, float]] = {}
        self.dirty: set[tuple[str, Symbol]] = set()  # positions whose levels moved since the last write-back

    def symbols(self) -> set[Symbol]:
        """Return every symbol with at least one watched position."""
        return set(self.books)

    def positions(self) -> Iterable[Watched]:
        """Yield every watched position."""
        for b in self.books.values():
            yield from b.positions

    def get(self, account: str, symbol: str) -> Watched | None:
        """Return the watched position of account in symbol, if any."""
        b = self.books.get(Symbol(symbol))
        return next((p for p in b.positions if p.account == account), None) if b else None

    def replace_all(self, positions: Iterable[Watched]) -> None:
        """Make positions the watched set, keeping exits in flight and levels already ratcheted further here."""
        fresh: dict[Symbol, SymbolBook] = {}
        for p in positions:
            old = self.get(p.account, p.symbol)
            if old is not None and old.levels.direction is p.levels.direction and old.qty == p.qty:
                p.exiting = old.exiting
                kept = _tighter(old.levels, p.levels)
                if kept is not p.levels:
                    self.dirty.add(p.key)  # someone stored looser levels: write ours back again
                p.levels = kept
            fresh.setdefault(p.symbol, SymbolBook(p.symbol)).positions.append(p)
        self.books = fresh
        for b in fresh.values():
            b.refresh()
        # Mutated in place: the engine holds this very dict for its hot path.
        self.bands.clear()
        self.bands.update({s: (b.lower, b.upper) for s, b in fresh.items()})
        self.dirty &= {p.key for p in self.positions()}

    def remove(self, account: str, symbol: str) -> None:
        """Stop watching account's position in symbol (it was closed)."""
        b = self.books.get(Symbol(symbol))
        if b is None:
            return
        b.positions = [p for p in b.positions if p.account != account]
        self.dirty.discard((account, Symbol(symbol)))
        if b.positions:
            self._rebanded(b)
        else:
            del self.books[b.symbol]
            self.bands.pop(b.symbol, None)

    def rearm(self, position: Watched) -> None:
        """Watch a position again after its exit failed for good (so the next crossing retries it)."""
        position.exiting = False
        b = self.books.get(position.symbol)
        if b is not None:
            self._rebanded(b)

    def on_cross(self, symbol: str, price: float, ts: datetime) -> list[Hit]:
        """Handle a price outside symbol's band: return new hits, ratchet trails of the rest (slow path)."""
        b = self.books.get(Symbol(symbol))
        if b is None or not math.isfinite(price) or price <= 0:
            return []
        hits: list[Hit] = []
        for p in b.positions:
            if p.exiting:
                continue
            lv = p.levels
            hit = check_exit(lv, price, price, ts)
            if hit is not None and hit[0] in _TICK_LEGS:
                level = lv.take_profit if hit[0] == "take_profit" and lv.take_profit is not None else lv.stop
                p.exiting = True
                why = hit[1].replace("bar low", "last").replace("bar high", "last")
                hits.append(Hit(p, price, level, hit[0], why, ts))
            elif lv.trail_distance is not None:
                moved = ratchet(lv, price, price, lv.last_bar)
                if moved != lv:
                    p.levels = moved
                    self.dirty.add(p.key)
        self._rebanded(b)
        return hits

    def _rebanded(self, b: SymbolBook) -> None:
        b.refresh()
        self.bands[b.symbol] = (b.lower, b.upper)


def _tighter(here: StopLevels, stored: StopLevels) -> StopLevels:
    """Return the stored levels unless the ones ratcheted here protect more (a trail never loosens)."""
    if here.is_long and here.stop > stored.stop or not here.is_long and here.stop < stored.stop:
        better_anchor = max if here.is_long else min
        return replace(stored, stop=here.stop, trail_anchor=better_anchor(here.trail_anchor, stored.trail_anchor))
    return stored


def direction_of(qty: Decimal) -> Direction:
    """Return LONG for a positive quantity, SHORT for a negative one."""
    return Direction.LONG if qty > 0 else Direction.SHORT
