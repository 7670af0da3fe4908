"""Shared configuration of judgekit's boundary models."""

from __future__ import annotations

from typing import Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

#: Version of the serialised form of items, labels and verdicts (JSONL/CSV exports and the database rows).
#: Bump it, and add a reader for the old version, whenever a field changes meaning or is removed.
SCHEMA_VERSION: Final = 1


class StrictModel(BaseModel):
    """Strict pydantic model: unknown fields are refused, types are not coerced, instances are frozen.

    Why: a typo in a field name (``segmnet``) or a number where a string is expected must fail loudly at the
    boundary instead of producing a silently different analysis. Loaders that read text formats (CSV) validate
    with ``strict=False`` explicitly, field by field, so coercion happens only where the format forces it.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, ser_json_inf_nan="constants")


class OmitNewDefaults(StrictModel):
    """A model whose fields added after its records were first stored are left out of its serialised form while
    they hold their defaults (``_omit_at_default``: field name -> default).

    Why: stored records are compared and keyed by their JSON (a re-imported rubric version with the stored one, an
    imported label by a hash of its record); a record written before a field existed must serialise byte for byte
    as it did, or an unchanged rubric would be "changed" and an imported label imported again."""

    _omit_at_default: ClassVar[dict[str, Any]] = {}

    @model_serializer(mode="wrap")
    def _omit_new_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name, default in self._omit_at_default.items():
                if name in data and data[name] == default:
                    del data[name]
        return data
