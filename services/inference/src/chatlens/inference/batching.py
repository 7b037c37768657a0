"""Continuous batching: one decode loop generating for many requests at once.

A :class:`Batch` holds the running sequences of one model: their KV cache (transformers'
``DynamicCache``, one row per sequence), attention mask and next positions. Each :meth:`Batch.step`
picks one token per sequence (greedy or sampled, per request) and runs the model once for all of
them, so eight requests cost little more than one on a CPU that is memory-bound at batch 1.
New requests join between steps (:meth:`Batch.admit`): they are prefilled together, left-padded,
and their cache is padded on the left to the batch's length and stacked under it; finished ones
leave (their rows are dropped from the cache). Left padding with explicit ``position_ids`` keeps
every sequence's positions and attention exactly what it would be alone, so batched greedy output
equals unbatched greedy output.

Pure torch and transformers: no threads, no Dask, no bus (see ``engine.py`` for those).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from transformers import DynamicCache


@dataclass(frozen=True)
class Sampling:
    """How one request picks its tokens: greedy at temperature 0, else seeded nucleus sampling."""

    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None


@dataclass(eq=False)
class Sequence:
    """One request inside the batch, and what it has produced so far (read by other threads
    under ``lock``; the decode loop is the only writer)."""

    prompt_ids: list[int]
    max_new_tokens: int
    sampling: Sampling = Sampling()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    generated: list[int] = field(default_factory=list)
    text: str = ""  # the answer's text so far, without leading or trailing whitespace
    finish_reason: Literal["stop", "length", "cancelled", "error"] | None = None
    error: BaseException | None = None
    first_token_at: float | None = None
    cancelled: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: torch.Generator | None = None

    @property
    def done(self) -> bool:
        return self.finish_reason is not None


class Batch:
    """The running sequences of one loaded model."""

    def __init__(
        self, model: Any, tokenizer: Any, device: torch.device, stop_ids: set[int]
    ) -> None:
        self.model, self.tokenizer, self.device = model, tokenizer, device
        self.stop_ids = stop_ids
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.rows: list[Sequence] = []
        self._cache: DynamicCache | None = None
        self._mask: torch.Tensor | None = None  # [rows, length], 0 on left padding
        self._positions: torch.Tensor | None = None  # [rows]: the position of the next token
        self._logits: torch.Tensor | None = None  # [rows, vocab]: what the next token comes from

    def __len__(self) -> int:
        return len(self.rows)

    @torch.inference_mode()
    def admit(self, sequences: list[Sequence]) -> None:
        """Prefill ``sequences`` together and add them to the running batch."""
        if not sequences:
            return
        for sequence in sequences:
            if sequence.sampling.temperature > 0:
                sequence.rng = torch.Generator()
                if sequence.sampling.seed is not None:
                    sequence.rng.manual_seed(sequence.sampling.seed)
                else:
                    sequence.rng.seed()
        width = max(len(s.prompt_ids) for s in sequences)
        ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            ids[row, width - len(sequence.prompt_ids) :] = torch.tensor(sequence.prompt_ids)
            mask[row, width - len(sequence.prompt_ids) :] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.model.config)
        # logits_to_keep=1: only the last position's logits, not a vocabulary-wide row for every
        # prompt token (hundreds of MB for a batch of RAG prompts).
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        logits = out.logits[:, -1, :].float()
        next_positions = mask.sum(-1)
        if not self.rows:
            self._cache, self._mask, self._positions, self._logits = (
                cache,
                mask,
                next_positions,
                logits,
            )
        else:
            self._stack(cache, mask)
            self._positions = torch.cat([self._positions, next_positions])
            self._logits = torch.cat([self._logits, logits])
        self.rows.extend(sequences)

    def _stack(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        """Put a new cache under the running one, left-padding the shorter to the same length."""
        length = max(self._mask.shape[1], mask.shape[1])
        for old, new in zip(self._cache.layers, cache.layers, strict=True):
            old.keys = torch.cat([_left_pad(old.keys, length, 2), _left_pad(new.keys, length, 2)])
            old.values = torch.cat(
                [_left_pad(old.values, length, 2), _left_pad(new.values, length, 2)]
            )
        self._mask = torch.cat([_left_pad(self._mask, length, 1), _left_pad(mask, length, 1)])

    @torch.inference_mode()
    def step(self, decode_text) -> list[Sequence]:
        """Pick each row's next token, drop the rows that finished (returned), and run the model
        once for the rest. ``decode_text(sequence)`` refreshes a sequence's text."""
        tokens = self._choose()
        finished, keep = [], []
        now = time.perf_counter()
        for row, (sequence, token) in enumerate(zip(self.rows, tokens.tolist(), strict=True)):
            with sequence.lock:
                if sequence.cancelled:
                    sequence.finish_reason = "cancelled"
                elif token in self.stop_ids:
                    sequence.finish_reason = "stop"
                else:
                    sequence.generated.append(token)
                    sequence.first_token_at = sequence.first_token_at or now
                    decode_text(sequence)
                    if len(sequence.generated) >= sequence.max_new_tokens:
                        sequence.finish_reason = "length"
            (finished if sequence.done else keep).append(row)
        ended = [self.rows[row] for row in finished]
        if finished:
            self._keep(keep)
        if not self.rows:
            return ended
        index = torch.tensor(keep, device=self.device)
        self._mask = torch.cat([self._mask, self._mask.new_ones((len(keep), 1))], dim=1)
        out = self.model(
            input_ids=tokens[index].unsqueeze(1),
            attention_mask=self._mask,
            position_ids=self._positions.unsqueeze(1),
            past_key_values=self._cache,
            use_cache=True,
            logits_to_keep=1,
        )
        self._logits = out.logits[:, -1, :].float()
        self._positions = self._positions + 1
        return ended

    def _keep(self, keep: list[int]) -> None:
        """Drop the finished rows, and the leading columns nobody attends to any more."""
        self.rows = [self.rows[row] for row in keep]
        if not keep:
            self._cache = self._mask = self._positions = self._logits = None
            return
        index = torch.tensor(keep, device=self.device)
        self._cache.batch_select_indices(index)
        self._mask, self._positions = self._mask[index], self._positions[index]
        self._logits = self._logits[index]
        start = int(self._mask.any(0).int().argmax())  # the first column someone attends to
        if start:
            self._mask = self._mask[:, start:]
            for layer in self._cache.layers:
                layer.keys, layer.values = layer.keys[:, :, start:], layer.values[:, :, start:]

    def _choose(self) -> torch.Tensor:
        """One token per row: argmax, or a draw from the top-p nucleus at the row's temperature."""
        tokens = self._logits.argmax(-1)
        for row, sequence in enumerate(self.rows):
            sampling = sequence.sampling
            if sampling.temperature <= 0:
                continue
            probs = torch.softmax(self._logits[row].cpu() / sampling.temperature, -1)
            if sampling.top_p < 1:
                ordered, order = probs.sort(descending=True)
                outside = ordered.cumsum(-1) - ordered > sampling.top_p  # keeps at least one
                probs[order[outside]] = 0
            tokens[row] = int(torch.multinomial(probs, 1, generator=sequence.rng))
        return tokens

    def fail(self, error: BaseException) -> list[Sequence]:
        """The model failed: every running sequence ends with ``error``."""
        failed, self.rows = self.rows, []
        for sequence in failed:
            with sequence.lock:
                sequence.finish_reason, sequence.error = "error", error
        self._cache = self._mask = self._positions = self._logits = None
        return failed


def _left_pad(tensor: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    missing = length - tensor.shape[dim]
    if missing == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)
