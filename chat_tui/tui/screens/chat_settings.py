"""What the chat screen does for the settings sidebar: apply edits, switch profiles, test the
connection, offer the server's models (and a server found on this machine) and save to the
config file.

A mixin of ChatScreen (it uses the screen's settings and sidebar), kept apart so that each
module holds one concern.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from textual import work

from chat_tui.config_file import load_config, save_profile
from chat_tui.discovery import worth_looking
from chat_tui.model_info import efforts_for, model_info
from chat_tui.settings import OPTIONS, Auth, Provider, Settings
from chat_tui.settings_sources import switch_profile
from chat_tui.text import one_line
from chat_tui.tui import keymap
from chat_tui.tui.widgets.messages import Notice
from chat_tui.tui.widgets.settings_panel import SettingsPanel
from chat_tui.tui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from chat_tui.discovery import LocalServer
    from chat_tui.tui.screens.chat import ChatScreen

# Of a found server's models, the card names this many, each cut to this length.
NAMED_MODELS = 3
MODEL_NAME_SHOWN = 100


def _short(name: str) -> str:
    name = one_line(name)
    return name if len(name) <= MODEL_NAME_SHOWN else name[: MODEL_NAME_SHOWN - 1] + "…"


def found_card_text(server: LocalServer, others: list[LocalServer], key: str) -> tuple[str, str]:
    """The title and body of the card that offers `server` (the model ids are the server's)."""
    title = f"Found {server.kind} at {server.base_url} · {key} uses it"
    models = server.models
    if not models:
        lines = ["It has no models yet."]
    else:
        named = ", ".join(_short(m) for m in models[:NAMED_MODELS])
        more = f" and {len(models) - NAMED_MODELS} more" if len(models) > NAMED_MODELS else ""
        lines = [f"{len(models)} model{'s' if len(models) > 1 else ''}: {named}{more}"]
        first = server.first_model
        if first:
            lines.append(f"{key} connects to it with {_short(first)}; the others are under Model.")
    lines += [f"Also answering: {o.kind} at {o.base_url}" for o in others]
    return title, "\n".join(lines)


def _saved_option(settings: Settings, name: str) -> object:
    value = getattr(settings, name)
    if value == getattr(Settings(), name):
        return None  # removed from the profile: the default applies
    return value.value if isinstance(value, StrEnum) else value


class SettingsActions:
    """The chat screen's answers to the sidebar (mixed into ChatScreen).

    Handlers go by their names (on_settings_panel_…), not @on: Textual collects @on handlers
    only from the classes of its own hierarchy, and a mixin is not one of them.
    """

    def on_settings_panel_settings_changed(
        self: ChatScreen, event: SettingsPanel.SettingsChanged
    ) -> None:
        self.settings = self.settings.with_changes(**event.changes)

    def on_settings_panel_system_prompt_changed(
        self: ChatScreen, event: SettingsPanel.SystemPromptChanged
    ) -> None:
        self._use_system_prompt(event.text)

    def _use_system_prompt(self: ChatScreen, text: str) -> None:
        if text == self.conversation.system_prompt:
            return
        self.conversation.system_prompt = text
        if self.conversation.id is not None:
            self._save_soon()

    def take_sidebar_edits(self: ChatScreen, *, typing_too: bool = False) -> None:
        """Before a request: the sidebar's edits the user is done with, whose messages may
        not have arrived yet; `typing_too` when the user asked for it from the field they are
        typing in (a test, a save, a retry). A field still being typed in is left alone
        otherwise: a queued message that goes meanwhile uses what the field says is in use."""
        changes, prompt = self.query_one(SettingsPanel).take_edits(typing_too=typing_too)
        if changes:
            self.settings = self.settings.with_changes(**changes)
        if prompt is not None:
            self._use_system_prompt(prompt)

    async def on_settings_panel_profile_chosen(
        self: ChatScreen, event: SettingsPanel.ProfileChosen
    ) -> None:
        await self.use_profile(event.name)

    async def action_use_profile(self: ChatScreen, name: str) -> None:
        await self.use_profile(name)

    async def use_profile(self: ChatScreen, name: str) -> None:
        """Switch the connection to profile `name`; the conversation carries on."""
        if name not in self.app.config.profiles:
            return
        self.resolved = switch_profile(self.resolved, self.app.config, name)
        self.settings = self.resolved.settings
        panel = self.query_one(SettingsPanel)
        panel.show(self.settings, self.resolved.sources)
        if "system_prompt" in self.app.config.profiles[name]:
            # The profile's own system prompt applies from the next request, as the README says.
            self.conversation.system_prompt = self.settings.system_prompt
            panel.show_system_prompt(self.settings.system_prompt)
            self._save_soon()
        panel.show_profiles(self.app.config.profiles, name)
        self.notify(f"Using profile {name}: {self.settings.target}")
        if self.resolved.problems:
            await self._notice(f"Profile {name} has problems", self.resolved.problems)

    def on_settings_panel_test_requested(self: ChatScreen) -> None:
        self.action_test_connection()

    def on_settings_panel_save_requested(
        self: ChatScreen, event: SettingsPanel.SaveRequested
    ) -> None:
        self.action_save_settings(event.include_key)

    def action_test_connection(self: ChatScreen) -> None:
        self.take_sidebar_edits(typing_too=True)  # what the fields say is what is tested
        self.query_one(SettingsPanel).show_check(None, "Testing…")
        self._test_connection(self.settings)

    @work(exclusive=True, group="test-connection", exit_on_error=False)
    async def _test_connection(self: ChatScreen, settings: Settings) -> None:
        panel = self.query_one(SettingsPanel)
        result = await self.app.client.check(settings)
        text = str(result)
        panel.show_check(result.ok, text)
        self.notify(text, severity="information" if result.ok else "error")
        if result.ok or not settings.model:
            await self._offer_models(settings)

    async def _offer_models(self: ChatScreen, settings: Settings) -> None:
        models = await self.app.client.list_models(settings)
        self.query_one(SettingsPanel).show_models(models)
        if models and not settings.model:
            self.notify(f"The server offers {len(models)} models: pick one under Model.")

    @work(group="models", exit_on_error=False)
    async def _offer_models_at_start(self: ChatScreen) -> None:
        await self._offer_models(self.settings)

    # -- a server found on this machine ---------------------------------------------------

    @work(group="discovery", exit_on_error=False)
    async def _look_for_local_server(self: ChatScreen) -> None:
        found = await self.discovery.run()
        if not found or not worth_looking(self.settings):
            return  # nothing there, or the user has begun to fill in the settings meanwhile
        self.found, others = found[0], found[1:]
        title, body = found_card_text(self.found, others, keymap.keys_for("use_local_server"))
        self._found_card = Notice(title, body)
        self._found_card.add_class("-offer")
        await self.query_one(Transcript).add(self._found_card)

    def action_use_local_server(self: ChatScreen) -> None:
        """Connect to the server found: its URL, and its first model (the others are listed)."""
        server = self.found
        if server is None:
            return
        self._withdraw_offer()
        model = server.first_model
        # Not the key of another service: a local port is not where OPENAI_API_KEY should go.
        self.settings = self.settings.with_changes(
            provider=Provider.COMPATIBLE,
            endpoint=server.base_url,
            model=model,
            api_key="",
            auth=Auth.KEY,
        )
        for name in ("provider", "endpoint", "model", "api_key", "auth"):
            self.resolved.sources[name] = f"the {server.kind} server found at start"
        self.query_one(SettingsPanel).show(self.settings, self.resolved.sources)
        self._offer_models_at_start()  # the sidebar's list of its models, as for a URL alone
        if model:
            self.notify(f"Using {server.kind} at {server.base_url} with {model}.")
        else:
            self._show_sidebar(True)  # a model is still to be picked there

    def connected(self: ChatScreen) -> None:
        """The settings can be used: the set-up cards have said what they had to say."""
        if self._not_connected is not None:
            self._not_connected.remove()
            self._not_connected = None
        self._withdraw_offer()

    def _withdraw_offer(self: ChatScreen) -> None:
        if self._found_card is not None:
            self._found_card.remove()
            self._found_card = None
        self.found = None  # its key and command are no longer offered

    def action_cycle_effort(self: ChatScreen) -> None:
        """The next effort the model takes, after its own default, round again."""
        served = self.app.client.learned.served(self.settings)
        choices: list[str | None] = [None, *efforts_for(served)]
        current = self.settings.reasoning_effort
        at = choices.index(current) if current in choices else 0
        self.action_set_effort(choices[(at + 1) % len(choices)] or "")

    def action_set_effort(self: ChatScreen, effort: str) -> None:
        self.settings = self.settings.with_changes(reasoning_effort=effort or None)
        served = self.app.client.learned.served(self.settings)
        if not model_info(served).reasoning and model_info(served).family != "unknown":
            note = f" ({served} does not reason: nothing is sent)"
        else:
            note = ""
        self.notify(
            f"Reasoning effort: {effort or 'the model default'}, from the next message{note}.",
            timeout=3,
        )

    def action_save_settings(self: ChatScreen, include_key: bool = False) -> None:
        """Write the current settings to the config file, under the current profile's name."""
        self.take_sidebar_edits(typing_too=True)  # what the fields say is what is saved
        name = self.resolved.profile or "default"
        settings = self.settings
        values: dict[str, object] = {
            "provider": settings.provider.value,
            "endpoint": settings.endpoint or None,
            "model": settings.model or None,
            "api_version": settings.api_version if settings.provider.is_azure else None,
            "auth": settings.auth.value,
            "system_prompt": self.conversation.system_prompt,
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
            # The settings beyond the connection's own, written only where not the default.
            **{option.name: _saved_option(settings, option.name) for option in OPTIONS},
        }
        if include_key:
            values["api_key"] = settings.api_key or None
        path = self.app.config.path
        try:
            save_profile(path, name, values)
        except (OSError, ValueError) as exc:  # ConfigError: the file and the sidebar stay as is
            message = f"Could not save to {path}: {exc}"
            self.notify(message, severity="error")
            return
        self.app.config = load_config(path)
        self.resolved.profile = name
        self.query_one(SettingsPanel).show_profiles(self.app.config.profiles, name)
        secret = "with the API key, owner-only" if include_key else "without the API key"
        if include_key and not settings.api_key:
            secret = "with no API key: any saved before is removed"
        message = f"Saved profile {name} to {path} ({secret})."
        if not include_key and "api_key" in self.app.config.profiles.get(name, {}):
            # Kept rather than removed: a save must not lose a key the user may have no copy of.
            message += (
                " The API key saved in this profile before is still in the file; to remove it,"
                " empty API key and save with 'save the API key too'."
            )
        self.notify(message)
