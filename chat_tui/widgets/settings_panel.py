"""The sidebar: the system prompt and the deployment settings, editable while chatting.

Each field is checked as the user types; a valid value applies at once (the next request uses it),
an invalid one shows why under the field and is not applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Select, Static, TextArea

from chat_tui.settings import (
    Provider,
    Settings,
    SettingsError,
    parse_endpoint,
    parse_max_tokens,
    parse_temperature,
)
from chat_tui.text import visible

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import ComposeResult


def _text(value: str) -> str:
    return value.strip()


def _number_text(value: float | int | None) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One editable setting: the Settings attribute, its label and how to parse it."""

    name: str
    label: str
    parse: Callable[[str], object] = _text
    placeholder: str = ""
    password: bool = False
    to_text: Callable[[object], str] = str


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("endpoint", "Endpoint", parse_endpoint),  # placeholder follows the provider
    FieldSpec("model", "Deployment", placeholder="deployment or model name"),
    FieldSpec("api_version", "API version", placeholder="e.g. 2024-10-21"),
    FieldSpec("api_key", "API key", placeholder="not set", password=True),
    FieldSpec(
        "temperature", "Temperature", parse_temperature, "server default", False, _number_text
    ),
    FieldSpec("max_tokens", "Max tokens", parse_max_tokens, "no limit", False, _number_text),
)


class SettingsPanel(VerticalScroll):
    """Shows `settings`; posts SettingsChanged / SystemPromptChanged as the user edits."""

    class SettingsChanged(Message):
        def __init__(self, settings: Settings) -> None:
            super().__init__()
            self.settings = settings

    class SystemPromptChanged(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, settings: Settings, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.settings = settings

    def compose(self) -> ComposeResult:
        settings = self.settings
        yield Label("System prompt", classes="section")
        yield TextArea(
            settings.system_prompt, id="system-prompt", soft_wrap=True, tab_behavior="focus"
        )
        yield Label("Connection", classes="section")
        yield Select(
            [(provider.label, provider) for provider in Provider],
            value=settings.provider,
            allow_blank=False,
            compact=True,
            id="provider",
        )
        for spec in FIELDS:
            yield Label(spec.label, id=f"{spec.name}-label", classes="field-label")
            yield Input(
                spec.to_text(getattr(settings, spec.name)),
                placeholder=spec.placeholder,
                password=spec.password,
                id=spec.name,
            )
            yield Static(id=f"{spec.name}-error", classes="field-error")
        yield Static(id="connection-status")

    def on_mount(self) -> None:
        self._show_provider(self.settings.provider)
        self._show_status()

    def _apply(self, **changes: object) -> None:
        updated = self.settings.with_changes(**changes)
        if updated != self.settings:
            self.settings = updated
            self._show_status()
            self.post_message(self.SettingsChanged(updated))

    @on(TextArea.Changed, "#system-prompt")
    def _system_prompt_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.post_message(self.SystemPromptChanged(event.text_area.text))

    @on(Select.Changed, "#provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, Provider):
            self._show_provider(event.value)
            self._apply(provider=event.value)

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        spec = next((s for s in FIELDS if s.name == event.input.id), None)
        if spec is None:
            return
        event.stop()
        error = self.query_one(f"#{spec.name}-error", Static)
        try:
            value = spec.parse(event.value)
        except SettingsError as exc:
            event.input.add_class("-invalid")
            error.update(Content(visible(str(exc))))
            error.display = True
            return
        event.input.remove_class("-invalid")
        error.display = False
        self._apply(**{spec.name: value})

    def _show_provider(self, provider: Provider) -> None:
        self.query_one("#model-label", Label).update(provider.model_label)
        azure_only = provider is Provider.AZURE
        for widget_id in ("#api_version-label", "#api_version"):
            self.query_one(widget_id).display = azure_only
        self.query_one("#endpoint", Input).placeholder = _ENDPOINT_PLACEHOLDERS[provider]

    def _show_status(self) -> None:
        status = self.query_one("#connection-status", Static)
        problems = self.settings.problems()
        status.set_class(bool(problems), "-problem")
        if problems:
            status.update(Content("\n".join(visible(p) for p in problems)))
        else:
            status.update(Content(f"Ready: {visible(self.settings.target)}"))


_ENDPOINT_PLACEHOLDERS = {
    Provider.AZURE: "https://<resource>.openai.azure.com",
    Provider.AZURE_V1: "https://<resource>.openai.azure.com/openai/v1",
    Provider.OPENAI: "https://api.openai.com/v1 (default)",
    Provider.COMPATIBLE: "http://localhost:11434/v1",
}
