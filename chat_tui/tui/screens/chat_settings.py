"""What the chat screen does for the settings sidebar: apply edits, switch profiles, test the
connection, offer the server's models and save to the config file.

A mixin of ChatScreen (it uses the screen's settings and sidebar), kept apart so that each
module holds one concern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from chat_tui.config_file import load_config, save_profile
from chat_tui.settings_sources import switch_profile
from chat_tui.tui.widgets.settings_panel import SettingsPanel

if TYPE_CHECKING:
    from chat_tui.settings import Settings
    from chat_tui.tui.screens.chat import ChatScreen


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
