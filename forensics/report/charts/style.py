"""How the dashboard's charts look and how much they draw: lanes, colours and limits."""

from __future__ import annotations

import datetime as dt

LANES = ["configuration", "service events", "NDRs", "outbound sessions", "inbound sessions"]
# The sessions' categories on the timeline, in legend order: an inbound session with
# a recipient accepted for a domain that is not local is "relayed", whatever it
# delivered; the others keep the session's outcome.
OUTCOME_COLOURS = {
    "relayed": "#1565c0",
    "delivered": "#2e7d32",
    "partial": "#f9a825",
    "refused": "#c62828",
    "failed": "#ef6c00",
    "incomplete": "#6a1b9a",
    "no_mail": "#9e9e9e",
}
OUTCOME_NAMES = {
    "relayed": "relayed to outside domains",
    "delivered": "delivered (healthy)",
    "partial": "partly refused",
    "refused": "refused",
    "failed": "failed",
    "incomplete": "incomplete",
    "no_mail": "no mail",
}
SEVERITY_COLOURS = {
    "critical": "#b71c1c",
    "high": "#e65100",
    "medium": "#f9a825",
    "low": "#1565c0",
    "info": "#607d8b",
}
EVENT_COLOURS = {"Error": "#c62828", "Warning": "#ef6c00"}
OTHER_COLOUR = "#78909c"  # an event type or a severity without a colour of its own
CHANGE_COLOUR = "#37474f"
MAX_POINTS = 4000  # markers per lane before the timeline is binned
MAX_VLINES = 25  # change lines; more would hide the data
LABEL_GAP = dt.timedelta(minutes=45)  # a change this close to a labelled one gets no label
WEBGL_FROM = 1500  # points per trace from which WebGL draws them
MIN_SPAN = dt.timedelta(hours=1)  # the narrowest time window the timeline opens on
TOP = 15  # rows of the bar charts and the relay matrix
