"""Developer sessions: ``nox -s tests`` (the README's test command), ``lint``, ``build``, ``installability``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file())
# what each plugin registers, checked after installing it alone
EXPECTED = {"zoo-ddpm": {"ddpm"}, "zoo-iddpm": {"ddpm", "iddpm"}, "zoo-dcgan": {"dcgan"},
            "zoo-pggan": {"pggan"}, "zoo-stackgan": {"stackgan"}}
nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """Install zoo-core and every plugin (editable) and run the whole test suite."""
    session.install("-e", ".[test]", *[arg for p in PLUGINS for arg in ("-e", str(p))])
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "zoo_core", "plugins", "tests", "benchmarks", "noxfile.py")


@nox.session
def build(session: nox.Session) -> None:
    """A wheel and an sdist for each of the distributions into dist/."""
    session.install("build")
    shutil.rmtree(ROOT / "dist", ignore_errors=True)
    for project in [ROOT, *PLUGINS]:
        session.run("python", "-m", "build", "--outdir", str(ROOT / "dist"), str(project))


@nox.session
def installability(session: nox.Session) -> None:
    """Each plugin installs alone: with only zoo-core and that plugin, `zoo list` shows exactly its models,
    and installing the plugin from a wheelhouse pulls in zoo-core.

    `zoo list` imports no torch, so these environments hold zoo-core's light dependencies only.
    """
    dist = ROOT / "dist" / "wheels"
    shutil.rmtree(dist, ignore_errors=True)
    session.install("pip>=23")
    for project in [ROOT, *PLUGINS]:
        session.run("pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(project),
                    external=False)
    session.install("click", "rich", "pluggy")
    core = next(dist.glob("zoo_core-*.whl"))
    for plugin in PLUGINS:
        name = plugin.name
        wheel = next(dist.glob(name.replace("-", "_") + "-*.whl"))
        session.run("pip", "uninstall", "-y", "-q", *[p.name for p in PLUGINS], "zoo-core")
        deps = [w for w in dist.glob("zoo_*.whl") if w.name.startswith("zoo_ddpm")] if name == "zoo-iddpm" else []
        session.install("--no-deps", str(core), str(wheel), *map(str, deps))
        out = session.run("zoo", "list", "--json", silent=True)
        names = {row["name"] for row in json.loads(out)}
        if names != EXPECTED[name]:
            session.error(f"{name} alone lists {sorted(names)}, expected {sorted(EXPECTED[name])}")
        report = ROOT / "dist" / f"{name}-resolve.json"
        session.run("pip", "install", "--dry-run", "--ignore-installed", "-q", "--find-links", str(dist),
                    "--report", str(report), name)
        resolved = {item["metadata"]["name"] for item in json.loads(report.read_text())["install"]}
        if "zoo-core" not in resolved:
            session.error(f"installing {name} from the wheelhouse does not pull in zoo-core")
        session.log(f"{name}: alone lists {sorted(names)}; its install pulls in zoo-core")
