"""The error a command reports in one line to the person at the terminal, instead of a traceback."""


class HamletBoxError(RuntimeError):
    """Something the person can act on (a port in use, a missing font, a failed migration)."""
