"""The `chat-tui` command: flags, settings from every source, then the app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chat_tui import __version__
from chat_tui.config_file import config_path, load_config
from chat_tui.settings import ENVIRONMENT_HELP, Provider
from chat_tui.settings_sources import Flags, describe, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chat-tui",
        description="A terminal chat client for Azure OpenAI, OpenAI and OpenAI-compatible "
        "servers, with live streaming.",
        epilog="Settings come from flags, then the environment, then .env in the current "
        "directory, then the config file's default profile. Variables:\n\n" + ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--env-file", type=Path, metavar="PATH", help="read variables from this file, not ./.env"
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="the config file with profiles (default: CHAT_TUI_CONFIG or the user config dir)",
    )
    parser.add_argument("--profile", metavar="NAME", help="use this profile of the config file")
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective settings and where each comes from, then exit",
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
    config = load_config(args.config if args.config is not None else config_path())
    flags = Flags(
        provider=Provider(args.provider) if args.provider else None,
        endpoint=args.endpoint,
        model=args.model,
        api_version=args.api_version,
        system_prompt=args.system,
        profile=args.profile,
    )
    resolved = load_settings(flags, config, cwd=Path.cwd(), env_file=args.env_file)
    if args.print_config:
        print(f"config file   : {config.path}{'' if config.exists else ' (not found)'}")
        print(f"profile       : {resolved.profile or '(none)'}")
        print(describe(resolved))
        for problem in resolved.problems:
            print(f"chat-tui: {problem}", file=sys.stderr)
        return 0

    from chat_tui.app import ChatApp  # after parsing, so --help and --version stay instant

    ChatApp(resolved, config=config).run()
    return 0
