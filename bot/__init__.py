"""Collaborative Capacity Advisor: a guided chat advisor for public-service collaboration."""

__version__ = "0.1.0"
