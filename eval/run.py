"""``make eval``: recall@1, recall@10 and MRR of semantic, keyword and hybrid search, and
answers on planted facts.

    python eval/run.py [--variants] [--failures] [--no-answers] [--json PATH]

Ingests ``eval/corpus`` in-process (see ``harness``), runs every query of ``eval/labels.json`` in
each mode and prints one table per half of the queries (``tune``: the half the fusion settings
were chosen on; ``held-out``: the other half, never used to choose) and for all of them, then
the queries a mode missed, then the answers on planted facts (``answers.py``: the fact stated,
the planted message cited, unsupported claims, before and after the grounding check).
``--variants`` also runs hybrid with other fusion settings (RRF k, list weights, the keyword
list's minimum idf coverage) to compare them on both halves.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import harness  # noqa: E402  (the environment above must be set before the model loads)

# label -> harness.fusion() settings; the first is what the index does now (ranking.py,
# search.py): RRF k=60, lists 100 deep, keyword list at half weight and only for messages that
# match at least 50% of the query's idf mass. A variant changes only what it names.
VARIANTS = {
    "now: RRF k=60, weights 1:0.5, coverage>=0.5": {},
    "RRF k=60, weights 1:0.5, coverage>=0.25 (before)": {"min_coverage": 0.25},
    "RRF k=60, weights 1:1, coverage>=0.25 (first)": {"weights": (1.0, 1.0), "min_coverage": 0.25},
    "plain RRF k=60, weights 1:1": {"weights": (1.0, 1.0), "min_coverage": 0.0},
    "plain RRF k=10, weights 1:1": {"k": 10, "weights": (1.0, 1.0), "min_coverage": 0.0},
    "RRF k=60, weights 1:0.5, no coverage rule": {"min_coverage": 0.0},
    "RRF k=10, weights 1:0.5, coverage>=0.5": {"k": 10},
    "RRF k=60, weights 1:1, coverage>=0.5": {"weights": (1.0, 1.0)},
    "RRF k=60, weights 1:0.33, coverage>=0.5": {"weights": (1.0, 0.33)},
    "RRF k=60, weights 1:0.5, coverage>=0.35": {"min_coverage": 0.35},
    "RRF k=60, weights 1:0.5, coverage>=0.65": {"min_coverage": 0.65},
    "RRF k=60, weights 1:0.5, coverage>=0.5, lists 20 deep": {"depth": 20},
    "convex 0.9 (not RRF), coverage>=0.5": {"fuse": harness.convex_fusion(0.9)},
    "convex 0.9 (not RRF), coverage>=0.25": {
        "fuse": harness.convex_fusion(0.9),
        "min_coverage": 0.25,
    },
}


HALVES = ("tune", "held-out", "all")


def table(rows: list[tuple[str, dict[str, float]]], title: str) -> str:
    width = max(len(label) for label, _ in rows) + 2
    lines = [title, f"{'':{width}}recall@1  recall@10    MRR   better/worse"]
    for label, m in rows:
        lines.append(
            f"{label:{width}}{m['recall@1']:8.3f}  {m['recall@10']:9.3f}  "
            f"{m['mrr']:5.3f}   {m.get('paired', '')}"
        )
    return "\n".join(lines)


def figures(
    outcomes: list[harness.Outcome],
    halves: dict[str, set[str]],
    baseline: list[harness.Outcome] | None = None,
) -> dict[str, dict]:
    """Per half: the metrics, and how many queries rank better / worse than ``baseline``."""
    out = {}
    for half, wanted in halves.items():
        mine = [o for o in outcomes if o.query in wanted]
        out[half] = harness.metrics(mine)
        if baseline is not None:
            theirs = {o.query: o.rank for o in baseline}
            better = sum(_rr(o.rank) > _rr(theirs[o.query]) for o in mine)
            worse = sum(_rr(o.rank) < _rr(theirs[o.query]) for o in mine)
            out[half]["paired"] = f"+{better} -{worse}"
    return out


def _rr(rank: int | None) -> float:
    return 1 / rank if rank else 0.0


def answer_figures(folder: Path, embedder: harness.LocalEmbedder) -> dict:
    """The answers on planted facts (``answers.py``), beside retrieval: printed, returned."""
    import answers

    started = time.perf_counter()
    report = answers.evaluate(folder / "answers", embedder)
    print("\n" + answers.table(report) + f"\n({time.perf_counter() - started:.0f} s)")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", action="store_true", help="compare fusion settings too")
    parser.add_argument("--failures", action="store_true", help="list every mode's misses")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument(
        "--no-answers",
        action="store_true",
        help="skip the answers on planted facts (eval/answers.py, SmolLM2)",
    )
    args = parser.parse_args()

    labels = harness.load_labels()
    files = harness.corpus_files()
    queries = labels["queries"]
    tune, held_out = harness.split(queries)
    halves = {
        half: {q["query"] for q in subset}
        for half, subset in zip(HALVES, (tune, held_out, queries), strict=True)
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chatlens-eval-") as folder:
        corpus = harness.ingest(files, labels["planted"], Path(folder) / "index")
        print(
            f"{corpus.messages} messages from {len(files)} exports "
            f"({corpus.segments} segments), {len(queries)} queries "
            f"({len(tune)} tune, {len(held_out)} held out); "
            f"ingested in {time.perf_counter() - started:.0f} s\n"
        )
        outcomes = {mode: harness.run_queries(corpus, queries, mode) for mode in harness.MODES}
        report: dict = {
            "modes": {
                mode: figures(outcomes[mode], halves, outcomes["semantic"])
                for mode in harness.MODES
            },
            "variants": {},
        }
        for half in HALVES:
            rows = [(mode, report["modes"][mode][half]) for mode in harness.MODES]
            print(
                table(
                    rows,
                    f"{half} ({len(halves[half])} queries; better/worse: "
                    "queries ranked higher/lower than by semantic)",
                )
                + "\n"
            )
        if args.variants:
            for label, settings in VARIANTS.items():
                with harness.fusion(**settings):
                    result = harness.run_queries(corpus, queries, "hybrid")
                report["variants"][label] = figures(result, halves, outcomes["hybrid"])
            for half in HALVES:
                rows = [(label, report["variants"][label][half]) for label in VARIANTS]
                print(table(rows, f"hybrid variants, {half} (better/worse: than now)") + "\n")
        print("misses (not first):" if args.failures else "hybrid misses (not in the top 10):")
        for mode in harness.MODES if args.failures else ("hybrid",):
            for outcome in outcomes[mode]:
                if outcome.rank is None or (args.failures and outcome.rank > 1):
                    print(
                        f"  [{mode}] {outcome.query!r} -> {outcome.finds} "
                        f"rank {outcome.rank or '>10'}; top: {outcome.top[:1]}"
                    )
        if not args.no_answers:
            report["answers"] = answer_figures(Path(folder), corpus.embedder)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
