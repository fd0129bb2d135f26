"""The stop sentinel: live trades checked against every open position's stops, exits through the order path."""
