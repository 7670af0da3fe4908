"""Import and export of items, human labels and judge verdicts (JSONL, CSV, pandas DataFrames)."""

from judgekit.io.exporters import export_items, export_labels, export_verdicts, write_export, write_records
from judgekit.io.importers import (
    ImportResult,
    import_items,
    import_items_dataframe,
    import_items_file,
    import_labels,
    import_labels_dataframe,
    import_labels_file,
    import_verdicts,
    import_verdicts_dataframe,
    import_verdicts_file,
    item_from_row,
    label_from_row,
    verdict_from_row,
)
from judgekit.io.rows import Row, dataframe_rows, detect_format, read_rows
from judgekit.io.rubrics import resolve_rubric

__all__ = [
    "ImportResult",
    "Row",
    "dataframe_rows",
    "detect_format",
    "export_items",
    "export_labels",
    "export_verdicts",
    "import_items",
    "import_items_dataframe",
    "import_items_file",
    "import_labels",
    "import_labels_dataframe",
    "import_labels_file",
    "import_verdicts",
    "import_verdicts_dataframe",
    "import_verdicts_file",
    "item_from_row",
    "label_from_row",
    "read_rows",
    "resolve_rubric",
    "verdict_from_row",
    "write_export",
    "write_records",
]
