"""The revenova connector."""
