"""Connectors: human labels and judge scores from the platforms where they already live.

Each connector reads one platform's records into a :class:`Bundle` of import rows (items, human labels with
their provenance, judge verdicts per run); :func:`import_bundle` writes it through judgekit's own importers in one
transaction. Platform client libraries are optional extras, imported only when a connector needs them.

>>> sorted(CONNECTORS)
['huggingface', 'inspect', 'langfuse', 'langsmith', 'mlflow', 'otel', 'phoenix']
"""

from __future__ import annotations

from dataclasses import dataclass

from judgekit.connectors._base import (
    CORRECTION_KEYS,
    Authorship,
    Bundle,
    ConnectorResult,
    PlatformScore,
    ScoreMapping,
    add_scores,
    import_bundle,
    metadata_provenance,
    parse_value_map,
    value_text,
)


@dataclass(frozen=True)
class Connector:
    """One platform: its name (the ``judgekit import NAME`` subcommand), what it reads, the reader's module and the
    pip extra that brings the platform's own library (``None`` when a documented file format needs none)."""

    name: str
    title: str
    reads: str
    module: str
    extra: str | None


CONNECTORS: dict[str, Connector] = {}
"""Every registered connector by name."""


def register_connector(connector: Connector) -> Connector:
    """Add a connector to :data:`CONNECTORS` (a name can be registered once)."""
    if connector.name in CONNECTORS and CONNECTORS[connector.name] != connector:
        raise ValueError(f"connector {connector.name!r} is already registered")
    CONNECTORS[connector.name] = connector
    return connector


for _c in (
    Connector("langfuse", "Langfuse", "traces + scores (public API JSON)", "judgekit.connectors.langfuse", None),
    Connector(
        "phoenix",
        "Arize Phoenix",
        "spans + span annotations (live or REST JSON)",
        "judgekit.connectors.phoenix",
        "phoenix",
    ),
    Connector("mlflow", "MLflow", "traces + assessments (tracking server)", "judgekit.connectors.mlflow", "mlflow"),
    Connector("langsmith", "LangSmith", "runs + feedback (export JSON)", "judgekit.connectors.langsmith", "langsmith"),
    Connector(
        "inspect", "Inspect AI", ".eval / .json logs (Inspect's reader)", "judgekit.connectors.inspect", "inspect"
    ),
    Connector(
        "otel", "OpenTelemetry GenAI", "gen_ai.evaluation.result events (OTLP JSON)", "judgekit.connectors.otel", None
    ),
    Connector(
        "huggingface",
        "Hugging Face datasets",
        "local files or save_to_disk folders with a column mapping",
        "judgekit.connectors.huggingface",
        "huggingface",
    ),
):
    register_connector(_c)

__all__ = [
    "CONNECTORS",
    "CORRECTION_KEYS",
    "Authorship",
    "Bundle",
    "Connector",
    "ConnectorResult",
    "PlatformScore",
    "ScoreMapping",
    "add_scores",
    "import_bundle",
    "metadata_provenance",
    "parse_value_map",
    "register_connector",
    "value_text",
]
