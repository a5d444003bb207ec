"""The parser's error, in a module of its own: the poller and the worker pool catch it
without loading the parsers (they load in the worker processes)."""


class ParseError(Exception):
    """The bytes are not a feed we can read; the message says why."""
