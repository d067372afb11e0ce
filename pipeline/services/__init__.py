"""The pipeline's services: one module per layer, plus routes and ingest URLs."""
