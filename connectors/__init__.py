"""Connectors: the SDK, connections, OAuth, health; one package per external system."""
