"""The exceptions attune raises. Catch `AttuneError` to catch them all.

Each error says what was wrong in words a user can act on; boundaries (nodes, the CLI) log or print
that message once and carry on or exit, instead of showing a traceback.
"""


class AttuneError(Exception):
    """Base class of every error attune raises on purpose."""


class ImageError(AttuneError):
    """An image message that cannot be converted: bad size, step, data length or encoding."""


class UnsupportedEncodingError(ImageError):
    """An image encoding (or compressed format) that attune does not convert."""


class ImageTooLargeError(ImageError):
    """An image larger than the configured maximum (protects memory and latency)."""


class ModelFileError(AttuneError):
    """A model file that is missing or cannot be loaded."""


class ConfigError(AttuneError):
    """A parameter, configuration file or policy with a wrong value."""


class BagError(AttuneError):
    """A bag that cannot be read or written, or a topic that is not in it."""


class LandmarkError(AttuneError):
    """Landmarks that cannot be used: wrong shape, non-finite values, or a degenerate hand."""
