"""Story vectors: sentence embeddings from the WordLlama model inside its wheel, stored as int8.

The model (256 dimensions, 16 MB) is read from the installed package's files, so nothing is
fetched at run time. If it cannot load, vectors are empty (b"") and the story steps fall back
to names and words; the reason is logged once.

WordLlama's own code is not imported: its package loads pydantic and requests and sets up
logging on import, most of a parse worker's start-up, for what is a tokenizer and a table
lookup. `Embedder` computes what `WordLlamaInference.embed` does, step for step and number
for number (tests/test_vectors.py compares the two).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

DIM = 256
Matrix = npt.NDArray[np.float32]
_EMPTY: Matrix = np.zeros((0, DIM), dtype=np.float32)


def embed(texts: Sequence[str]) -> Matrix | None:
    """Unit-length vectors of `texts` (one row each); None when the model is unavailable."""
    model = _model()
    if model is None:
        return None
    if not texts:
        return _EMPTY
    return model.embed(list(texts))


def is_available() -> bool:
    """Whether story vectors can be computed here (loads the model on first call)."""
    return _model() is not None


def pack(vector: npt.NDArray[np.floating[Any]]) -> bytes:
    """A vector as DIM signed bytes, scaled to its largest component (cosine ignores scale)."""
    peak = float(np.max(np.abs(vector))) if vector.size else 0.0
    if vector.shape != (DIM,) or peak == 0.0 or not np.isfinite(peak):
        return b""
    return bytes(np.round(vector / peak * 127.0).astype(np.int8).tobytes())


def unpack(blobs: Sequence[bytes]) -> tuple[Matrix, npt.NDArray[np.bool_]]:
    """Packed vectors as unit rows, and which rows are real (an empty blob gives zeros)."""
    matrix = np.zeros((len(blobs), DIM), dtype=np.float32)
    present = np.zeros(len(blobs), dtype=np.bool_)
    for row, blob in enumerate(blobs):
        if len(blob) == DIM:
            matrix[row] = np.frombuffer(blob, dtype=np.int8)
            present[row] = True
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    return matrix / norms[:, None], present


class Embedder:
    """WordLlama's sentence embedding: the mean of the text's token vectors, unit length."""

    BATCH = 64  # texts tokenized and pooled at a time, as WordLlama does

    def __init__(self, folder: Path, config: str = "l2_supercat") -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizers"
                                            / f"{config}_tokenizer_config.json"))
        tokenizer.enable_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        with safe_open(str(folder / "weights" / f"{config}_{DIM}.safetensors"),
                       framework="np", device="cpu") as weights:
            table = weights.get_tensor("embedding.weight")
        self._table: Matrix = np.ascontiguousarray(table.astype(np.float32))

    def embed(self, texts: list[str]) -> Matrix:
        """Unit vectors of `texts`, one row each."""
        found: Matrix = np.empty((len(texts), self._table.shape[1]), dtype=np.float32)
        for start in range(0, len(texts), self.BATCH):
            encoded = self._tokenizer.encode_batch_fast(
                texts[start:start + self.BATCH], is_pretokenized=False,
                add_special_tokens=False)
            ids = np.array([e.ids for e in encoded], dtype=np.int32)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
            np.clip(ids, 0, self._table.shape[0] - 1, out=ids)
            counts = np.maximum(mask.sum(axis=1, keepdims=True), 1.0).astype(np.float32)
            pooled = np.sum(self._table[ids] * mask[..., np.newaxis], axis=1,
                            dtype=np.float32) / counts
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            found[start:start + len(pooled)] = pooled
        return found


@cache
def _model() -> Embedder | None:
    """WordLlama's 256-dimension model from its package's folder, or None (logged once)."""
    try:
        spec = importlib.util.find_spec("wordllama")  # finds the folder, runs nothing
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("the wordllama package is not installed")
        return Embedder(Path(spec.submodule_search_locations[0]))
    except Exception as error:  # any load failure means: run without vectors
        log.warning("story vectors are off (the embedding model did not load: %s); same-story "
                    "and related stories use names and words only", error)
        return None
