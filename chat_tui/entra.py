"""Microsoft Entra ID sign-in through azure-identity (the optional `azure` extra).

azure-identity is imported only when Entra ID is chosen. chat-tui uses its *synchronous*
DefaultAzureCredential and asks it for a token in a worker thread, on purpose:
- `azure.identity.aio` needs an async HTTP transport (aiohttp) that azure-core does not bring:
  a second HTTP stack, with sessions that must be closed on the event loop that opened them. The
  synchronous credentials use `requests`, which azure-core already depends on, so the `azure`
  extra is azure-identity alone.
- A token is fetched once and kept until shortly before it expires, so the thread costs nothing
  per request; and the developer-tool credentials (az, azd, pwsh) run subprocesses, which block
  anyway.

The chain is DefaultAzureCredential's own (its order, and its AZURE_TOKEN_CREDENTIALS and other
settings), but each of its credentials is wrapped so chat-tui knows which one produced the token
and why each of the others could not: azure-identity only reports that as one long text.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chat_tui.settings import DEFAULT_ENTRA_SCOPE

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

AZURE_EXTRA_HINT = "pip install 'chat-tui[azure]'"
# A token this close to expiry is replaced before it is used (azure-core's policy uses 300 s).
REFRESH_MARGIN = 300.0
TROUBLESHOOTING = (
    "Troubleshooting: https://aka.ms/azsdk/python/identity/defaultazurecredential/troubleshoot"
)
SIGN_IN_HINT = (
    "Sign in with 'az login' (or 'azd auth login'), run where a managed identity is assigned, "
    "or use an API key (auth = key)."
)

# azure-identity's class names, as a user knows the ways of signing in.
CREDENTIAL_NAMES = {
    "EnvironmentCredential": "Environment variables",
    "WorkloadIdentityCredential": "Workload identity",
    "ManagedIdentityCredential": "Managed identity",
    "SharedTokenCacheCredential": "Shared token cache",
    "VisualStudioCodeCredential": "Visual Studio Code",
    "AzureCliCredential": "Azure CLI",
    "AzurePowerShellCredential": "Azure PowerShell",
    "AzureDeveloperCliCredential": "Azure Developer CLI",
    "InteractiveBrowserCredential": "Browser sign-in",
    "BrokerCredential": "Broker",
}
_MAX_REASON = 160
# "XCredential authentication unavailable. ", "XCredential: ", "XCredential " at the start.
_CLASS_PREFIX = re.compile(r"^\w*Credential(?: authentication)?(?: unavailable)?[.:,]?\s*")


def credential_name(credential: object) -> str:
    name = getattr(credential, "_credential_name", None) or type(credential).__name__
    return CREDENTIAL_NAMES.get(name, name)


def short_reason(message: str) -> str:
    """The first sentence of a credential's error, without its class name: one line for a user."""
    line = next((part.strip() for part in message.splitlines() if part.strip()), "")
    line = _CLASS_PREFIX.sub("", line)
    first = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
    first = first[:1].upper() + first[1:]
    if len(first) > _MAX_REASON:
        return first[: _MAX_REASON - 1] + "…"
    if not first:
        return "Unavailable."
    return first if first.endswith((".", "!", "?")) else f"{first}."


@dataclass(frozen=True, slots=True)
class Attempt:
    """One credential of the chain that gave no token, and why: in one line, and in full."""

    credential: str
    reason: str
    said: str = ""  # the credential's whole error text


class SignInError(Exception):
    """Sign-in cannot even start (e.g. azure-identity is not installed)."""


class SignInFailed(Exception):
    """No credential of the chain produced a token."""

    def __init__(self, attempts: tuple[Attempt, ...], report: str) -> None:
        super().__init__(report)
        self.attempts = attempts
        self._report = report  # azure-identity's own text (it names our wrappers, not theirs)

    @property
    def report(self) -> str:
        """azure-identity's verdict and everything each credential said, for the details view."""
        verdict = self._report.strip().partition("\n")[0]
        said = "".join(f"\n\n{each.credential}:\n{each.said.strip()}" for each in self.attempts)
        return f"{verdict}{said}\n\n{TROUBLESHOOTING}"

    def summary(self) -> str:
        """One line per credential that was tried."""
        if not self.attempts:
            return "No credential gave a token."
        tried = "\n".join(f"  {each.credential}: {each.reason}" for each in self.attempts)
        return f"No credential gave a token:\n{tried}"


class _Recorded:
    """One credential of the chain, reporting to its sign-in what happened when it was asked."""

    def __init__(self, credential: Any, sign_in: EntraSignIn) -> None:
        self._credential = credential
        self._sign_in = sign_in
        self.name = credential_name(credential)

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        try:
            token = self._credential.get_token(*scopes, **kwargs)
        except Exception as exc:
            said = str(exc)
            self._sign_in.tried(Attempt(self.name, short_reason(said), said))
            raise
        self._sign_in.source = self.name
        return token

    def __enter__(self) -> _Recorded:
        self._credential.__enter__()
        return self

    def __exit__(self, *args: object) -> None:
        self._credential.__exit__(*args)

    def close(self) -> None:
        self._credential.close()


def _quiet_azure_logs() -> None:
    """azure-identity logs each failed credential as a warning; none of it reaches the terminal.

    With a handler of its own, the "azure" logger no longer falls back to printing on stderr.
    """
    logger = logging.getLogger("azure")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    logger.propagate = False


class EntraSignIn:
    """Entra ID tokens from DefaultAzureCredential's chain (az login, managed identity…).

    `token()` blocks (it may run `az`): call it in a thread, or use `provider()`.
    """

    def __init__(self) -> None:
        self._chain: Any = None
        self._token: Any = None  # azure.core.credentials.AccessToken
        self._scope = ""  # the scope the token is for
        self._lock = threading.Lock()
        self._attempts: list[Attempt] = []
        self.source = ""  # which credential produced the current token, e.g. "Azure CLI"

    def tried(self, attempt: Attempt) -> None:
        self._attempts.append(attempt)

    def _credential(self) -> Any:
        if self._chain is None:
            try:
                from azure.identity import DefaultAzureCredential
            except ImportError:
                raise SignInError(
                    f"Entra ID sign-in needs the azure-identity package: {AZURE_EXTRA_HINT}"
                ) from None
            _quiet_azure_logs()
            chain = DefaultAzureCredential()
            chain.credentials = tuple(_Recorded(each, self) for each in chain.credentials)
            self._chain = chain
        return self._chain

    def token(self, scope: str = DEFAULT_ENTRA_SCOPE) -> str:
        """A bearer token for `scope`, fetched again only when near its expiry."""
        with self._lock:
            if (
                self._token is None
                or scope != self._scope
                or self._token.expires_on - time.time() < REFRESH_MARGIN
            ):
                chain = self._credential()
                self._attempts = []
                try:
                    self._token, self._scope = chain.get_token(scope), scope
                except Exception as exc:
                    from azure.core.exceptions import ClientAuthenticationError

                    if not isinstance(exc, ClientAuthenticationError):
                        raise
                    raise SignInFailed(tuple(self._attempts), str(exc)) from None
            return self._token.token

    def provider(self, scope: str = DEFAULT_ENTRA_SCOPE) -> Callable[[], Awaitable[str]]:
        """An async token provider for the openai SDK; the first call checks the extra is there."""
        import asyncio

        self._credential()

        async def bearer_token() -> str:
            return await asyncio.to_thread(self.token, scope)

        return bearer_token

    def close(self) -> None:
        chain, self._chain, self._token = self._chain, None, None
        self.source = ""
        if chain is not None:
            chain.close()
