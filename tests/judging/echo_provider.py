"""A provider defined outside judgekit, as a user's package would define one (see test_providers.py).

The adapter answers every request itself with the rubric's first level (the schema's enum) and counts its calls,
so the tests see which provider the engine used. Importable by name (``tests/judging`` is on ``sys.path``), so a
worker process can unpickle its registration.
"""

from __future__ import annotations

import json
from typing import Any

from judgekit.judging.providers import Capabilities, ModelAdapter, ProviderReply, ProviderRequest, register_provider


class EchoAdapter(ModelAdapter):
    """Replies with the first admissible label; no network."""

    calls = 0

    def __init__(self, model: str, *, provider: str, base_url: str | None = None, **_: Any) -> None:
        self.provider, self.model, self.base_url = provider, model, base_url

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        EchoAdapter.calls += 1
        assert request.schema is not None
        label = request.schema["properties"]["label"]["enum"][0]
        return ProviderReply(text=json.dumps({"rationale": "echo", "label": label}), input_tokens=3, output_tokens=2)


# named by string: the registration is the same object whichever way this module was imported (pytest's doctest
# collection imports it under a second name)
SPEC = register_provider("echo-ext", "echo_provider:EchoAdapter", capabilities=Capabilities(logprobs=False))
