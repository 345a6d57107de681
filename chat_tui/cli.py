"""The `chat-tui` command: flags, settings from every source, then the app."""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from chat_tui import __version__
from chat_tui.ask import ASK_EPILOG, EXIT_BROKEN_PIPE, EXIT_USAGE, run_ask, silence_stdout
from chat_tui.config_file import config_path, load_config
from chat_tui.console import CONSOLE_EPILOG, run_console
from chat_tui.export import ExportFormatError, read_export, to_json, to_markdown, write_export
from chat_tui.private_files import looks_like_a_file
from chat_tui.settings import ENVIRONMENT_HELP, OPTIONS, VALUE_PARSERS, Provider
from chat_tui.settings_sources import NAME_WIDTH, Flags, describe, load_settings
from chat_tui.store import DATABASE_NAME, AsyncStore, Store, StoreError, default_data_dir
from chat_tui.text import one_line, visible
from chat_tui.usage import DEFAULT_DAYS, MAX_DAYS, day_start, first_day, table, tallies

if TYPE_CHECKING:
    from collections.abc import Callable

    from chat_tui.config_file import ConfigFile
    from chat_tui.settings_sources import Resolved


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that choose the settings: the app's, and again `ask`'s (after the command)."""
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
    for option in OPTIONS:
        parser.add_argument(
            option.flag,
            dest=option.name,
            type=_parsed(option.name),
            metavar=option.metavar,
            help=f"{option.help}; also {option.variable}",
        )


def _parsed(name: str) -> Callable[[str], object]:
    """A flag's value checked as the setting is from every other source."""

    def parse(text: str) -> object:
        try:
            return VALUE_PARSERS[name](text)
        except ValueError as exc:  # SettingsError, or an enum's own
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


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
    add_settings_flags(parser)
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective settings and where each comes from, then exit",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="PATH",
        help="where conversations are saved (default: CHAT_TUI_DATA_DIR or the user data dir)",
    )
    parser.add_argument(
        "--continue", dest="resume", action="store_true", help="reopen the last conversation"
    )
    parser.add_argument("--list", action="store_true", help="list saved conversations and exit")
    parser.add_argument(
        "--usage",
        nargs="?",
        const=DEFAULT_DAYS,
        type=_days,
        metavar="DAYS",
        help=f"print tokens and cost by day and model over the last DAYS days (default "
        f"{DEFAULT_DAYS}) from the saved conversations, then exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    export = commands.add_parser("export", help="write a saved conversation as Markdown or JSON")
    export.add_argument("id", type=int, help="the conversation's number, as --list shows it")
    export.add_argument("--format", choices=["md", "json"], default="md")
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="instead of stdout")
    imported = commands.add_parser("import", help="add a conversation from a JSON export")
    imported.add_argument("file", type=Path)
    # The settings flags work after `ask` too; SUPPRESS keeps a value given before it unless
    # the same flag is given again after it.
    ask = commands.add_parser(
        "ask",
        help="ask one question; the reply streams to stdout as plain text",
        description="Ask one question and stream the reply to stdout as plain text.",
        epilog=ASK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    ask.add_argument(
        "question", nargs="?", default=None, help="the question (default: read from stdin)"
    )
    ask.add_argument(
        "--json",
        action="store_true",
        default=False,
        help="print one JSON object at the end (text, finish_reason, model, usage) instead",
    )
    ask.add_argument(
        "-a",
        "--attach",
        action="append",
        metavar="FILE",
        help="attach a text file or an image (PNG, JPEG, GIF, WebP); repeat for more",
    )
    add_settings_flags(ask)
    console = commands.add_parser(
        "console",
        help="chat line by line in the terminal, as the console samples do",
        description="Chat in the terminal, line by line: the replies stream after "
        "'Assistant: ', and the conversation is saved as the app saves it.",
        epilog=CONSOLE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    console.add_argument(
        "--render",
        action="store_true",
        default=False,
        help="print each Markdown block rendered once it is complete, not the plain text",
    )
    console.add_argument(
        "--continue", dest="resume", action="store_true", help="carry on the last conversation"
    )
    console.add_argument(
        "--data-dir", type=Path, metavar="PATH", help="where conversations are saved"
    )
    add_settings_flags(console)
    return parser


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"a number of days from 1 to {MAX_DAYS:,}, not {text!r}")
    return days


def database_path(data_dir: Path | None) -> Path:
    return (data_dir if data_dir is not None else default_data_dir(dict(os.environ))) / (
        DATABASE_NAME
    )


def run_store_command(args: argparse.Namespace) -> int:
    """--list, export and import: no app, plain output, one line and status 1 on failure."""
    try:
        store = Store(database_path(args.data_dir))
    except StoreError as exc:
        return _failed(str(exc))
    try:
        if args.list:
            for item in store.list_conversations():
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.updated))
                print(f"{item.id:>5}  {when}  {item.message_count:>4} msgs  {one_line(item.title)}")
            return 0
        if args.command == "import":
            store.check()  # writing into a damaged file would lose more of it
            imported = read_export(args.file)
            for problem in imported.left_out:
                _warn(f"{args.file}: setting left out: {problem}")
            print(store.import_conversation(imported.conversation))
            return 0
        conversation = store.load(args.id)
        text = to_json(conversation) if args.format == "json" else to_markdown(conversation)
        if args.output is not None:
            write_export(args.output, text, overwrite=True)  # named on purpose: replaced
        else:
            # JSON keeps the model's text exact for a program; a terminal would act on it.
            sys.stdout.write(visible(text) if sys.stdout.isatty() else text)
        return 0
    except KeyError:
        return _failed(f"no saved conversation {args.id} (see --list)")
    except StoreError as exc:
        return _failed(str(exc))
    except ExportFormatError as exc:
        return _failed(f"{args.file}: {exc}")
    except BrokenPipeError:
        raise  # the reader went away (`--list | head`): main() ends quietly
    except OSError as exc:
        path = args.file if args.command == "import" else getattr(args, "output", None) or "stdout"
        return _failed(f"{path}: {exc.strerror or exc}")
    finally:
        with suppress(StoreError):
            store.close()


def run_usage(args: argparse.Namespace, config: ConfigFile) -> int:
    """--usage: the saved replies' tokens and cost by day and model, as plain text."""
    for problem in config.problems:  # a price left out shows as none: say why
        _warn(problem)
    try:
        store = Store(database_path(args.data_dir))
    except StoreError as exc:
        return _failed(str(exc))
    try:
        since = first_day(args.usage)
        rows = store.reply_usage(day_start(since))
    except StoreError as exc:
        return _failed(str(exc))
    finally:
        with suppress(StoreError):
            store.close()
    sys.stdout.write(table(tallies(rows, config.prices), since))
    return 0


def _warn(message: str) -> None:
    print(f"chat-tui: {visible(message)}", file=sys.stderr)


def _failed(message: str) -> int:
    """Say why a command failed, in one line on stderr; its exit status."""
    _warn(" ".join(message.splitlines()))
    return 1


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(build_parser().parse_args(argv))
    except BrokenPipeError:
        # The reader of our output went away (`chat-tui --list | head -1`): stop quietly, with
        # the status a shell gives a command that SIGPIPE ended, as `ask` does.
        silence_stdout()
        return EXIT_BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    if args.env_file is not None and not looks_like_a_file(args.env_file):
        _warn(f"--env-file {args.env_file}: no such file")
        return 2
    config = load_config(args.config if args.config is not None else config_path())
    flags = Flags(
        provider=Provider(args.provider) if args.provider else None,
        endpoint=args.endpoint,
        model=args.model,
        api_version=args.api_version,
        system_prompt=args.system,
        profile=args.profile,
        options={
            option.name: getattr(args, option.name)
            for option in OPTIONS
            if getattr(args, option.name, None) is not None
        },
    )
    if args.command == "ask":
        resolved = load_settings(flags, config, cwd=Path.cwd(), env_file=args.env_file)
        return run_ask(
            resolved,
            args.question,
            profile=args.profile,
            as_json=args.json,
            attach=getattr(args, "attach", None) or (),
        )
    if args.command == "console":
        env_file = args.env_file

        def switch_profile(name: str) -> Resolved:
            return load_settings(
                replace(flags, profile=name), config, cwd=Path.cwd(), env_file=env_file
            )

        return run_console(
            load_settings(flags, config, cwd=Path.cwd(), env_file=env_file),
            profile=args.profile,
            database=database_path(args.data_dir),
            resume=args.resume,
            render=args.render,
            profiles=list(config.profiles),
            switch_profile=switch_profile,
        )
    if args.usage is not None:
        return run_usage(args, config)
    if args.list or args.command is not None:
        return run_store_command(args)
    resolved = load_settings(flags, config, cwd=Path.cwd(), env_file=args.env_file)
    if args.print_config:
        # Each value made visible on its line: a value must not pass for another setting.
        found = "" if config.exists else " (not found)"
        print(f"{'config file':{NAME_WIDTH}} : {one_line(str(config.path))}{found}")
        print(f"{'profile':{NAME_WIDTH}} : {one_line(resolved.profile or '(none)')}")
        print(describe(resolved))
        for problem in resolved.problems:
            print(f"chat-tui: {one_line(problem)}", file=sys.stderr)
        # A --profile that does not exist is a mistake in the command, as for `ask`.
        return EXIT_USAGE if args.profile and resolved.profile != args.profile else 0

    from chat_tui.tui.app import ChatApp  # after parsing, so --help and --version stay instant

    path = database_path(args.data_dir)
    resume = None
    if args.resume:
        try:
            store = Store(path)
            resume = store.latest_id()
            store.close()
        except StoreError as exc:
            _warn(str(exc))
    store = AsyncStore(lambda: Store(path))
    app = ChatApp(resolved, config=config, store=store, open_conversation=resume)
    app.run()
    if app.exit_message is not None:  # one line, after the terminal is restored
        _warn(app.exit_message)
    return app.return_code or 0
