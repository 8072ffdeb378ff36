"""The one error type of the policy layer: a policy that cannot be loaded.

Every message names the file and, where one exists, the line, so an operator
who broke ``policy.csv`` can go straight to the mistake.
"""

from __future__ import annotations


class PolicyError(ValueError):
    """A model or policy file that cannot be loaded (syntax, meaning or role graph).

    ``path`` is the file as given (``policies/policy.csv``), ``line`` is 1-based
    or ``None`` when the problem has no single line (a missing file, a model
    section). ``problems`` holds every problem found, ``(line, message)``, when
    the loader kept going after the first one; ``str(error)`` names the first.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str,
        line: int | None = None,
        problems: tuple[tuple[int | None, str], ...] = (),
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.problems = problems or ((line, message),)
        where = f"{path}:{line}" if line is not None else path
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        super().__init__(f"{where}: {message}{suffix}")
