"""Named errors: a stage raises one of these and the shared path (`infra.stage`) turns it into
one clear line in the rule's log and a non-zero exit. Anything else is a bug and keeps its
traceback."""


class InputgradError(Exception):
    """A user-facing problem (bad config, data, claim, input); the message names the key,
    file or value."""


class ConfigError(InputgradError, ValueError):
    """A config value or key is invalid; the message names it."""


class DataError(InputgradError, RuntimeError):
    """A dataset file could not be obtained, verified or read; the message names the file."""
