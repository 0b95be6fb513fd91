"""Claim-map statistics of this study (attndyn.maps.Statistic) and the boundaries the spec predicts."""
from __future__ import annotations

STATISTICS: dict = {}
BOUNDARIES: dict = {}
