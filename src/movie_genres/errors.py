"""The one base class of errors a user can fix: a stage or command shows its message, not a traceback."""


class UserError(Exception):
    """Bad input, a bad param, missing credentials or weights, an unreachable server: the message
    names the key, file or host and says what to do. Other exceptions are bugs and keep their traceback."""


class NumpyEngineUnsupported(UserError, ValueError):
    """A network or model predict's numpy engine does not compute (the tensorflow engine does)."""
