"""The provider registry: one registration (name, adapter, capabilities) is the whole recipe, from outside the
package, through the Python API, the CLI and worker processes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import echo_provider
import pytest

from conftest import ROOT, bundled, single_items
from judgekit.cli import main
from judgekit.errors import ConfigError
from judgekit.judging import build_config, run_judge
from judgekit.judging.providers import (
    find_provider,
    get_provider,
    provider_names,
    register_provider,
    split_model_spec,
    unregister_provider,
)
from judgekit.judging.providers import registry as registry_module
from judgekit.storage import Project

PASS_FAIL = bundled("helpfulness_pass_fail")


def _docs_recipe() -> str:
    text = (ROOT / "docs" / "judging.md").read_text(encoding="utf-8")
    section = text.split("### Adding a provider", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


@pytest.fixture
def docs_provider() -> Iterator[str]:
    """The provider exactly as docs/judging.md registers it."""
    namespace: dict[str, object] = {"__name__": "docs_recipe"}
    exec(compile(_docs_recipe(), "docs/judging.md", "exec"), namespace)
    try:
        yield "echo"
    finally:
        unregister_provider("echo")


def test_the_documented_recipe_runs_a_judge(project: Project, docs_provider: str) -> None:
    assert split_model_spec("echo:my-model") == ("echo", "my-model")
    cfg = build_config("echo", "my-model", PASS_FAIL, confidence="none")
    s = run_judge(project, cfg, rubric=PASS_FAIL, progress=False)
    assert s.stop_reason == "complete" and s.statuses == {"ok": 12}
    assert {v.label for v in project.verdicts(s.run.name)} == {"pass"}


def test_declared_capabilities_are_checked_before_any_call(project: Project, docs_provider: str) -> None:
    with pytest.raises(ConfigError, match="log-probabilities"):
        run_judge(project, build_config("echo", "m", PASS_FAIL, confidence="logprobs"), rubric=PASS_FAIL)
    with pytest.raises(ConfigError, match="seed"):
        cfg = build_config("echo", "m", PASS_FAIL, confidence="none", parameters={"seed": 3})
        run_judge(project, cfg, rubric=PASS_FAIL)
    assert project.runs() == []


def test_the_cli_knows_a_registered_provider(project: Project, docs_provider: str, capsys) -> None:  # type: ignore[no-untyped-def]
    rubric = str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml")
    args = ["judge", "--rubric", rubric, "--model", "echo:m", "--confidence", "none", "--quiet"]
    args += ["--db", str(project.path)]
    code = main(args)
    assert code == 0, capsys.readouterr().err
    assert "echo" in " ".join(provider_names())
    unregister_provider("echo")
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and "PROVIDER one of" in err and "anthropic" in err


def test_a_provider_from_another_package_runs_in_worker_processes(project: Project) -> None:
    """``echo_provider`` is a module outside judgekit; its registration reaches the worker processes."""
    items = single_items(120, prefix="ext")
    project.add_items(items)
    cfg = build_config("echo-ext", "m", PASS_FAIL, confidence="none")
    s = run_judge(project, cfg, rubric=PASS_FAIL, items=items, concurrency=4, workers=2, progress=False)
    assert s.statuses == {"ok": 120} and len(s.workers) == 2, s.workers
    assert get_provider("echo-ext") == echo_provider.SPEC


def test_registration_rules() -> None:
    spec = get_provider("openai")
    assert spec.capabilities.logprobs and spec.capabilities.seed and not get_provider("anthropic").capabilities.logprobs
    with pytest.raises(ConfigError, match="already registered"):
        register_provider("openai", echo_provider.EchoAdapter)
    assert (
        register_provider(
            "openai", spec.adapter, capabilities=spec.capabilities, preload=spec.preload, description=spec.description
        )
        == spec
    )  # the same registration again: a no-op
    with pytest.raises(ConfigError, match="':'"):
        register_provider("a:b", echo_provider.EchoAdapter)
    with pytest.raises(ConfigError, match="unknown provider 'nope'"):
        get_provider("nope")


def test_entry_points_register_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A package registers its provider through the ``judgekit.providers`` entry-point group."""

    class EntryPoint:
        name, value = "plugin", "plugin_module:register"

        def load(self):  # type: ignore[no-untyped-def]
            return lambda: register_provider("from-plugin", echo_provider.EchoAdapter)

    import importlib.metadata

    monkeypatch.setattr(registry_module, "_entry_points_loaded", False)
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda group: [EntryPoint()] if group == "judgekit.providers" else []
    )
    try:
        assert find_provider("from-plugin") is not None
    finally:
        unregister_provider("from-plugin")


def test_nothing_else_lists_providers() -> None:
    """The registry is the only table of providers: no module of judgekit names a provider outside it, apart from
    the adapters' own defaults."""
    pkg = ROOT / "judgekit" / "judging"
    offenders = []
    for path in pkg.rglob("*.py"):
        if path.name in ("registry.py", "openai.py", "anthropic.py"):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"""["']openai-compatible["']\s*:|["']anthropic["']\s*:\s*[\[{(]""", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_bundled_adapters_are_imported_lazily() -> None:
    assert isinstance(get_provider("openai").adapter, str)  # "module:Class": no SDK imported by registering
    assert Path(get_provider("anthropic").factory().__module__.replace(".", "/") + ".py").name == "anthropic.py"
