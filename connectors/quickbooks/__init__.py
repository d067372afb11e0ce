"""The quickbooks connector."""
