"""Why a mutation changed nothing: problems reported to the client as `UserError`s.

A `Refusal` raised inside a mutation's savepoint undoes its partial writes; the mutation
then answers with its payload carrying the problems (domain rules §2-§4).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class ErrorCode(Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    INVALID_TRANSITION = "INVALID_TRANSITION"


Path = tuple[str, ...]
INPUT: Path = ("input",)


@dataclass(frozen=True, slots=True)
class Problem:
    field: Path | None
    message: str
    code: ErrorCode


class Refusal(Exception):  # noqa: N818 - a refusal is an outcome, not a crash
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = list(problems)


def refuse(code: ErrorCode, message: str, field: Path | None = None) -> Refusal:
    return Refusal([Problem(field, message, code)])


def not_found_message(type_name: str) -> str:
    """The same words for a malformed, unknown, foreign or invisible id (nothing revealed)."""
    return f"No {type_name} with this id."


def not_found(type_name: str, field: Path) -> Refusal:
    return refuse(ErrorCode.NOT_FOUND, not_found_message(type_name), field)


def forbidden(message: str = "The viewer's role does not allow this.") -> Refusal:
    return refuse(ErrorCode.FORBIDDEN, message)


def invalid_transition(message: str, field: Path | None = None) -> Refusal:
    return refuse(ErrorCode.INVALID_TRANSITION, message, field)
