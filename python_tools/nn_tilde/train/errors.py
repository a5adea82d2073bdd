"""The error of a bad training configuration, in a module of its own so that the config sections
(sections.py), the registry and the loader (config.py) raise it without importing one another."""


class ConfigError(Exception):
    """A bad config file or override; the message names the fix."""
