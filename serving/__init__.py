"""The serving package: a durable session server for the models the course trains."""

__version__ = "0.1.0"
