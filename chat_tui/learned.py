"""What servers taught chat-tui about their models, and the shape of each request that follows.

A model the model-info table does not know may still reject a parameter (a reasoning model
behind an Azure deployment named "prod", say): its 400 answer names the parameter, the client
leaves it out, asks again once, visibly, and it is remembered here per endpoint and model. The
same for a model that answers on the Responses API only. The app keeps these in the store, so
they survive restarts; `chat-tui ask` keeps them for the run.

A deployment's name says nothing about its model: the model the server reports in its replies
(`ReplyStarted.model`) is remembered too, and the table is consulted with that name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from chat_tui.model_info import EFFORTS, ModelInfo, model_info
from chat_tui.settings import Api, Provider, Settings

if TYPE_CHECKING:
    from collections.abc import Iterable


class Lesson(StrEnum):
    """What kind of thing was learned; the value is what the store keeps."""

    DROP = "drop"  # a parameter the model rejects
    API = "api"  # the API the model answers on
    SERVES = "serves"  # the model a deployment serves, as the server names it


# The Chat Completions codes for a parameter, or a value of one, the model does not take.
_PARAMETER_CODES = ("unsupported_parameter", "unsupported_value")
# How servers say a model is not on Chat Completions: OpenAI ("only supported in v1/responses"),
# Azure ("The chatCompletion operation does not work with the specified model").
_RESPONSES_ONLY = re.compile(
    r"only supported in v1/responses|chatCompletion operation does not work", re.IGNORECASE
)
# The same parameter under each API's name: a model that takes no effort on one takes none on
# the other. A Responses API 400 names a nested parameter by its path, e.g. "reasoning.effort".
_SAME_PARAMETER = {"reasoning_effort": "reasoning.effort", "reasoning.effort": "reasoning_effort"}


@dataclass(frozen=True, slots=True)
class Shape:
    """How the next request is made: which API, for which model, leaving out what."""

    api: Api  # CHAT or RESPONSES, never AUTO
    info: ModelInfo
    dropped: frozenset[str]

    @property
    def reasoning(self) -> bool:
        return self.info.reasoning


@dataclass(frozen=True, slots=True)
class Adaptation:
    """A change made after the server refused a request's shape, and why, in a sentence."""

    lesson: Lesson
    value: str
    note: str


@dataclass
class Learned:
    """Lessons per (endpoint, model): the endpoint as shown (no credentials), the model or
    deployment name as set."""

    lessons: dict[tuple[str, str], dict[Lesson, set[str]]] = field(default_factory=dict)

    @staticmethod
    def key(settings: Settings) -> tuple[str, str]:
        return (settings.where, settings.model)

    def load(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """(endpoint, model, lesson, value) rows, as the store keeps them; unknown ones skipped."""
        for endpoint, model, lesson, value in rows:
            if lesson in Lesson._value2member_map_:
                self.learn((endpoint, model), Lesson(lesson), value)

    def learn(self, key: tuple[str, str], lesson: Lesson, value: str) -> None:
        known = self.lessons.setdefault(key, {}).setdefault(lesson, set())
        if lesson is Lesson.SERVES:
            known.clear()  # a deployment serves one model at a time
        known.add(value)

    def _get(self, settings: Settings, lesson: Lesson) -> set[str]:
        return self.lessons.get(self.key(settings), {}).get(lesson, set())

    def served(self, settings: Settings) -> str:
        """The model behind the settings' model or deployment name, as far as known."""
        return next(iter(self._get(settings, Lesson.SERVES)), settings.model)

    def shape(self, settings: Settings) -> Shape:
        info = model_info(self.served(settings))
        api = settings.api
        if api is Api.AUTO:
            responses = info.responses_only or "responses" in self._get(settings, Lesson.API)
            api = Api.RESPONSES if responses and can_use_responses(settings) else Api.CHAT
        dropped = self._get(settings, Lesson.DROP)
        also = {_SAME_PARAMETER[name] for name in dropped if name in _SAME_PARAMETER}
        return Shape(api, info, frozenset(dropped | also))

    def adapt(
        self, settings: Settings, shape: Shape, sent: dict[str, Any], exc: BaseException
    ) -> Adaptation | None:
        """What to change after `exc` (the server's answer to a request sent with `sent`), and
        remember it; None when asking again would not help."""
        if getattr(exc, "status_code", None) != 400:
            return None
        code = getattr(exc, "code", None)
        param = getattr(exc, "param", None)
        message = str(getattr(exc, "message", "") or exc)
        key = self.key(settings)
        if code in _PARAMETER_CODES and isinstance(param, str) and was_sent(sent, param):
            if param in shape.dropped:
                return None
            self.learn(key, Lesson.DROP, param)
            return Adaptation(
                Lesson.DROP,
                param,
                f"{self.served(settings)} does not take {param}: asking again without it",
            )
        if (
            _RESPONSES_ONLY.search(message)
            and shape.api is Api.CHAT
            and settings.api is Api.AUTO
            and can_use_responses(settings)
        ):
            self.learn(key, Lesson.API, Api.RESPONSES.value)
            return Adaptation(
                Lesson.API,
                Api.RESPONSES.value,
                f"{self.served(settings)} answers on the Responses API only: asking there",
            )
        return None


def was_sent(sent: dict[str, Any], param: str) -> bool:
    """Whether `param` ("temperature", or a path such as "reasoning.effort") is in `sent`."""
    value: Any = sent
    for part in param.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


def can_use_responses(settings: Settings) -> bool:
    """Whether the endpoint has the Responses API: OpenAI, Azure (through its v1 path) and the
    compatible servers that implement it (asked for with api = "responses")."""
    return settings.provider is not Provider.COMPATIBLE or settings.api is Api.RESPONSES


def effort_for(info: ModelInfo, wanted: str | None) -> str | None:
    """The effort to send: the user's, or the nearest the model takes; None sends nothing."""
    if wanted is None or not info.efforts or wanted in info.efforts:
        return wanted
    rank = EFFORTS.index(wanted)
    return min(info.efforts, key=lambda effort: (abs(EFFORTS.index(effort) - rank), effort))
