"""judgekit's data model: pydantic v2 models at every boundary (files, database, API, CLI)."""

from judgekit.models._base import SCHEMA_VERSION, StrictModel
from judgekit.models.item import RISK_TIERS, Item, ItemMetadata, RiskTier, canonical_json
from judgekit.models.judge import (
    VERDICT_STATUSES,
    ConfidenceSource,
    FewShotStrategy,
    JudgeConfig,
    JudgeRun,
    JudgeVerdict,
    VerdictStatus,
)
from judgekit.models.keys import VersionedKey, parse_key
from judgekit.models.label import PROVENANCES, HumanLabel, Provenance
from judgekit.models.rubric import (
    ConfidenceSpec,
    Criterion,
    FewShotExample,
    Level,
    Rubric,
    Scale,
    load_rubric,
    rubric_from_dict,
    rubric_json_schema,
    rubric_json_schema_text,
)

__all__ = [
    "PROVENANCES",
    "RISK_TIERS",
    "SCHEMA_VERSION",
    "VERDICT_STATUSES",
    "ConfidenceSource",
    "ConfidenceSpec",
    "Criterion",
    "FewShotExample",
    "FewShotStrategy",
    "HumanLabel",
    "Item",
    "ItemMetadata",
    "JudgeConfig",
    "JudgeRun",
    "JudgeVerdict",
    "Level",
    "Provenance",
    "RiskTier",
    "Rubric",
    "Scale",
    "StrictModel",
    "VerdictStatus",
    "VersionedKey",
    "canonical_json",
    "load_rubric",
    "parse_key",
    "rubric_from_dict",
    "rubric_json_schema",
    "rubric_json_schema_text",
]
