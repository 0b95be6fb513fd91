"""Exceptions with one-line messages meant for users."""


class ConfigError(ValueError):
    """A config value is wrong; the message names the key and what is allowed."""


class DataError(ValueError):
    """An input file is missing or corrupt; the message names the file."""
