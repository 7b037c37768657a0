"""The ``chatlens`` command: talks to a Chatlens stack over its public API, and runs one locally."""
