"""docs/cli.md's shell examples are executed, in order, in one empty folder (issue 22, "Done when").

How the page is read (so that an author knows what a test will do with it):

- every fenced block marked ``console``, ``bash``, ``sh`` or ``shell`` is run; other blocks (toml, text)
  are not;
- in a ``console`` block a line ``$ COMMAND`` is a command and the lines under it, up to the next ``$``,
  are what it prints: its stdout, or its stderr when it prints nothing on stdout (training, errors). An
  example whose output starts with ``error:`` must exit with status 2, any other with 0. ``...`` stands for any text and runs of blanks compare equal
  (doctest's ELLIPSIS and NORMALIZE_WHITESPACE); an example with no lines under it only has to succeed;
- in a ``bash`` block every line is a command that must succeed, its output is not compared;
- a command is ``zoo ARGS`` with optional ``NAME=value`` environment prefixes, a ``# comment`` and a
  ``> FILE`` redirect of stdout; ``eval "$(COMMAND)"`` and ``COMMAND | source`` run COMMAND. Commands
  run in this process through ``zoo_core.cli.main`` (a subprocess per command would cost seconds each).
"""

from __future__ import annotations

import doctest
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from zoo_core.cli import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
RUN = ("console", "bash", "sh", "shell")
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
WRAPPED = (re.compile(r'^eval "\$\((.*)\)"(\s+#.*)?$'), re.compile(r"^(.*?)\s*\|\s*source(\s+#.*)?$"))
CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass
class Example:
    line: int  # in docs/cli.md, for the failure message
    command: str
    want: str | None  # None: only the exit status is checked


def examples(text: str) -> list[Example]:
    """Every runnable command of a markdown page, in order, with the output shown under it."""
    out: list[Example] = []
    for block in FENCE.finditer(text):
        lang, body = block.group(1), block.group(2)
        if lang not in RUN:
            continue
        first = text.count("\n", 0, block.start(2)) + 1
        for i, raw in enumerate(body.splitlines()):
            if lang != "console":
                if raw.strip() and not raw.lstrip().startswith("#"):
                    out.append(Example(first + i, raw.strip(), None))
            elif raw.startswith("$ "):
                out.append(Example(first + i, raw[2:].strip(), None))
            elif out and out[-1].line >= first:  # output of the command above
                out[-1].want = (out[-1].want or "") + raw + "\n"
    return out


def parse(command: str) -> tuple[dict[str, str], list[str], str | None]:
    """(environment, argv after ``zoo``, stdout redirect file) of one documented command."""
    for wrapper in WRAPPED:
        if m := wrapper.match(command):
            command = m.group(1)
    words = shlex.split(command, comments=True)
    env = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    redirect = None
    if ">" in words:
        at = words.index(">")
        redirect, words = words[at + 1], words[:at] + words[at + 2:]
    if not words or words[0] != "zoo":
        raise AssertionError(f"docs/cli.md may only run zoo commands, got {command!r}")
    return env, words[1:], redirect


def run(argv: list[str], env: dict[str, str], capsys, monkeypatch) -> tuple[int, str, str]:
    with monkeypatch.context() as m:
        for name, value in env.items():
            m.setenv(name, value)
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_the_parser_reads_commands_outputs_and_shell_forms():
    page = ("text\n```console\n$ zoo list  # all\nname\n  more\n$ zoo info x --json > x.json\n```\n"
            "```toml\nzoo = 1\n```\n```bash\n# a comment\neval \"$(_ZOO_COMPLETE=bash_source zoo)\"  # bash\n"
            "_ZOO_COMPLETE=fish_source zoo | source\n```\n")
    got = examples(page)
    assert [(e.line, e.command, e.want) for e in got] == [
        (3, "zoo list  # all", "name\n  more\n"), (6, "zoo info x --json > x.json", None),
        (13, 'eval "$(_ZOO_COMPLETE=bash_source zoo)"  # bash', None),
        (14, "_ZOO_COMPLETE=fish_source zoo | source", None)]
    assert parse(got[1].command) == ({}, ["info", "x", "--json"], "x.json")
    assert parse(got[2].command) == ({"_ZOO_COMPLETE": "bash_source"}, [], None)
    assert parse(got[3].command) == ({"_ZOO_COMPLETE": "fish_source"}, [], None)
    assert parse('COMP_WORDS="zoo train dc" COMP_CWORD=2 zoo')[0] == {"COMP_WORDS": "zoo train dc", "COMP_CWORD": "2"}
    with pytest.raises(AssertionError, match="only run zoo commands"):
        parse("rm -rf runs")


def test_every_shell_example_of_docs_cli_md_runs_as_shown(tmp_path, capsys, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")  # click and rich wrap the same on any terminal
    todo = examples(DOC.read_text())
    assert len(todo) >= 20, "docs/cli.md lost its examples"
    start = time.perf_counter()
    for ex in todo:
        env, argv, redirect = parse(ex.command)
        code, out, err = run(argv, env, capsys, monkeypatch)
        where = f"docs/cli.md:{ex.line}: `{ex.command}`"
        failed = ex.want is not None and ex.want.startswith("error:")
        assert code == (2 if failed else 0), f"{where} exited {code}\n{err[-2000:]}"
        if redirect:
            (tmp_path / redirect).write_text(out)
        if ex.want is not None:
            got = out if out.strip() else err  # progress and warnings go to stderr
            assert CHECKER.check_output(ex.want, got, FLAGS), f"{where} printed\n{got}\ninstead of\n{ex.want}"
    assert time.perf_counter() - start < 120  # ~30 s on one core; a slow example belongs elsewhere
