"""Maintenance tools run from the repository (make targets), not part of the served application."""
