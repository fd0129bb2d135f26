"""Scrape the worker's and the sentinel's Prometheus endpoints and pick out the figures worth a glance."""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from prometheus_client.parser import text_string_to_metric_families

# Families shown on the Health page (tradebot/metrics.py and tradebot/metrics_ledger.py name them).
WATCHED = (
    "tradebot_equity_dollars", "tradebot_ledger_equity_dollars", "tradebot_daily_pnl_dollars",
    "tradebot_ledger_daily_pnl_dollars", "tradebot_orders", "tradebot_ledger_orders", "tradebot_fills",
    "tradebot_ledger_fills", "tradebot_feed_staleness_seconds", "tradebot_errors", "tradebot_alerts_sent",
    "tradebot_ledger_alerts", "tradebot_ledger_up", "tradebot_prefect_api_up", "tradebot_flow_runs",
    "tradebot_last_flow_success_timestamp_seconds", "tradebot_ledger_open_positions",
)


@dataclass
class Scrape:
    """One endpoint's outcome: the samples of watched families, or the error that stopped the scrape."""

    url: str
    ok: bool
    error: str = ""
    samples: list[dict[str, object]] = field(default_factory=list)


def scrape(url: str, timeout: float = 2.0) -> Scrape:
    """Fetch url and parse its Prometheus text; never raise (an unreachable endpoint is a result)."""
    try:
        resp = requests.get(url, timeout=timeout)
        resp.raise_for_status()
        families = list(text_string_to_metric_families(resp.text))
    except requests.RequestException as exc:
        return Scrape(url, False, f"unreachable: {type(exc).__name__}")
    except ValueError as exc:
        return Scrape(url, False, f"not Prometheus text: {exc}")
    out = []
    for fam in families:
        if fam.name not in WATCHED:
            continue
        for smp in fam.samples:
            if smp.name.endswith("_created"):
                continue
            labels = ", ".join(f"{k}={v}" for k, v in sorted(smp.labels.items()))
            out.append({"metric": smp.name, "labels": labels, "value": float(smp.value)})
    return Scrape(url, True, samples=out)
