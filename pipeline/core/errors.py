"""One exception hierarchy for the whole pipeline.

Every error a user can cause carries a message that says what was wrong and what was expected,
so the command line can print it as it is, without a traceback.
"""

from __future__ import annotations


class TartanError(Exception):
    """Base class. `exit_code` is what the command line exits with."""

    exit_code = 1


class DataError(TartanError):
    """The data is wrong: a return, a reference file or an input the user supplied."""

    exit_code = 1


class ConfigError(TartanError):
    """Usage or configuration is wrong: a bad option, an unreadable contract or catalogue."""

    exit_code = 2


class LockedError(ConfigError):
    """Another run holds the output folder."""


class JobFailed(TartanError):
    """A notebook job raised. Carries the failing cell so the summary can name it."""

    def __init__(self, job: str, cell_index: int | None, ename: str, evalue: str):
        self.job = job
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        where = f"cell {cell_index}" if cell_index is not None else "before any cell ran"
        super().__init__(f"{job}: {ename} in {where}: {evalue}")
