"""Azure OpenAI, Claude on Bedrock and on Vertex, Gemini: each one registration, through the official SDKs' cloud
clients, over HTTP against the scripted server on 127.0.0.1 (base URLs and static credentials, as far as each
SDK allows: Bedrock's SigV4 signing by boto3 and Vertex's Google OAuth token refresh by google-auth both run for
real, against loopback)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any, ClassVar

import pytest
from batch_server import BatchServer
from fake_llm_server import FakeLLMServer

from conftest import bundled
from judgekit.cli import main
from judgekit.errors import ConfigError, MissingKeyError
from judgekit.judging import build_config, make_adapter, run_judge
from judgekit.judging.options import BatchOptions
from judgekit.judging.providers import get_provider
from judgekit.judging.providers.gemini import GEMINI_OPENAI_URL
from judgekit.storage import Project
from judgekit.testing.llm_http import HTTPReply, json_reply

PASS_FAIL = bundled("helpfulness_pass_fail")


def judge(project: Project, model: str, **kw: Any) -> Any:
    provider, _, name = model.partition(":")
    cfg = build_config(provider, name, PASS_FAIL, confidence=kw.pop("confidence", "none"))
    return run_judge(project, cfg, rubric=PASS_FAIL, progress=False, backoff_base=0.01, limit=3, **kw)


# -- Azure OpenAI ----------------------------------------------------------------------------------------------


def test_azure_routes_to_the_deployment_with_the_api_version_and_key(
    project: Project, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    s = judge(project, "azure:my-gpt-4o", confidence="logprobs")
    assert s.stop_reason == "complete" and s.statuses == {"ok": 3}
    r = server.requests[0]
    assert r.path == "/openai/deployments/my-gpt-4o/chat/completions?api-version=2024-10-21"
    assert r.headers["api-key"] == "azure-key" and "authorization" not in r.headers
    assert r.body["model"] == "my-gpt-4o" and r.body["max_completion_tokens"] == 300
    assert r.body["response_format"]["type"] == "json_schema" and r.body["logprobs"] is True
    assert all(v.confidence is not None for v in project.verdicts(s.run.name))


def test_azure_takes_an_entra_id_token(
    project: Project, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "entra-token")
    s = judge(project, "azure:dep")
    assert s.stop_reason == "complete"
    r = server.requests[0]
    assert r.headers["authorization"] == "Bearer entra-token" and "api-key" not in r.headers
    assert "api-version=2024-10-21" in r.path  # the default when OPENAI_API_VERSION is not set


def test_azure_batch_uses_the_deployment_and_its_url(
    project: Project, batch_server: BatchServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", f"http://127.0.0.1:{batch_server.port}")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key")
    s = judge(project, "azure:global-batch-dep", batch=BatchOptions(poll=0.01, poll_max=0.02))
    assert s.stop_reason == "complete" and s.statuses == {"ok": 3}
    (b,) = batch_server.batches.values()
    assert b.obj["endpoint"] == "/chat/completions"
    assert {line["url"] for line in b.lines} == {"/chat/completions"}
    assert {line["body"]["model"] for line in b.lines} == {"global-batch-dep"}


def test_azure_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingKeyError, match="azure needs credentials: set AZURE_OPENAI_ENDPOINT"):
        make_adapter("azure", "dep")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(MissingKeyError, match=r"set AZURE_OPENAI_API_KEY .* or AZURE_OPENAI_AD_TOKEN"):
        make_adapter("azure", "dep")


# -- Claude on Amazon Bedrock ----------------------------------------------------------------------------------

BEDROCK_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def test_bedrock_signs_with_sigv4_and_invokes_the_model(
    project: Project, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BEDROCK_BASE_URL", server.anthropic_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    s = judge(project, f"bedrock:{BEDROCK_MODEL}")
    assert s.stop_reason == "complete" and s.statuses == {"ok": 3}
    r = server.requests[0]
    assert r.path == f"/model/{BEDROCK_MODEL}/invoke"
    assert re.match(
        r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-west-3/bedrock/aws4_request, SignedHeaders=\S+, "
        r"Signature=[0-9a-f]{64}$",
        r.headers["authorization"],
    )
    assert re.match(r"\d{8}T\d{6}Z$", r.headers["x-amz-date"])
    assert "model" not in r.body and "anthropic_version" in r.body  # moved into the path; the version added
    assert r.body["tool_choice"] == {"type": "tool", "name": "verdict"}
    # priced as the model it is (claude-haiku-4-5), at list price
    assert all(v.cost_usd and v.cost_usd > 0 for v in project.verdicts(s.run.name))


def test_bedrock_api_keys_need_no_boto3(
    project: Project, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BEDROCK_BASE_URL", server.anthropic_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real(name, *a))
    with pytest.raises(ConfigError, match=r"pip install 'judgekit\[bedrock\]'"):
        make_adapter("bedrock", BEDROCK_MODEL)
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key")
    s = judge(project, f"bedrock:{BEDROCK_MODEL}")
    assert s.stop_reason == "complete"
    assert server.requests[0].headers["authorization"] == "Bearer bedrock-api-key"


def test_bedrock_names_what_is_missing(monkeypatch: pytest.MonkeyPatch, project: Project, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingKeyError, match="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        make_adapter("bedrock", BEDROCK_MODEL)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    with pytest.raises(MissingKeyError, match="set AWS_REGION"):
        make_adapter("bedrock", BEDROCK_MODEL)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    code = main(
        ["judge", "--rubric", "rubrics/helpfulness_pass_fail.yaml", "--model", f"bedrock:{BEDROCK_MODEL}",
         "--confidence", "none", "--db", str(project.path)]
    )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "bedrock needs credentials" in err[0] and "AWS_PROFILE" in err[0]
    assert project.runs() == []


# -- Claude on Google Vertex AI --------------------------------------------------------------------------------

VERTEX_MODEL = "claude-haiku-4-5@20251001"


class TokenServer(FakeLLMServer):
    """The scripted server that also answers Google's OAuth token endpoint (``POST /token``) for a service account:
    it checks the signed JWT grant against the account's public key before handing out a token."""

    public_key: Any = None
    refuse = False
    grants: ClassVar[list[dict[str, Any]]] = []

    async def route(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> HTTPReply | None:
        if path != "/token":
            return None
        from urllib.parse import parse_qs

        from google.auth import jwt

        if self.refuse:
            return json_reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        claims = jwt.decode(form["assertion"], certs=self.public_key, verify=True, audience=None)
        self.grants.append(claims)
        return json_reply(200, {"access_token": "ya29.loopback", "expires_in": 3600, "token_type": "Bearer"})


def _vertex_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("ANTHROPIC_VERTEX_BASE_URL", url + "/v1")
    monkeypatch.setenv("CLOUD_ML_REGION", "us-east5")
    monkeypatch.setenv("ANTHROPIC_VERTEX_PROJECT_ID", "my-project")


def test_vertex_routes_to_the_publisher_model_with_an_access_token(
    project: Project, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vertex_env(monkeypatch, server.anthropic_url)
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.static")
    s = judge(project, f"vertex:{VERTEX_MODEL}")
    assert s.stop_reason == "complete" and s.statuses == {"ok": 3}
    r = server.requests[0]
    assert r.path == f"/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/{VERTEX_MODEL}:rawPredict"
    assert r.headers["authorization"] == "Bearer ya29.static"
    assert "model" not in r.body and "anthropic_version" in r.body
    assert all(v.cost_usd and v.cost_usd > 0 for v in project.verdicts(s.run.name))


def _service_account(tmp_path: Path, srv: TokenServer) -> Path:
    """A service-account key file (a fresh RSA key) whose token_uri is ``srv``; ``srv`` learns the public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    srv.public_key = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    srv.grants = []
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "sa-project",
                "private_key_id": "k1",
                "private_key": pem.decode(),
                "client_email": "judge@sa-project.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"http://127.0.0.1:{srv.port}/token",
            }
        )
    )
    return path


def test_vertex_application_default_credentials_refresh_on_loopback(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """google-auth loads a service-account key file (GOOGLE_APPLICATION_CREDENTIALS), signs a JWT grant with it and
    exchanges it at the file's token_uri (the loopback server, which verifies the signature) for the access token
    the Vertex client sends."""
    srv = TokenServer().start()
    try:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_service_account(tmp_path, srv)))
        _vertex_env(monkeypatch, srv.anthropic_url)
        monkeypatch.delenv("ANTHROPIC_VERTEX_PROJECT_ID")  # the key file's project is used
        s = judge(project, f"vertex:{VERTEX_MODEL}")
        assert s.stop_reason == "complete" and s.statuses == {"ok": 3}
        (grant,) = srv.grants  # one token for the whole run
        assert grant["iss"] == "judge@sa-project.iam.gserviceaccount.com" and "cloud-platform" in grant["scope"]
        assert {r.headers["authorization"] for r in srv.requests} == {"Bearer ya29.loopback"}
        assert all("/projects/sa-project/locations/us-east5/" in r.path for r in srv.requests)
    finally:
        srv.stop()


def test_vertex_refused_credentials_are_one_line_before_the_run(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = TokenServer().start()
    srv.refuse = True
    try:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_service_account(tmp_path, srv)))
        _vertex_env(monkeypatch, srv.anthropic_url)
        code = main(
            ["judge", "--rubric", "rubrics/helpfulness_pass_fail.yaml", "--model", f"vertex:{VERTEX_MODEL}",
             "--confidence", "none", "--db", str(project.path)]
        )  # fmt: skip
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "could not give an access token" in err[0] and "invalid_grant" in err[0]
        assert project.runs() == [] and srv.requests == []
    finally:
        srv.stop()


def test_vertex_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingKeyError, match="set CLOUD_ML_REGION"):
        make_adapter("vertex", VERTEX_MODEL)
    monkeypatch.setenv("CLOUD_ML_REGION", "us-east5")
    with pytest.raises(MissingKeyError, match=r"set GOOGLE_APPLICATION_CREDENTIALS .* GOOGLE_OAUTH_ACCESS_TOKEN"):
        make_adapter("vertex", VERTEX_MODEL)
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "t")
    with pytest.raises(MissingKeyError, match="set ANTHROPIC_VERTEX_PROJECT_ID"):
        make_adapter("vertex", VERTEX_MODEL)


# -- Gemini through its OpenAI-compatible endpoint -------------------------------------------------------------


def test_gemini_uses_the_openai_compatible_endpoint(
    project: Project, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    assert make_adapter("gemini", "gemini-2.5-flash").base_url == GEMINI_OPENAI_URL  # Google's, by default
    monkeypatch.setenv("GEMINI_BASE_URL", f"http://127.0.0.1:{server.port}/v1beta/openai/")
    s = judge(project, "gemini:gemini-2.5-flash")
    assert s.stop_reason == "complete" and s.statuses == {"ok": 3}
    r = server.requests[0]
    assert r.path == "/v1beta/openai/chat/completions" and r.headers["authorization"] == "Bearer gemini-key"
    assert r.body["max_tokens"] == 300 and "max_completion_tokens" not in r.body
    assert r.body["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"] == ["pass", "fail"]


def test_gemini_needs_its_key_and_declares_no_logprobs(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingKeyError, match="GEMINI_API_KEY"):
        make_adapter("gemini", "gemini-2.5-flash")
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    with pytest.raises(ConfigError, match="log-probabilities"):
        judge(project, "gemini:gemini-2.5-flash", confidence="logprobs")


@pytest.mark.parametrize("name", ["azure", "bedrock", "vertex", "gemini"])
def test_each_cloud_is_one_registration(name: str) -> None:
    spec = get_provider(name)
    assert isinstance(spec.adapter, str) and spec.adapter.startswith(f"judgekit.judging.providers.{name}:")
    assert spec.preload in (("openai",), ("anthropic",)) and spec.description
