"""The README and the docs stand alone: every command they show names a real make target,
manage.py command and option, module or route, every path they name is in the repository, and
nothing sends the reader outside it. Cheap: nothing is run but `make -n`, nothing is fetched."""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import get_commands, load_command_class
from django.urls import Resolver404, resolve

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ["README.md", "SECURITY.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))]
# Programs a reader brings along; the docs say where they come from.
EXTERNAL = {"oathtool", "apt-get", "psql", "pg_ctlcluster", "redis-cli"}
# Inline code that starts like one of these is a command, not a name or a value.
COMMAND_START = re.compile(
    r"^(?:[A-Z_]+=\S*\s+)*(?:make|python3?|\.venv/bin/python|manage\.py|curl|celery|gunicorn|"
    r"pip|\.ci/run|oathtool|apt-get)(?=\s)"
)
ASSIGNMENT = re.compile(r"^([A-Z_][A-Z0-9_]*)=(.*)$", re.S)


def path_of(name: str) -> Path:
    return ROOT / "docs" / name if (ROOT / "docs" / name).exists() else ROOT / name


def text_of(name: str) -> str:
    return path_of(name).read_text()


def shell_lines(text: str) -> list[str]:
    """The commands of the ```sh blocks, continuation lines joined, comments dropped."""
    lines: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
        for raw in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", raw).strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def inline_commands(text: str) -> list[str]:
    """Inline code spans that are commands (`make token FOR=ciso`, `manage.py verify_audit`)."""
    spans = re.findall(r"(?<!`)`([^`\n]+)`(?!`)", text)
    return [span for span in spans if COMMAND_START.match(span)]


def simple_commands(line: str) -> list[str]:
    """A line split into the simple commands it runs: `a && b`, and `$(...)` substitutions."""
    inner = re.findall(r"\$\(([^()]*)\)", line)
    lexer = shlex.shlex(
        re.sub(r"\$\([^()]*\)", "SUBSTITUTED", line), posix=True, punctuation_chars="&|;"
    )
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in {"&&", "||", ";", "|"}:
            commands.append([])
        else:
            commands[-1].append(token)
    found = [shlex.join(words) for words in commands if words]
    return found + [command for part in inner for command in simple_commands(part)]


def known_variable(name: str) -> bool:
    """An environment or make variable the project reads somewhere."""
    sources = [ROOT / "Makefile", ROOT / "tests" / "conftest.py", *ROOT.glob("config/*.py")]
    sources += list(ROOT.glob("bench/*.py"))
    return any(re.search(rf"\b{name}\b", source.read_text()) for source in sources)


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", text, re.M))


def check_manage(args: list[str]) -> None:
    """A manage.py command that exists, with options it takes (placeholders like USER pass)."""
    assert args, "manage.py without a command"
    name, rest = args[0], args[1:]
    commands = get_commands()
    assert name in commands, f"manage.py has no command {name!r}"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    known = {option for action in parser._actions for option in action.option_strings}
    for word in rest:
        option = word.strip("[]").split("=", 1)[0]
        if option.startswith("--"):
            assert option in known, f"manage.py {name} takes no {option}"


def check_make(args: list[str]) -> None:
    words = [w for w in args if not w.startswith("-")]
    targets = [w for w in words if not ASSIGNMENT.match(w)]
    assert targets, "make without a target (the README always names one)"
    for target in targets:
        assert target in make_targets(), f"the Makefile has no target {target!r}"
    for word in words:
        if match := ASSIGNMENT.match(word):
            assert known_variable(match.group(1)), (
                f"make {targets}: {match.group(1)} is read nowhere"
            )


def check_python(args: list[str]) -> None:
    if args[:1] == ["manage.py"]:
        check_manage(args[1:])
    elif args[:1] == ["-m"]:
        assert importlib.util.find_spec(args[1]) is not None, f"no module {args[1]!r}"
    elif args[:1] == ["-c"]:
        compile(args[1], "<README>", "exec")
    else:
        pytest.fail(f"python {' '.join(args)}: not a form this test knows")


def check_url(url: str) -> None:
    parts = urlsplit(url)
    assert parts.hostname in {"127.0.0.1", "localhost"}, url
    try:
        resolve(parts.path)
    except Resolver404:
        pytest.fail(f"{url}: no such route")


def check_export(args: list[str]) -> None:
    for word in args:
        match = ASSIGNMENT.match(word)
        assert match and known_variable(match.group(1)), f"export of an unknown {word}"


def check_pip(args: list[str]) -> None:
    assert args[:1] == ["install"] and args[1:] in (["."], [".[dev]"]), args


def check_gunicorn(args: list[str]) -> None:
    assert importlib.util.find_spec(args[0]) is not None, f"gunicorn: no module {args[0]!r}"


def check_celery(args: list[str]) -> None:
    assert args[:2] == ["-A", "config"] and args[2] in {"worker", "beat"}, args
    assert importlib.util.find_spec("config.celery") is not None


def check_curl(args: list[str]) -> None:
    urls = [a for a in args if a.startswith("http")]
    assert urls, args
    for url in urls:
        check_url(url)


def check_activate(args: list[str]) -> None:
    assert args == [".venv/bin/activate"], args  # made by the venv command before it


def check_ci(args: list[str]) -> None:
    assert (ROOT / ".ci" / "run").exists()


CHECKS = {
    "export": check_export,
    "make": check_make,
    "python": check_python,
    "python3": check_python,
    ".venv/bin/python": check_python,
    "manage.py": check_manage,
    "pip": check_pip,
    "gunicorn": check_gunicorn,
    "celery": check_celery,
    "curl": check_curl,
    ".": check_activate,
    ".ci/run": check_ci,
}


def check_command(command: str) -> None:
    """One simple command, read as a shell would (placeholders like USER and N pass)."""
    words = shlex.split(command)
    names = []
    while words and (match := ASSIGNMENT.match(words[0])):
        names.append(match.group(1))
        words.pop(0)
    if not words:
        return  # the reader's own shell variable (TOKEN=$(...)); its command is checked apart
    for name in names:
        assert known_variable(name), f"{command}: {name} is read nowhere"
    program, args = words[0], words[1:]
    if program in CHECKS:
        CHECKS[program](args)
    else:
        assert program in EXTERNAL, f"{command}: a program this test does not know"


def all_commands() -> list[tuple[str, str]]:
    found = []
    for name in DOCUMENTS:
        text = text_of(name)
        for line in shell_lines(text) + inline_commands(text):
            found += [(name, command) for command in simple_commands(line)]
    return list(dict.fromkeys(found))  # each once, in the order the reader meets them


def test_the_readme_shows_its_commands():
    """The extraction itself works: the two commands, the token, production's processes."""
    commands = {command for name, command in all_commands() if name == "README.md"}
    assert {"make run", "make test", "make -s token FOR=ciso"} <= commands
    assert "python manage.py migrate" in commands
    assert any(c.startswith("gunicorn config.wsgi") for c in commands)
    assert any(c.startswith("curl ") for c in commands)


@pytest.mark.parametrize(("document", "command"), all_commands())
def test_every_command_names_something_real(document, command):
    check_command(command)


@pytest.mark.parametrize(
    "command",
    sorted({c for _, c in all_commands() if re.match(r"^(?:[A-Z_]+=\S*\s+)*make\s", c)}),
)
def test_every_make_command_parses(command):
    require_service("make", shutil.which("make") is not None)  # a failure in CI, never a skip
    """make -n prints what the command would run, and runs nothing."""
    words = shlex.split(command)
    assignments = [w for w in words if ASSIGNMENT.match(w) and words.index(w) < words.index("make")]
    args = [w for w in words[words.index("make") + 1 :] if w != "-s"]
    result = subprocess.run(
        ["make", "-n", "-C", str(ROOT), *args, *assignments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_missing_make_target_or_command_is_caught():
    """The checks can fail: a renamed target, command or option would not slip through."""
    for bad in ["make tokens FOR=ciso", "python manage.py issue_token ciso", "make run NOPE=1"]:
        with pytest.raises(AssertionError):
            check_command(bad)
    with pytest.raises(AssertionError):
        check_manage(["issue_api_token", "ciso", "--weeks", "2"])
    with pytest.raises(pytest.fail.Exception):
        check_url("http://127.0.0.1:8000/api/v1/no-such-thing/")


def repository_paths(text: str) -> set[str]:
    """Paths in inline code whose first folder is one of the repository's own."""
    tops = {p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in {"var", ".venv"}}
    spans = re.findall(r"`([^`\s]+)`", text)
    return {
        span.rstrip(".,;:")
        for span in spans
        if "/" in span
        and span.split("/", 1)[0] in tops
        and not any(ch in span for ch in "{}<>*?=$")
    }


def api_path(span: str) -> bool:
    """`systems/match/` in the API's table is a route under /api/v1/, not a folder."""
    try:
        resolve("/api/v1/" + span)
    except Resolver404:
        return False
    return True


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_path_and_link_is_in_the_repository(document):
    text = text_of(document)
    base = path_of(document).parent
    missing = [
        p for p in sorted(repository_paths(text)) if not (ROOT / p).exists() and not api_path(p)
    ]
    assert not missing, f"{document} names paths the repository does not have: {missing}"
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        resolved = (base / target.split("#", 1)[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{document} links outside the repository: {target}"
        assert resolved.exists(), f"{document} links to a missing {target}"


@pytest.mark.parametrize("document", DOCUMENTS)
def test_nothing_sends_the_reader_outside_the_repository(document):
    text = text_of(document)
    assert "../" not in text, f"{document} points outside the repository"
    assert "/work/" not in text
    assert not re.search(r"\b(?:DESIGN|STYLE)\.md\b", text), f"{document} cites a design file"


def test_the_code_cites_no_file_outside_the_repository():
    """Comments and docstrings point at docs/architecture.md, not at files a clone lacks."""
    tops = [p for p in ROOT.iterdir() if p.name not in {".venv", "var", ".git"}]
    files = [p for top in tops for p in ([top] if top.is_file() else top.rglob("*"))]
    cited = []
    for path in files:
        if path.suffix not in {".py", ".toml", ".html", ".txt", ".cfg"} and path.name != "Makefile":
            continue
        if path == Path(__file__) or "egg-info" in str(path):
            continue
        if re.search(r"\b(?:DESIGN|STYLE)\.md\b|\.\./shared", path.read_text()):
            cited.append(str(path.relative_to(ROOT)))
    assert not cited, f"these cite files outside the repository: {cited}"
