"""Exception hierarchy: every error a user can cause derives from :class:`TinyQatError`.

The CLI prints ``str(exc)`` as one line and exits with status 2 for these; anything else
is a bug and keeps its traceback.
"""


class TinyQatError(Exception):
    """Base class of user-facing errors (message is one line: what is wrong, what to do)."""


class UnsupportedOpError(TinyQatError):
    """The model uses an op tinyqat cannot quantize or lower (message names module, op, why)."""


class LoweringError(TinyQatError):
    """The trained model cannot be lowered to exact int8 (bad numerics, shapes), with the layer."""


class DoesNotFitError(TinyQatError):
    """The model exceeds the board's flash or RAM (message gives the overshoot)."""


class ToolchainError(TinyQatError):
    """A compiler or emulator is missing or failed (message says which package installs it)."""


class ExportError(TinyQatError):
    """The integer graph has no exact form in the export format (message names the layer and why)."""


class VerificationError(TinyQatError):
    """Generated C and simulator disagree (message names the first diverging layer)."""
