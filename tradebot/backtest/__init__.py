"""The vectorized backtester: bar files as arrays, strategies and risk as array forms, fills, figures, reports."""
