"""The sync pipeline: gateway (L1), replica (L2), normalize (L3), outbound (L4), delivery (L5)."""
