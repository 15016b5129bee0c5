"""The README and docs/ as a reader meets them: links resolve, code runs, commands parse, the CLI reference is whole.

- every relative link (and image) in README.md and docs/ points at an existing file, and its #anchor at a heading
  there (the slug GitHub and MkDocs both give it);
- every repository path named in code (scripts/, benchmarks/, assets/, tests/, docs/) exists, so each figure's
  provenance can be followed; `test_*.py` names exist somewhere under tests/;
- the README holds the two set-up commands;
- mkdocs.yml's nav lists every page of docs/ and only existing pages;
- every ```python block runs on its own, in a fresh namespace (a block whose first line is `# not run: <reason>`
  is skipped);
- every `dither-lab ...` (or `-m dither_lab ...`) line of a ```bash block parses with the CLI's parser, unrun;
- docs/cli.md has one section per command of the parser, and each section's table lists exactly its arguments.
"""

from __future__ import annotations

import argparse
import re
import shlex
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]

FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]+`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
REPO_PATH = re.compile(r"(?<![\w/.-])((?:scripts|benchmarks|assets|tests|docs)/[\w./*<>-]*)")
TEST_NAME = re.compile(r"(?<![\w/.-])(test_\w+\.py)\b")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _blocks(path: Path, *langs: str) -> list[tuple[int, str]]:
    """Fenced code blocks of the given languages: (line number, body)."""
    text = _text(path)
    return [(text.count("\n", 0, m.start()) + 1, m.group(2)) for m in FENCE.finditer(text) if m.group(1) in langs]


def _prose(text: str) -> str:
    """The text without fenced blocks and inline code, where links live."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def _code(text: str) -> str:
    """Fenced blocks and inline code: where commands and file names are written."""
    return "\n".join([m.group(2) for m in FENCE.finditer(text)] + INLINE_CODE.findall(FENCE.sub("", text)))


# ----------------------------------------------------------------------------------------------------- anchors


def _slug_github(title: str) -> str:
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def _slug_mkdocs(title: str) -> str:  # Python-Markdown's toc.slugify with its default separator
    value = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", value).strip().lower())


def _anchors(path: Path, slug) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for m in HEADING.finditer(FENCE.sub("", _text(path))):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(2)).replace("`", "")
        base = slug(title)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def _links(path: Path) -> list[str]:
    return [t for t in LINK.findall(_prose(_text(path))) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_relative_links_resolve(page):
    broken = []
    for target in _links(page):
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest}")
            continue
        if anchor:
            if dest.suffix != ".md":
                broken.append(f"{target}: an anchor into a file that is not Markdown")
            elif anchor not in _anchors(dest, _slug_github) or anchor not in _anchors(dest, _slug_mkdocs):
                broken.append(f"{target}: no heading #{anchor} in {_rel(dest)}")
    assert not broken, f"{_rel(page)}: " + "; ".join(broken)


def test_links_are_checked():  # the link pattern finds links at all: a regression here would pass everything
    assert "docs/cli.md" in _links(ROOT / "README.md")
    assert any(t.endswith("image_lab.png") for t in _links(ROOT / "README.md"))
    assert any("#" in t for page in PAGES for t in _links(page))


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_repository_paths_in_code_exist(page):
    code = _code(_text(page))
    missing = []
    for raw in set(REPO_PATH.findall(code)):
        path = raw.rstrip(".,:;")
        pattern = re.sub(r"<[^>]*>", "*", path)
        if not (list(ROOT.glob(pattern)) if "*" in pattern else (ROOT / pattern).exists()):
            missing.append(path)
    for name in set(TEST_NAME.findall(code)):
        if not list((ROOT / "tests").rglob(name)):
            missing.append(f"tests/**/{name}")
    assert not missing, f"{_rel(page)} names files that do not exist: {sorted(missing)}"


# ------------------------------------------------------------------------------------------------ README, nav


def test_readme_has_the_two_setup_commands():
    commands = "\n".join(body for _, body in _blocks(ROOT / "README.md", "bash"))
    assert re.search(r"^make app\b", commands, re.M) and re.search(r"^make test\b", commands, re.M)


def _nav_pages() -> list[str]:
    """The page paths of mkdocs.yml's nav (read without a YAML library: `- Title: page.md` lines)."""
    text = _text(ROOT / "mkdocs.yml")
    nav = re.search(r"^nav:\s*\n((?:[ \t]+.*\n?|\s*\n)*)", text, re.M)
    assert nav, "mkdocs.yml has no nav"
    return re.findall(r"^\s*-\s*(?:[^:\n]+:\s*)?([\w./-]+\.md)\s*$", nav.group(1), re.M)


def test_mkdocs_nav_lists_every_page_and_only_existing_ones():
    nav = _nav_pages()
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert len(nav) == len(set(nav)), f"pages listed twice: {sorted(p for p in nav if nav.count(p) > 1)}"
    assert not set(nav) - on_disk, f"nav lists missing pages: {sorted(set(nav) - on_disk)}"
    assert not on_disk - set(nav), f"pages not in the nav: {sorted(on_disk - set(nav))}"
    assert re.search(r"^docs_dir:\s*docs\s*$", _text(ROOT / "mkdocs.yml"), re.M)


# ----------------------------------------------------------------------------------------------- Python blocks

PYTHON_BLOCKS = [(page, line, body) for page in PAGES for line, body in _blocks(page, "python")]


def test_there_are_python_blocks():
    assert len(PYTHON_BLOCKS) >= 5 and any(p.name == "README.md" for p, _, _ in PYTHON_BLOCKS)


@pytest.mark.parametrize(("page", "line", "body"), PYTHON_BLOCKS, ids=[f"{_rel(p)}:{n}" for p, n, _ in PYTHON_BLOCKS])
def test_python_block_runs(page, line, body):
    if body.lstrip().startswith("# not run:"):
        pytest.skip(body.lstrip().splitlines()[0])
    exec(compile(body, f"{_rel(page)}:{line}", "exec"), {"__name__": "__docs__"})


# ------------------------------------------------------------------------------------------------- the CLI


def _parser():
    from dither_lab.cli import build_parser

    return build_parser()


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[str, argparse.ArgumentParser]:
    """Every runnable command ('kernel make', 'evaluate', ...) -> its parser."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {" ".join(path): parser}
    out = {}
    for name, sub in subs[0].choices.items():
        out |= _commands(sub, (*path, name))
    return out


def _command_lines(body: str) -> list[list[str]]:
    """The argument lists of the dither-lab commands in a shell block (continuations joined, comments cut)."""
    out = []
    for line in body.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["dither-lab"]:
            out.append(words[1:])
        elif "-m" in words and words[words.index("-m") + 1 : words.index("-m") + 2] == ["dither_lab"]:
            out.append(words[words.index("-m") + 2 :])
    return out


SHELL_COMMANDS = [(page, args) for page in PAGES for _, body in _blocks(page, "bash", "sh", "shell")
                  for args in _command_lines(body)]


def test_there_are_shell_commands():
    assert len({args[0] for _, args in SHELL_COMMANDS}) >= 10


@pytest.mark.parametrize(("page", "args"), SHELL_COMMANDS, ids=[f"{_rel(p)}: {' '.join(a)}" for p, a in SHELL_COMMANDS])
def test_shell_command_parses(page, args):
    from dither_lab.cli import CliError

    try:
        ns = _parser().parse_args(args)
    except CliError as exc:
        pytest.fail(f"{_rel(page)}: dither-lab {' '.join(args)}: {exc}")
    assert callable(ns.func)


def _cli_sections() -> dict[str, str]:
    text = _text(DOCS / "cli.md")
    parts = re.split(r"^## dither-lab (.+?)\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _documented_arguments(section: str) -> set[str]:
    """The first cells of the section's argument table: option strings and upper-case positional names."""
    out = set()
    for cell in re.findall(r"^\|\s*`([^`]+)`\s*\|", section, re.M):
        for word in re.split(r"[,\s]+", cell):
            if word.startswith("-") or re.fullmatch(r"[A-Z][A-Z_]*", word) and word == cell.split()[0]:
                out.add(word)
    return out


def test_cli_reference_has_a_section_per_command():
    commands, sections = set(_commands(_parser())), set(_cli_sections())
    assert not commands - sections, f"commands missing from docs/cli.md: {sorted(commands - sections)}"
    assert not sections - commands, f"docs/cli.md documents commands that do not exist: {sorted(sections - commands)}"


@pytest.mark.parametrize("command", sorted(_commands(_parser())))
def test_cli_reference_lists_each_argument(command):
    parser = _commands(_parser())[command]
    actual = set()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        actual |= set(action.option_strings) if action.option_strings else {action.dest.upper()}
    documented = _documented_arguments(_cli_sections().get(command, ""))
    assert documented == actual, (f"docs/cli.md, dither-lab {command}: missing {sorted(actual - documented)}, "
                                  f"not in the parser {sorted(documented - actual)}")
