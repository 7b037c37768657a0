"""Answer quality on planted facts: does ``/ask``'s path state the fact, cite its message, and
never contradict its own citations?

    python eval/answers.py [--raw] [--json PATH]

Three sets of (question, fact, planted message): ``bench`` is ``bench/generation_bench.py``'s
15 planted questions; ``held-out`` is 10 facts written for this check before the grounding
rules were run on it (one of its answers then shaped a rule, see ``HELD_OUT_2``);
``held-out-2`` is 6 facts written after that and never used to tune. All are planted by one
person ("Renata Ferreira") in a synthetic team chat (``bench/gen_whatsapp.py``, 600 messages,
seed 7), with a rumour that contradicts one of them.

Each question goes the way the gateway answers it, in one process: the index's hybrid search
(k 6) with the question embedded by the worker's MiniLM, the gateway's ``relevant`` /
``build_prompt`` / ``SYSTEM``, the default SmolLM2 greedy (``generation.complete``, the
engine's reference), the gateway's citation rules, then ``grounding.ground``. Reported per set:
the fact stated (a whole-word, case-blind match in the answer), the planted message cited, and
answers with a claim their citations do not support (by the grounding check's own reading), for
the model's raw answer and for the grounded one.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import harness

from chatlens.gateway.application import grounding
from chatlens.gateway.application.prompting import (
    SYSTEM,
    build_prompt,
    cited_numbers,
    fallback_numbers,
    relevant,
)
from chatlens.gateway.config import GatewaySettings
from chatlens.shared import schemas

ROOT = harness.EVAL_DIR.parent
sys.path.insert(0, str(ROOT / "bench"))

from generation_bench import PLANTED  # noqa: E402 (the bench folder is not a package)

# (question, fact, planted message): written after the grounding rules, never tuned on.
HELD_OUT = [
    (
        "Which hotel are the visitors staying at?",
        "harbour view",
        "The visitors from Berlin are staying at the Harbour View hotel near the station.",
    ),
    (
        "What is the wifi password in the new office?",
        "bluefinch42",
        "The wifi password in the new office is bluefinch42, please don't share it.",
    ),
    (
        "When is the product demo for the board?",
        "21 june",
        "The product demo for the board is on 21 June at 15:00 in room 4.",
    ),
    (
        "Who is the new head of sales?",
        "okonkwo",
        "Please welcome Adaeze Okonkwo, our new head of sales from next month.",
    ),
    ("How many laptops did IT order?", "24", "IT ordered 24 new laptops for the engineering team."),
    (
        "Which city is the data conference in?",
        "rotterdam",
        "The data conference we are sponsoring is in Rotterdam this autumn.",
    ),
    (
        "When is the office closed for the holidays?",
        "23 december",
        "The office is closed from 23 December to 2 January for the holidays.",
    ),
    (
        "What is the price per seat of the new CRM?",
        "38 euros",
        "Sales negotiated the new CRM down to 38 euros per seat per month.",
    ),
    (
        "Which airline are we flying with to the offsite?",
        "transavia",
        "Flights for the offsite are booked with Transavia, leaving Friday morning.",
    ),
    (
        "What is the deadline for the expense reports?",
        "30 april",
        "Reminder: expense reports are due by 30 April at the latest.",
    ),
]
# Written after the first run on the two sets above, when one held-out answer had shaped a rule
# (a message's own date supports a date only when its text names no day): untouched since.
HELD_OUT_2 = [
    (
        "Where is the client workshop next week?",
        "ghent",
        "The client workshop next week is in Ghent, at their head office.",
    ),
    (
        "What is the budget for the team dinner?",
        "1,200",
        "We have 1,200 euros for the team dinner, drinks included.",
    ),
    (
        "When does the new intern start?",
        "3 march",
        "The new intern starts on 3 March, please set up her laptop.",
    ),
    (
        "Who is organising the hackathon?",
        "solberg",
        "Ingrid Solberg is organising the hackathon this spring.",
    ),
    (
        "Which venue did we pick for the launch party?",
        "old customs house",
        "We picked the Old Customs House for the launch party.",
    ),
    (
        "How long is the notice period for the office lease?",
        "six months",
        "The office lease has a notice period of six months.",
    ),
]
SETS = {"bench": PLANTED, "held-out": HELD_OUT, "held-out-2": HELD_OUT_2}
# A retrieved line that contradicts a planted fact, as in the "Moscow" report.
RUMOUR = "Not sure but I heard the summer party will be in Moscow instead?"
PLANTER = "Renata Ferreira"
K = 6


@dataclass
class Answered:
    question: str
    fact: str
    raw: str
    raw_cites_planted: bool
    raw_unsupported: list[str]
    grounded: grounding.Grounded
    cites_planted: bool

    def fact_in(self, text: str) -> bool:
        return re.search(r"\b" + re.escape(self.fact) + r"\b", text.lower()) is not None


def planted_corpus(path: Path, filler: int = 600) -> Path:
    """The bench's chat with both sets' planted messages and the rumour spread through it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "gen_whatsapp.py"),
            str(filler),
            str(path),
            "--seed",
            "7",
        ],
        check=True,
    )
    planted = [(PLANTER, p) for s in SETS.values() for _, _, p in s] + [("Diego Ramos", RUMOUR)]
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line[:2].isdigit() and " - " in line]
    step = max(1, len(starts) // (len(planted) + 1))
    for n, (who, text) in reversed(list(enumerate(planted, start=1))):
        at = starts[min(n * step, len(starts) - 1)]
        lines.insert(at, f"{lines[at].split(' - ', 1)[0]} - {who}: {text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Answerer:
    """The gateway's answer path in-process over an ingested corpus and a loaded SmolLM2."""

    def __init__(self, corpus: harness.Corpus) -> None:
        import torch

        from chatlens.inference.generation import default_torch_threads, load
        from chatlens.inference.registry import Registry

        torch.set_num_threads(default_torch_threads())  # as the Dask LLM worker sets it

        self.corpus = corpus
        self.settings = GatewaySettings()
        self.spec = Registry.load().llm()
        self.loaded = load(self.spec)

    def ask(self, question: str, fact: str, planted_id: str) -> Answered:
        from chatlens.inference.generation import complete

        vector = self.corpus.embedder.embed([question])[0].tolist()
        hits = self.corpus.searcher.search(
            schemas.SearchRequested(
                org_id=harness.ORG,
                collection_id=harness.COLLECTION,
                mode="hybrid",
                query=question,
                vector=vector,
                k=K,
                context=0,
            )
        ).hits
        used = relevant(hits, self.settings.answer_min_score)
        evidence = [h.message for h in used]
        if not evidence:
            checked = grounding.Grounded("", [], False, [], [], "nothing_retrieved")
            return Answered(question, fact, "", False, [], checked, False)
        # On a thread of its own, as the engine's decode loop runs: torch on the main thread
        # measured several times slower on these machines (bench/generation_bench.py).
        with ThreadPoolExecutor(1) as pool:
            raw = (
                pool.submit(
                    complete,
                    self.spec,
                    self.loaded,
                    build_prompt(question, evidence),
                    SYSTEM,
                    self.settings.answer_max_tokens,
                )
                .result()
                .text.strip()
            )
        print(f"  {question} -> {raw[:80]!r}", file=sys.stderr, flush=True)
        cited = cited_numbers(raw, len(evidence)) or fallback_numbers(used)
        checked = grounding.ground(raw, question, evidence, cited)
        words = grounding._words_of(evidence)
        support = grounding.support_of([evidence[n - 1] for n in cited], question)
        raw_unsupported = [c.text for c in grounding.claims(raw, words) if not support.holds(c)]

        def cites(numbers: list[int]) -> bool:
            return any(evidence[n - 1].message_id == planted_id for n in numbers)

        return Answered(
            question, fact, raw, cites(cited), raw_unsupported, checked, cites(checked.cited)
        )


def run(answerer: Answerer, planted_ids: dict[str, str]) -> dict:
    """Every set's questions answered; per set the figures, and every answer."""
    report: dict = {}
    for name, questions in SETS.items():
        answered = [answerer.ask(q, fact, planted_ids[planted]) for q, fact, planted in questions]
        n = len(answered)
        report[name] = {
            "questions": n,
            "raw_fact_stated": sum(a.fact_in(a.raw) for a in answered),
            "raw_cites_planted": sum(a.raw_cites_planted for a in answered),
            "raw_unsupported": sum(bool(a.raw_unsupported) for a in answered),
            "fact_stated": sum(a.fact_in(a.grounded.text) for a in answered),
            "cites_planted": sum(a.cites_planted for a in answered),
            "extractive": sum(a.grounded.extractive for a in answered),
            "answers": [
                {
                    "question": a.question,
                    "fact": a.fact,
                    "raw": a.raw,
                    "raw_unsupported": a.raw_unsupported,
                    "answer": a.grounded.text,
                    "grounding": a.grounded.view(),
                    "fact_stated": a.fact_in(a.grounded.text),
                    "cites_planted": a.cites_planted,
                }
                for a in answered
            ],
        }
    return report


def table(report: dict) -> str:
    lines = [
        "answers on planted facts (SmolLM2 greedy; raw = the model's answer, "
        "grounded = what /ask returns)",
        f"{'':11}{'fact stated':>16}{'planted cited':>16}{'unsupported claim':>19}"
        f"{'extractive':>12}",
        f"{'':11}{'raw -> grounded':>16}{'raw -> grounded':>16}{'raw -> grounded':>19}",
    ]
    for name, r in report.items():
        n = r["questions"]
        lines.append(
            f"{name:11}{r['raw_fact_stated']:>8}/{n} -> {r['fact_stated']}/{n}"
            f"{r['raw_cites_planted']:>8}/{n} -> {r['cites_planted']}/{n}"
            f"{r['raw_unsupported']:>11}/{n} -> 0/{n}{r['extractive']:>9}/{n}"
        )
    return "\n".join(lines)


def evaluate(folder: Path, embedder: harness.LocalEmbedder | None = None) -> dict:
    """Ingest the planted chat under ``folder`` and answer both sets."""
    corpus_file = planted_corpus(folder / "WhatsApp Chat with Planted.txt")
    planted = {p: {"text": p} for s in SETS.values() for _, _, p in s}
    corpus = harness.ingest([corpus_file], planted, folder / "index", embedder)
    return run(Answerer(corpus), corpus.planted_ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures and answers here")
    parser.add_argument("--show", action="store_true", help="print every answer")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chatlens-answers-") as folder:
        report = evaluate(Path(folder))
    print(table(report))
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.show:
        for name, r in report.items():
            for a in r["answers"]:
                print(
                    f"[{name}] {a['question']} ({a['fact']})\n  raw: {a['raw']!r} "
                    f"unsupported={a['raw_unsupported']}\n  ->  {a['answer']!r} "
                    f"{a['grounding']['reason']} fact={a['fact_stated']} "
                    f"cited={a['cites_planted']}"
                )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
