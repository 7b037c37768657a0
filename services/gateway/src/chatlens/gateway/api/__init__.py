"""The gateway's HTTP API, one blueprint per resource."""
