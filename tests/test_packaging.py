"""chat-tui installs and runs: the stylesheet from a wheel and an editable install, and the
`azure` extra's Entra ID sign-in from a wheel.

Each install goes into a fresh virtual environment, offline, and the app is then run there:
headless, reading back layout facts that only `chat_tui.tcss` produces, or as `chat-tui ask`.
The dependencies come from the environment running these tests, so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from importlib import metadata, util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from packaging.requirements import Requirement

import chat_tui.tui.app
from chat_tui.tui.app import STYLESHEET, stylesheet_path
from tests.identity_endpoint import IdentityEndpoint
from tests.openai_server import TextReply

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tests.openai_server import FakeOpenAIServer

# Building and installing into fresh environments: several steps of up to TIMEOUT each.
pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[1]
TOP_LEVEL_STYLESHEET = REPO / STYLESHEET
WHEEL_STYLESHEET = f"chat_tui/{STYLESHEET}"
TIMEOUT = 120
# `pip --python` (install into another interpreter's environment) arrived in pip 22.3.
PIP_WITH_PYTHON_OPTION = (22, 3)

# Variables that would let the child see keys, a devtools server, pip config or the checkout.
_DROPPED_PREFIXES = ("AZURE_OPENAI_", "OPENAI_", "CHAT_TUI_", "PIP_", "TEXTUAL")
_DROPPED_NAMES = frozenset({"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"})

# What `chat_tui.tcss` sets and Textual's defaults would not: asserted against a control run.
STYLED = {"sidebar_width": 38, "sidebar_dock": "left", "prompt_border": "round"}

_MARKER = "PROBE-RESULT "
# Runs the app headless in whichever interpreter executes it and prints one JSON line.
PROBE = textwrap.dedent(
    f"""
    import asyncio
    import json
    import sys

    import chat_tui
    import chat_tui.tui.app
    import chat_tui.settings

    if "--without-stylesheet" in sys.argv:
        chat_tui.tui.app.ChatApp.CSS_PATH = None


    async def main() -> None:
        app = chat_tui.tui.app.ChatApp(chat_tui.settings.Settings())
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            sidebar = app.query_one("#sidebar")
            prompt = app.query_one("#prompt")
            facts = {{
                "prefix": sys.prefix,
                "package_file": chat_tui.__file__,
                "css_path": str(chat_tui.tui.app.ChatApp.CSS_PATH),
                "loaded_css": [str(path) for path in app.css_path],
                "sidebar_width": sidebar.outer_size.width,
                "sidebar_dock": sidebar.styles.dock,
                "prompt_border": prompt.styles.border_top[0],
            }}
        print({_MARKER!r} + json.dumps(facts), flush=True)


    asyncio.run(main())
    """
)

# Which of the app and its dependencies a fresh environment can import, before installing.
FIND_MODULES = textwrap.dedent(
    """
    import importlib.util
    import json

    names = ("chat_tui", "textual", "openai", "dotenv", "hatchling")
    print(json.dumps({name: importlib.util.find_spec(name) is not None for name in names}))
    """
)


def _child_env() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_DROPPED_PREFIXES) and name not in _DROPPED_NAMES
    }
    # No user or global pip config, no version check over the network, no prompts.
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    # Keep the checkout and the shared site-packages free of new bytecode files.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(command: Sequence[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    # Name inline scripts briefly: the output below says what went wrong.
    shown = " ".join("<script>" if "\n" in str(part) else str(part) for part in command)
    assert result.returncode == 0, (
        f"{shown} failed ({result.returncode})\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


def _probe(python: Path, cwd: Path, *args: str) -> dict[str, Any]:
    result = _run([python, "-c", PROBE, *args], cwd)
    lines = [line for line in result.stdout.splitlines() if line.startswith(_MARKER)]
    assert len(lines) == 1, f"no probe result in:\n{result.stdout}\n{result.stderr}"
    return json.loads(lines[0].removeprefix(_MARKER))


def _is_inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def _belongs_to_project(name: str) -> bool:
    # The package, its dist-info, and whatever an editable install left behind (.pth, finders).
    return "chat_tui" in name.lower().replace("-", "_")


@pytest.fixture(scope="session")
def pip() -> list[str]:
    try:
        version = metadata.version("pip")
    except metadata.PackageNotFoundError:
        pytest.skip("pip is not installed in the test environment")
    found = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if found < PIP_WITH_PYTHON_OPTION:
        pytest.skip(f"pip {version} has no --python option (needs 22.3 or newer)")
    return [sys.executable, "-m", "pip"]


@pytest.fixture(scope="session")
def wheel(pip: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chat-tui's wheel, built once from the checkout without the network."""
    out = tmp_path_factory.mktemp("wheel")
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", out, REPO],
        out,
    )
    (built,) = out.glob("chat_tui-*.whl")
    return built


@pytest.fixture(scope="session")
def dependencies(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The test environment's site-packages, as symlink mirrors without chat-tui itself.

    A plain path in a fresh environment's .pth would not do: an editable install of this
    checkout puts a bare `chat_tui/chat_tui.tcss` in site-packages (hatchling copies
    force-included files even into editable wheels), and that directory alone makes
    `import chat_tui` succeed as a namespace package.
    """
    paths = sysconfig.get_paths()
    sources = [*site.getsitepackages(), paths["purelib"], paths["platlib"]]
    folders = [
        folder for folder in dict.fromkeys(Path(s).resolve() for s in sources) if folder.is_dir()
    ]
    mirrors: list[Path] = []
    for number, folder in enumerate(folders):
        mirror = tmp_path_factory.mktemp(f"site-{number}")
        for entry in folder.iterdir():
            # .pth files would not run from a mirror anyway; leaving them out says so.
            if _belongs_to_project(entry.name) or entry.suffix == ".pth":
                continue
            try:
                (mirror / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
            except OSError as error:
                pytest.skip(f"cannot create symlinks here: {error}")
        mirrors.append(mirror)
    return mirrors


def _fresh_environment(root: Path, dependencies: list[Path]) -> tuple[Path, Path]:
    """A new virtual environment that sees the dependencies but not chat-tui; (python, purelib)."""
    _run([sys.executable, "-m", "venv", "--without-pip", root / "venv"], root)
    scripts = "Scripts" if os.name == "nt" else "bin"
    python = root / "venv" / scripts / ("python.exe" if os.name == "nt" else "python")
    where = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root)
    purelib = Path(where.stdout.strip())
    lines = "".join(f"{folder}\n" for folder in dependencies)
    (purelib / "test_dependencies.pth").write_text(lines, encoding="utf-8")

    visible = json.loads(_run([python, "-c", FIND_MODULES], root).stdout)
    assert visible == {
        "chat_tui": False,
        "textual": True,
        "openai": True,
        "dotenv": True,
        "hatchling": True,
    }, "the fresh environment must see the dependencies and not the checkout"
    return python, purelib


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    """A working directory with no checkout and no .env in it."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


def test_wheel_carries_the_stylesheet(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        assert WHEEL_STYLESHEET in archive.namelist()
        shipped = archive.read(WHEEL_STYLESHEET)
    assert shipped == TOP_LEVEL_STYLESHEET.read_bytes()


def test_probed_facts_come_only_from_the_stylesheet(empty_dir: Path) -> None:
    # Without this control the checks below could pass on Textual's defaults alone.
    styled = _probe(Path(sys.executable), empty_dir)
    unstyled = _probe(Path(sys.executable), empty_dir, "--without-stylesheet")
    assert {name: styled[name] for name in STYLED} == STYLED
    assert unstyled["loaded_css"] == []
    for name, value in STYLED.items():
        assert unstyled[name] != value, name


def test_stylesheet_applied_from_installed_wheel(
    pip: list[str], wheel: Path, dependencies: list[Path], tmp_path: Path, empty_dir: Path
) -> None:
    python, purelib = _fresh_environment(tmp_path, dependencies)
    _run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel], tmp_path)

    facts = _probe(python, empty_dir)

    assert _is_inside(facts["prefix"], tmp_path / "venv")
    assert _is_inside(facts["package_file"], purelib)
    installed = (purelib / WHEEL_STYLESHEET).resolve()
    assert Path(facts["css_path"]).resolve() == installed
    assert [Path(path).resolve() for path in facts["loaded_css"]] == [installed]
    assert installed.read_bytes() == TOP_LEVEL_STYLESHEET.read_bytes()
    assert {name: facts[name] for name in STYLED} == STYLED


def _editable_build_needs_editables() -> bool:
    # Without dev-mode-dirs, hatchling's editable build imports the `editables` package, which
    # only build isolation would fetch; with them it just writes a .pth file.
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    build = pyproject.get("tool", {}).get("hatch", {}).get("build", {})
    wheel_target = build.get("targets", {}).get("wheel", {})
    return not (wheel_target.get("dev-mode-dirs") or build.get("dev-mode-dirs"))


def test_stylesheet_applied_from_editable_install(
    pip: list[str], dependencies: list[Path], tmp_path: Path, empty_dir: Path
) -> None:
    if _editable_build_needs_editables() and util.find_spec("editables") is None:
        pytest.skip(
            "an offline editable build needs `editables` in the test environment "
            "(or dev-mode-dirs in the hatch config)"
        )
    python, _ = _fresh_environment(tmp_path, dependencies)
    # The build backend runs in the fresh environment and finds hatchling through the mirror.
    _run(
        [
            *pip,
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-e",
            REPO,
        ],
        tmp_path,
    )

    facts = _probe(python, empty_dir)

    assert _is_inside(facts["prefix"], tmp_path / "venv")
    assert Path(facts["package_file"]).resolve() == REPO / "chat_tui" / "__init__.py"
    # The checkout's file, so edits show without reinstalling (not the copy in site-packages).
    assert Path(facts["css_path"]).resolve() == TOP_LEVEL_STYLESHEET
    assert [Path(path).resolve() for path in facts["loaded_css"]] == [TOP_LEVEL_STYLESHEET]
    assert {name: facts[name] for name in STYLED} == STYLED


def test_stylesheet_path_prefers_the_package_copy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A wheel's layout: the stylesheet next to the modules, and another one level up.
    package = tmp_path / "chat_tui"
    package.mkdir()
    (package / STYLESHEET).write_text("/* packaged */\n", encoding="utf-8")
    (tmp_path / STYLESHEET).write_text("/* checkout */\n", encoding="utf-8")
    monkeypatch.setattr(chat_tui.tui.app, "__file__", str(package / "tui" / "app.py"))

    assert stylesheet_path() == (package / STYLESHEET).resolve()


def test_stylesheet_path_fails_loudly_when_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A broken wheel must fail at import, not start an unstyled app.
    package = tmp_path / "chat_tui"
    package.mkdir()
    monkeypatch.setattr(chat_tui.tui.app, "__file__", str(package / "tui" / "app.py"))

    with pytest.raises(FileNotFoundError, match=re.escape(STYLESHEET)):
        stylesheet_path()


# -- the `azure` extra ------------------------------------------------------------------------


def _requirements(names: Iterable[str], extras: set[str]) -> list[Requirement]:
    """The requirements among `names` (Requires-Dist lines) that apply with these extras."""
    wanted = []
    for line in names:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras):
            wanted.append(requirement)
    return wanted


def _closure(requirements: list[Requirement]) -> list[metadata.Distribution]:
    """The installed distributions these requirements need, and theirs, and so on."""
    found: dict[str, metadata.Distribution] = {}
    seen: set[tuple[str, str]] = set()  # (distribution, extra): one may be asked for twice
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"the test environment lacks {requirement.name}, which the wheel needs")
        name = dist.metadata["Name"].lower()
        extras = {extra for extra in {"", *requirement.extras} if (name, extra) not in seen}
        seen |= {(name, extra) for extra in extras}
        found[name] = dist
        if extras:
            todo += _requirements(dist.requires or [], extras)
    return list(found.values())


def _mirror_of(dists: list[metadata.Distribution], folder: Path) -> Path:
    """A site folder holding exactly these distributions' files, as symlinks.

    File by file, not folder by folder: azure-core and azure-identity share the `azure` folder,
    and a folder link would bring in whatever else the test environment put there.
    """
    for dist in dists:
        root = Path(dist.locate_file("")).resolve()
        for entry in dist.files or []:
            if entry.parts[0] == "..":  # console scripts, outside site-packages
                continue
            target = root / entry
            if not target.is_file():
                continue
            link = folder / entry
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(target)
    return folder


def test_entra_sign_in_works_from_the_wheel_with_the_azure_extra(
    pip: list[str], wheel: Path, tmp_path: Path, empty_dir: Path, server: FakeOpenAIServer
) -> None:
    """`pip install 'chat-tui[azure]'` is enough to sign in: nothing it forgot is available."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(name).decode().splitlines()
    requires = [
        line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")
    ]
    needed = _closure(_requirements(requires, {"", "azure"}))
    assert "azure-identity" in {dist.metadata["Name"].lower() for dist in needed}
    mirror = _mirror_of(needed, tmp_path / "site")

    _run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "venv"], tmp_path)
    scripts = tmp_path / "venv" / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    where = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path
    )
    (Path(where.stdout.strip()) / "dependencies.pth").write_text(f"{mirror}\n", encoding="utf-8")
    # pip resolves the extra against what the environment has: the wheel's closure, no more.
    _run([*pip, "--python", python, "install", "--no-index", f"{wheel}[azure]"], tmp_path)

    server.enqueue(TextReply("Signed in from the wheel."))
    with IdentityEndpoint("token-from-the-wheel") as identity:
        env = {
            **_child_env(),
            **identity.environment(),
            "AZURE_OPENAI_ENDPOINT": server.url,
            "AZURE_OPENAI_CHAT_DEPLOYMENT": "my-deployment",
            "CHAT_TUI_AUTH": "entra",
            "CHAT_TUI_CONFIG": str(tmp_path / "no-config.toml"),
            "CHAT_TUI_DATA_DIR": str(tmp_path / "data"),
            "HOME": str(empty_dir),
            "PATH": str(scripts),
        }
        env.pop("AZURE_TOKEN_CREDENTIALS", None)  # the default chain, as a user has it
        result = subprocess.run(
            [scripts / "chat-tui", "ask", "hello"],
            cwd=empty_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "Signed in from the wheel.\n",
        "",
    )
    assert server.last_request.headers["authorization"] == "Bearer token-from-the-wheel"
