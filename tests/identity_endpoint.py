"""Offline stand-ins for the two Entra ID credentials azure-identity lets a test reach on loopback.

- `IdentityEndpoint`: an App Service managed-identity token endpoint on 127.0.0.1, which
  azure-identity's ManagedIdentityCredential calls when IDENTITY_ENDPOINT and IDENTITY_HEADER are
  set.
- `stub_az`: an `az` program that answers `az account get-access-token` with a token, for the
  Azure CLI credential.

Both serve the real azure-identity code: nothing in chat-tui is stubbed.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from pathlib import Path

IDENTITY_HEADER = "test-identity-header"
TOKEN_LIFETIME = 3600


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        query = dict(parse_qsl(urlsplit(self.path).query))
        owner.requests.append({"query": query, "header": self.headers.get("X-IDENTITY-HEADER")})
        if self.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            self._send(400, {"error": "invalid_request", "error_description": "bad header"})
            return
        self._send(
            200,
            {
                "access_token": owner.token,
                "expires_on": str(int(time.time()) + TOKEN_LIFETIME),
                "resource": query.get("resource", ""),
                "token_type": "Bearer",
            },
        )

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: IdentityEndpoint) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner


class IdentityEndpoint:
    """Hands out `token` to requests that carry the right identity header."""

    def __init__(self, token: str = "token-from-managed-identity") -> None:
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/msi/token"

    def environment(self) -> dict[str, str]:
        """What App Service sets for a managed identity."""
        return {"IDENTITY_ENDPOINT": self.url, "IDENTITY_HEADER": IDENTITY_HEADER}

    def __enter__(self) -> IdentityEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def stub_az(folder: Path, token: str = "token-from-azure-cli") -> Path:
    """An `az` in `folder` that prints a token for `az account get-access-token`."""
    expires = int(time.time()) + TOKEN_LIFETIME
    answer = json.dumps(
        {
            "accessToken": token,
            "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(expires)),
            "expires_on": expires,
            "tokenType": "Bearer",
        }
    )
    script = folder / "az"
    # Absolute interpreter and shell built-ins only: the tests' PATH holds nothing but this folder.
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1 $2" = "account get-access-token" ]; then\n'
        f"  printf '%s\\n' '{answer}'\n"
        "  exit 0\n"
        "fi\n"
        "echo 'ERROR: Please run az login to setup account.' >&2\n"
        "exit 1\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script
