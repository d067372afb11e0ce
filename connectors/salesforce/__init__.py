"""The salesforce connector."""
