"""Tables of stored analysis results the report and the analyst pages read (migration 8,
docs/DATA_MODEL.md "Drivers")."""

from __future__ import annotations

from ..store.schema import register

VERSION = 8

STATEMENTS = [
    # What drives detractors and lapsing (ordito.voc.drivers), stored by `ordito analyze` so that the report
    # and the analyst pages read it instead of refitting 40 bootstrap models per page view.
    """CREATE TABLE IF NOT EXISTS drivers (
        rank BIGINT NOT NULL, driver VARCHAR NOT NULL, kind VARCHAR NOT NULL, name VARCHAR NOT NULL,
        customers_exposed BIGINT, respondents_exposed BIGINT,
        nps_points_among_exposed DOUBLE, nps_points_among_exposed_lo DOUBLE, nps_points_among_exposed_hi DOUBLE,
        detractor_share_change DOUBLE,
        lapse_probability_change DOUBLE, lapse_probability_change_lo DOUBLE, lapse_probability_change_hi DOUBLE,
        nps_gain_if_removed DOUBLE, nps_gain_if_removed_lo DOUBLE, nps_gain_if_removed_hi DOUBLE,
        revenue_kept_per_year_eur DOUBLE, revenue_kept_per_year_eur_lo DOUBLE,
        revenue_kept_per_year_eur_hi DOUBLE, computed_at TIMESTAMP NOT NULL)""",
]

register(VERSION, STATEMENTS)
