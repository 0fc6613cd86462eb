"""Incidents: durable store, placement, lifecycle and time limits, reports, care checks (being built)."""


def attach_incidents(twin, store) -> None:
    """Attach the live incident service to `twin` (placeholder until the incident store lands)."""
    twin.incidents = None
