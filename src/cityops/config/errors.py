"""What a configuration that does not load says about itself: one issue per problem."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_ISSUES = 100
"""More issues than this are summarised in one last line (a broken file can produce thousands)."""


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem at one place: ``kazanlak.yaml:42:7: cameras[3].fov_deg: <message>``.

    ``line`` and ``column`` count from 1; ``field`` is the path of the value in the file
    (empty for problems of the whole file).
    """

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigError(Exception):
    """A configuration that cannot be loaded; ``issues`` lists its problems in file order."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        ordered = sorted(
            issues, key=lambda i: (i.line is None, i.line or 0, i.column or 0, i.field)
        )
        if len(ordered) > MAX_ISSUES:
            rest = len(ordered) - MAX_ISSUES + 1
            last = ordered[0]
            ordered = [
                *ordered[: MAX_ISSUES - 1],
                ConfigIssue(last.file, None, None, "", f"... and {rest} more problems"),
            ]
        self.issues: list[ConfigIssue] = ordered
        super().__init__("\n".join(str(issue) for issue in ordered))
