"""The `chat-tui` command: flags, settings from the environment, then the app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chat_tui import __version__
from chat_tui.settings import (
    ENVIRONMENT_HELP,
    Overrides,
    Provider,
    read_environment,
    settings_from_environment,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chat-tui",
        description="A terminal chat client for Azure OpenAI, OpenAI and OpenAI-compatible "
        "servers, with live streaming.",
        epilog="Settings come from flags, then the environment, then .env in the current "
        "directory:\n\n" + ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--env-file",
        type=Path,
        metavar="PATH",
        help="read variables from this file instead of ./.env",
    )
    parser.add_argument(
        "--provider",
        choices=[p.value for p in Provider],
        help="how to talk to the server (default: inferred from the endpoint)",
    )
    parser.add_argument("--endpoint", metavar="URL", help="Azure endpoint or OpenAI base URL")
    parser.add_argument(
        "--model", "--deployment", dest="model", metavar="NAME", help="model or Azure deployment"
    )
    parser.add_argument("--api-version", metavar="VERSION", help="Azure OpenAI api-version")
    parser.add_argument("--system", metavar="TEXT", help="the system prompt")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.env_file is not None and not args.env_file.is_file():
        print(f"chat-tui: --env-file {args.env_file}: no such file", file=sys.stderr)
        return 2
    overrides = Overrides(
        provider=Provider(args.provider) if args.provider else None,
        endpoint=args.endpoint,
        model=args.model,
        api_version=args.api_version,
        system_prompt=args.system,
    )
    settings = settings_from_environment(read_environment(args.env_file), overrides)

    from chat_tui.app import ChatApp  # after parsing, so --help and --version stay instant

    ChatApp(settings).run()
    return 0
