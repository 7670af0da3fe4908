"""Running LLM judges: providers, prompts, structured replies, pacing, caching, resumable runs, probes, ensembles.

Importing this package imports no provider SDK; ``openai`` / ``anthropic`` are loaded when a run starts.

Module map (each imports only modules above it in this list, never the reverse):

* ``providers/`` -- the provider registry (``register_provider``), the adapter contract, the SDK adapters
* ``options`` -- :class:`RunOptions`, how a run is carried out (one frozen type, stored with the run)
* ``items`` -- which items a run judges (selection, variants for probes, chunks)
* ``request`` -- the request template of a run and its cache keys; ``cache`` -- the response cache (``llm_cache``)
* ``prompts``, ``schema``, ``parse``, ``confidence``, ``fewshot``, ``pricing`` -- what the judge sees and how
  replies are read and priced
* ``pacing``, ``budget``, ``counts`` -- limits, money and counters
* ``calls`` -- one provider call (cache, single-flight, pacing, retries); ``verdicts`` -- replies to verdicts
* ``engine`` -- one process's judging of a run (asyncio judge tasks); ``processes`` -- several worker processes
* ``run`` -- :func:`run_judge` / :func:`arun_judge`, the entry point; ``progress`` -- the progress display
* ``probes``, ``ensemble``, ``compare``, ``cli_support`` -- built on runs
"""

from judgekit.judging.cache import ResponseCache, cache_key
from judgekit.judging.config import build_config
from judgekit.judging.items import ItemVariant, select_items
from judgekit.judging.options import RunOptions
from judgekit.judging.pricing import DEFAULT_PRICES, Price, PriceTable
from judgekit.judging.prompts import build_messages, escape_markers, item_block
from judgekit.judging.providers import Capabilities, make_adapter, register_provider, split_model_spec
from judgekit.judging.run import RunSummary, arun_judge, run_judge

__all__ = [
    "DEFAULT_PRICES",
    "Capabilities",
    "ItemVariant",
    "Price",
    "PriceTable",
    "ResponseCache",
    "RunOptions",
    "RunSummary",
    "arun_judge",
    "build_config",
    "build_messages",
    "cache_key",
    "escape_markers",
    "item_block",
    "make_adapter",
    "register_provider",
    "run_judge",
    "select_items",
    "split_model_spec",
]
