"""Errors the command line reports as bad input (exit status 2) rather than as a crash."""


class UsageError(Exception):
    """Bad input from the person at the keyboard.

    The message says what is wrong and what is allowed.
    """
