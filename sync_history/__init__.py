"""Sync history: the per-message, per-record, per-layer log every pipeline step writes."""
