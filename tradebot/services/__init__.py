"""Local services behind `tradebot up/down/status`: Prefect server, worker, sentinel, dashboard."""
