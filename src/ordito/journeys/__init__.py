"""Journeys: episodes, friction, KPIs and journey maps."""
