"""The sidebar: the system prompt, the connection profile and the deployment settings.

Each field is checked as the user types, and applies once the user is done with it: Enter, or
the focus leaving the field (a test, a save or a retry asked for meanwhile takes it too). Until
then what is typed is on its way (an emptied field, "0." on the way to "0.9", half an endpoint)
and the settings in use are unchanged; an invalid text is never applied. Either way the note
under the field says so, and what is still in use. Messages go up to the app (changes, profile
choice, test, save); the app calls `show*` methods to put values down.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual import events, on
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from chat_tui.model_info import context_window, efforts_for, model_info
from chat_tui.settings import (
    DEFAULT_ENTRA_SCOPE,
    VALUE_PARSERS,
    Api,
    Auth,
    Provider,
    Settings,
    SettingsError,
)
from chat_tui.text import visible
from chat_tui.tui.widgets.plain_text import PlainInput, PlainTextArea
from chat_tui.tui.widgets.tick_box import TickBox

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textual.app import ComposeResult


def _number_text(value: object) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _percent_text(value: object) -> str:
    return str(value) if value else ""


def describe(name: str, settings: Settings) -> str:
    """Setting `name` of `settings` as a field's note names it ("0.7", "no limit"): what is in
    use, or what Enter would apply. The key is masked, the endpoint shown without credentials."""
    value = getattr(settings, name)
    match name:
        case "temperature":
            return "the server's default" if value is None else f"{value:g}"
        case "max_tokens":
            return "no limit" if value is None else str(value)
        case "context_window":
            return f"{value:,} tokens" if value is not None else _known_window(settings.model)
        case "compact_at":
            return f"at {value}% of the context window" if value else "only when asked"
        case "read_timeout":
            return f"{value:g} s"
        case "entra_scope":
            return visible(value)
        case "api_key":
            return settings.masked_key if value else "no key"
        case "endpoint":
            return settings.where if settings.base_url else "no endpoint"
        case _:
            return visible(str(value)) if value else "none"


def _known_window(model: str, *, short: bool = False) -> str:
    """What an empty context window field stands for: the model's, where chat-tui knows it
    (`short`: as the field's placeholder)."""
    known = context_window(model)
    if short:
        return f"the model's: {known:,}" if known else "tokens (model unknown)"
    return f"the model's ({known:,} tokens)" if known else "none known for this model"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One editable setting: the Settings attribute, its label and how it is shown."""

    name: str
    label: str
    placeholder: str = ""
    password: bool = False
    to_text: Callable[[object], str] = str

    def parse(self, text: str) -> object:
        """The field's text as a value, checked as every source of the setting is."""
        return VALUE_PARSERS[self.name](text)


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("endpoint", "Endpoint"),  # placeholder follows the provider
    FieldSpec("model", "Deployment", "deployment or model name"),
    FieldSpec("api_version", "API version", "e.g. 2024-10-21"),
    FieldSpec("api_key", "Sign-in", "API key (not set)", password=True),
    FieldSpec("entra_scope", "Entra ID scope", DEFAULT_ENTRA_SCOPE),
    FieldSpec("temperature", "Temperature", "server default", to_text=_number_text),
    FieldSpec("max_tokens", "Max tokens", "no limit", to_text=_number_text),
    # Empty: the model's known window; the placeholder follows the model.
    FieldSpec("context_window", "Context window", to_text=_number_text),
    # 0 (shown empty): only when the user asks.
    FieldSpec("compact_at", "Compact at (%)", "only when asked", to_text=_percent_text),
    FieldSpec("read_timeout", "Read timeout (s)", "120", to_text=_number_text),
)

_ENDPOINT_PLACEHOLDERS = {
    Provider.AZURE: "https://<resource>.openai.azure.com",
    Provider.AZURE_V1: "https://<resource>.openai.azure.com/openai/v1",
    Provider.OPENAI: "https://api.openai.com/v1 (default)",
    Provider.COMPATIBLE: "http://localhost:11434/v1",
}


def _source_tip(sources: dict[str, str], name: str) -> Content | None:
    # A source names a profile or file the user does not control: a tooltip given as a str
    # would be read as markup, so it goes as plain Content.
    return Content(visible(f"from {sources[name]}")) if name in sources else None


_AUTH_LABELS = {Auth.KEY: "API key", Auth.ENTRA: "Microsoft Entra ID"}
_API_LABELS = {
    Api.AUTO: "API: automatic",
    Api.CHAT: "API: Chat Completions",
    Api.RESPONSES: "API: Responses",
}
MODEL_DEFAULT = "model default"


def effort_options(model: str) -> list[tuple[str, str]]:
    """The efforts worth offering for `model` (all of them for a model the table does not
    know), after the model's own default (nothing sent)."""
    return [(f"effort: {MODEL_DEFAULT}", "")] + [(f"effort: {e}", e) for e in efforts_for(model)]


SYSTEM_PROMPT_EDITING = (
    "Not applied yet: leaving the field (Esc) applies it · the conversation still uses the "
    "prompt it had."
)
# Longest wait, after a press on a button or list took the focus from a field, before the
# field's edit applies if the press brought no message (a list opened and left open).
DEFER_LIMIT = 1.0


class SettingsPanel(VerticalScroll):
    """Shows `settings`; posts messages as the user edits, chooses, tests or saves.

    `settings` is bound to the chat screen's (the one copy): an edit goes up as SettingsChanged
    and comes back down through the binding. The fields hold what is typed; `show()` rewrites
    them when the settings change from elsewhere (a profile, a conversation opened).
    """

    settings: reactive[Settings] = reactive(Settings, init=False)
    # A click between the fields must not take the typing away from the message box; a click on
    # a field focuses that field.
    FOCUS_ON_CLICK = False

    class SettingsChanged(Message):
        """Fields the user is done with: only the settings they change, so that two edits
        on their way up cannot undo each other."""

        def __init__(self, changes: dict[str, object]) -> None:
            super().__init__()
            self.changes = changes

    class SystemPromptChanged(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class ProfileChosen(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class TestRequested(Message):
        """The user asked to test the connection."""

    class SaveRequested(Message):
        def __init__(self, include_key: bool) -> None:
            super().__init__()
            self.include_key = include_key

    def __init__(
        self,
        settings: Settings,
        *,
        profiles: Iterable[str] = (),
        profile: str | None = None,
        sources: dict[str, str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.set_reactive(SettingsPanel.settings, settings)
        self._sources = sources or {}
        self._profiles = list(profiles)
        self._profile = profile
        self._invalid: dict[str, str] = {}  # field -> why its text is not applied
        # The system prompt the conversation uses, as the app last put it down or was told.
        self._system_prompt = settings.system_prompt
        self._deferred: list[Callable[[], None]] = []  # edits applied after a press, see below
        # The last test's or request's outcome (ok, what it said), until the settings change.
        self._last_check: tuple[bool | None, str] | None = None
        self._effort_options = effort_options(settings.model)

    def compose(self) -> ComposeResult:
        settings = self.settings
        yield Label("System prompt", classes="section")
        yield PlainTextArea(
            settings.system_prompt, id="system-prompt", soft_wrap=True, tab_behavior="focus"
        )
        yield Static(id="system-prompt-note", classes="field-note")
        yield Label("Connection", classes="section")
        # Its state and buttons first, where they are seen without scrolling.
        yield Static(id="connection-status")
        with Horizontal(id="connection-buttons"):
            yield Button("Test", id="test", compact=True, tooltip="Test the connection (ctrl+t)")
            yield Button("Save", id="save", compact=True, tooltip="Save to the config file")
        yield TickBox("save the API key too", id="save-key", compact=True)
        label = Label("Profile", id="profile-label", classes="field-label")
        label.display = bool(self._profiles)
        yield label
        profiles = Select(
            [(Content(visible(name)), name) for name in self._profiles],
            value=self._profile if self._profile in self._profiles else Select.NULL,
            prompt="profile…",
            compact=True,
            id="profile",
        )
        profiles.display = bool(self._profiles)
        yield profiles
        yield Select(
            [(provider.label, provider) for provider in Provider],
            value=settings.provider,
            allow_blank=False,
            compact=True,
            id="provider",
        )
        for spec in FIELDS:
            yield Label(spec.label, id=f"{spec.name}-label", classes="field-label")
            if spec.name == "api_key":
                yield Select(
                    [(label, auth) for auth, label in _AUTH_LABELS.items()],
                    value=settings.auth,
                    allow_blank=False,
                    compact=True,
                    id="auth",
                )
            yield PlainInput(
                spec.to_text(getattr(settings, spec.name)),
                placeholder=spec.placeholder,
                password=spec.password,
                tooltip=_source_tip(self._sources, spec.name),
                id=spec.name,
            )
            if spec.name == "model":
                models = Select([], prompt="models on the server…", compact=True, id="model-list")
                models.display = False
                yield models
            yield Static(id=f"{spec.name}-note", classes="field-note")
        yield Label("Reasoning", classes="section")
        yield Select(
            effort_options(settings.model),
            value=settings.reasoning_effort or "",
            allow_blank=False,
            compact=True,
            id="reasoning_effort",
            tooltip="How hard a reasoning model thinks (f5 changes it)",
        )
        yield Select(
            [(label, api) for api, label in _API_LABELS.items()],
            value=settings.api,
            allow_blank=False,
            compact=True,
            id="api",
        )
        yield TickBox(
            "show the thinking", settings.show_reasoning, id="show_reasoning", compact=True
        )

    def on_mount(self) -> None:
        self._show_provider(self.settings)
        for spec in FIELDS:  # a note may be due already (a temperature the model takes not)
            self._show_field(spec)
        self._show_status()

    # -- down: the app puts values in ------------------------------------------------------

    def watch_settings(self, settings: Settings) -> None:
        self._last_check = None  # it was about other settings
        if self.is_mounted:
            self._show_provider(settings)
            for spec in FIELDS:  # what each note says is still in use may have changed
                self._show_field(spec)
            self._show_status()

    def show(self, settings: Settings, sources: dict[str, str] | None = None) -> None:
        """Write `settings` into the fields (a profile switch); their events then change
        nothing."""
        self.query_one("#provider", Select).value = settings.provider
        self.query_one("#auth", Select).value = settings.auth
        self.query_one("#api", Select).value = settings.api
        self.query_one("#show_reasoning", Checkbox).value = settings.show_reasoning
        for spec in FIELDS:
            field = self.query_one(f"#{spec.name}", Input)
            field.value = spec.to_text(getattr(settings, spec.name))
            if sources is not None:
                field.tooltip = _source_tip(sources, spec.name)
        self._show_provider(settings)
        self._show_status()
        self.show_models([])  # the list belonged to the previous connection

    def show_system_prompt(self, text: str) -> None:
        self._system_prompt = text
        area = self.query_one("#system-prompt", TextArea)
        if area.text != visible(text):
            area.load_text(text)
        self._show_system_prompt_note()

    def take_edits(self, *, typing_too: bool) -> tuple[dict[str, object], str | None]:
        """The edits the user is done with but whose messages may still be on their way up
        (the settings they change, and the system prompt if changed), for a request about to
        go; and, with `typing_too`, the field being typed in as well (the user asked for a
        test, a save or a retry from there, meaning what they see)."""
        changes: dict[str, object] = {}
        for spec in FIELDS:
            field = self.query_one(f"#{spec.name}", Input)
            if typing_too or not field.has_focus:
                changes |= self._edit(spec)
        area = self.query_one("#system-prompt", TextArea)
        prompt = None
        if (typing_too or not area.has_focus) and area.text != visible(self._system_prompt):
            prompt = self._system_prompt = area.text
        self._show_system_prompt_note()  # the fields' notes follow the settings, when bound
        return changes, prompt

    def show_models(self, models: list[str]) -> None:
        select = self.query_one("#model-list", Select)
        select.set_options([(Content(visible(name)), name) for name in models])
        select.display = bool(models)

    def show_check(self, ok: bool | None, text: str) -> None:
        """The outcome of the last test or request: the status says it until the settings
        change (None: a test is running)."""
        self._last_check = (ok, text)
        self._show_status()

    def show_profiles(self, profiles: Iterable[str], current: str | None) -> None:
        self._profiles = list(profiles)
        select = self.query_one("#profile", Select)
        select.set_options([(Content(visible(name)), name) for name in self._profiles])
        select.display = bool(self._profiles)
        self.query_one("#profile-label").display = bool(self._profiles)
        if current in self._profiles:
            self._profile = current  # already applied: the Select's change must not apply it again
            select.value = current

    # -- up: what the user does ------------------------------------------------------------

    def _apply(self, **changes: object) -> Settings:
        updated = self.settings.with_changes(**changes)
        if updated != self.settings:
            self.post_message(self.SettingsChanged(changes))  # back through the binding
        return updated

    @on(TextArea.Changed, "#system-prompt")
    def _system_prompt_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if event.text_area.has_focus:
            self._show_system_prompt_note()  # being typed: applied when the user is done
        else:
            self._commit_system_prompt()  # put in from elsewhere

    def _commit_system_prompt(self) -> None:
        text = self.query_one("#system-prompt", TextArea).text
        if text != visible(self._system_prompt):
            self._system_prompt = text
            self.post_message(self.SystemPromptChanged(text))
        self._show_system_prompt_note()

    @on(Select.Changed, "#profile")
    def _profile_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._run_deferred()
        if isinstance(event.value, str) and event.value != self._profile:
            self._profile = event.value
            self.post_message(self.ProfileChosen(event.value))

    @on(Select.Changed, "#provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._run_deferred()
        if isinstance(event.value, Provider):
            self._apply(provider=event.value)

    @on(Select.Changed, "#auth")
    def _auth_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._run_deferred()
        if isinstance(event.value, Auth):
            self._apply(auth=event.value)

    @on(Select.Changed, "#reasoning_effort")
    def _effort_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._run_deferred()
        # Only the user's choice: the list echoes each value put down (F5, the palette), and
        # an echo arriving after a later change would undo it.
        if isinstance(event.value, str) and event.select.has_focus_within:
            self._apply(reasoning_effort=event.value or None)

    @on(Select.Changed, "#api")
    def _api_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._run_deferred()
        if isinstance(event.value, Api) and event.select.has_focus_within:
            self._apply(api=event.value)

    @on(Checkbox.Changed, "#show_reasoning")
    def _show_reasoning_ticked(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._run_deferred()
        self._apply(show_reasoning=event.value)

    @on(Select.Changed, "#model-list")
    def _model_picked(self, event: Select.Changed) -> None:
        event.stop()
        self._run_deferred()
        if isinstance(event.value, str):
            self.query_one("#model", Input).value = event.value

    def _spec(self, widget: object) -> FieldSpec | None:
        return next((s for s in FIELDS if isinstance(widget, Input) and s.name == widget.id), None)

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        spec = self._spec(event.input)
        if spec is None:
            return
        event.stop()
        if event.input.has_focus:
            self._show_field(spec)  # being typed: applied when the user is done with it
        else:
            self._commit(spec)  # put in from elsewhere: the model list, say

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        spec = self._spec(event.input)
        if spec is not None:
            event.stop()
            self._commit(spec)

    @on(events.DescendantBlur)
    def _field_left(self, event: events.DescendantBlur) -> None:
        if not self.app.app_focus:
            return  # the terminal lost the focus, not the field: the user is not done with it
        if event.widget.id == "system-prompt":
            commit = self._commit_system_prompt
        elif (spec := self._spec(event.widget)) is not None:
            commit = partial(self._commit, spec)
        else:
            return
        focused = self.screen.focused
        # Where a press began, until its release (Textual has no public word for it).
        pressed = getattr(self.screen, "_mouse_down_offset", None) is not None
        control = isinstance(focused, Button | Select | Checkbox) and self in focused.ancestors
        if pressed and control:
            # The press is on a button or list here, which acts on the release: a note or the
            # status changing height now would move it from under the pointer, and the click
            # would be lost. Its own message applies the edit, or the timer does.
            self._deferred.append(commit)
            self.set_timer(DEFER_LIMIT, self._run_deferred)
        else:
            commit()

    def _run_deferred(self) -> None:
        commits, self._deferred = self._deferred, []
        for commit in commits:
            commit()

    def _typed(self, spec: FieldSpec, settings: Settings) -> object:
        """The value the field's text stands for; SettingsError if it stands for none."""
        text = self.query_one(f"#{spec.name}", Input).value
        current = getattr(settings, spec.name)
        if text == visible(spec.to_text(current)):
            return current  # as put down: a value with a control character shows as ␛
        return spec.parse(text)

    def _edit(self, spec: FieldSpec) -> dict[str, object]:
        """The change the field's text makes: none if it is invalid or says what is in use."""
        try:
            value = self._typed(spec, self.settings)
        except SettingsError:
            return {}
        return {} if value == getattr(self.settings, spec.name) else {spec.name: value}

    def _commit(self, spec: FieldSpec) -> None:
        changes = self._edit(spec)
        self._show_field(spec, self._apply(**changes) if changes else self.settings)

    @on(Checkbox.Changed, "#save-key")
    def _save_key_ticked(self) -> None:
        self._run_deferred()

    @on(Button.Pressed, "#test")
    def _test_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._run_deferred()
        self.post_message(self.TestRequested())

    @on(Button.Pressed, "#save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._run_deferred()
        self.post_message(self.SaveRequested(self.query_one("#save-key", Checkbox).value))

    # -- drawing ---------------------------------------------------------------------------

    def _show_field(self, spec: FieldSpec, settings: Settings | None = None) -> None:
        """The note under a field: why its text is not applied, or that it is not applied yet;
        either way what is still in use. No note when the field says what is in use."""
        settings = settings or self.settings
        field = self.query_one(f"#{spec.name}", Input)
        note = self.query_one(f"#{spec.name}-note", Static)
        in_use = describe(spec.name, settings)
        current = getattr(settings, spec.name)
        was_invalid = spec.name in self._invalid
        self._invalid.pop(spec.name, None)
        text = ""
        try:
            value = self._typed(spec, settings)
        except SettingsError as exc:
            self._invalid[spec.name] = str(exc)
            text = f"{exc} Not applied · still using {in_use}."
        else:
            if field.has_focus and value != current:
                new = describe(spec.name, settings.with_changes(**{spec.name: value}))
                text = f"Not applied yet: Enter applies {new} · still using {in_use}."
        unused = spec.name == "temperature" and not model_info(settings.model).accepts(spec.name)
        if not text and unused and current is not None:
            text = f"Not sent: {settings.model} takes no temperature (a reasoning model)."
        field.set_class(spec.name in self._invalid, "-invalid")
        note.set_class(spec.name in self._invalid, "-invalid")
        note.update(Content(visible(text)))
        note.display = bool(text)
        if was_invalid != (spec.name in self._invalid):
            self._show_status()

    def _show_system_prompt_note(self) -> None:
        area = self.query_one("#system-prompt", TextArea)
        note = self.query_one("#system-prompt-note", Static)
        editing = area.has_focus and area.text != visible(self._system_prompt)
        note.update(Content(SYSTEM_PROMPT_EDITING if editing else ""))
        note.display = editing

    def _show_provider(self, settings: Settings) -> None:
        provider = settings.provider
        self.query_one("#model-label", Label).update(provider.model_label)
        azure_only = provider is Provider.AZURE
        for widget_id in ("#api_version-label", "#api_version"):
            self.query_one(widget_id).display = azure_only
        self.query_one("#auth").display = provider.is_azure
        self.query_one("#api_key").display = settings.auth is Auth.KEY or not provider.is_azure
        entra = settings.auth is Auth.ENTRA and provider.is_azure
        for widget_id in ("#entra_scope-label", "#entra_scope"):
            self.query_one(widget_id).display = entra
        self.query_one("#endpoint", Input).placeholder = _ENDPOINT_PLACEHOLDERS[provider]
        self._show_reasoning(settings)

    def _show_reasoning(self, settings: Settings) -> None:
        """The efforts the model takes, and the temperature as not used where it is not."""
        efforts = self.query_one("#reasoning_effort", Select)
        options = effort_options(settings.model)
        wanted = settings.reasoning_effort or ""
        if wanted not in {value for _, value in options}:
            # Kept as chosen (sent as the nearest the model takes), and said so.
            options.append((f"effort: {wanted} (nearest is sent)", wanted))
        if options != self._effort_options:  # set_options clears the choice: only on change
            self._effort_options = options
            efforts.set_options(options)
        efforts.value = wanted
        self.query_one("#context_window", Input).placeholder = _known_window(
            settings.model, short=True
        )
        field = self.query_one("#temperature", Input)
        unused = not model_info(settings.model).accepts("temperature")
        field.set_class(unused, "-unused")
        field.placeholder = (
            f"not used: {visible(settings.model)} takes none" if unused else "server default"
        )

    def _show_status(self) -> None:
        status = self.query_one("#connection-status", Static)
        labels = {spec.name: spec.label for spec in FIELDS}
        problems = [
            f"{labels[name]} is not applied until it is valid." for name in self._invalid
        ] + self.settings.problems()
        ok, text = self._last_check or (True, "")
        good = not problems and ok is True and bool(text)
        status.update_classes({"-problem": bool(problems) or ok is False, "-ok": good})
        if problems:
            status.update(Content("\n".join(visible(p) for p in problems)))
        elif text:
            mark = {True: "✔", False: "✖", None: "…"}[ok]
            status.update(Content(f"{mark} {visible(text)}"))
        else:
            status.update(Content(f"Ready: {visible(self.settings.target)}"))
