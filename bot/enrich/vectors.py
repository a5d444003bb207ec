"""Story vectors: sentence embeddings from the WordLlama model inside its wheel, stored as int8.

The model (256 dimensions, 16 MB) loads from the installed package with downloads off, so
nothing is fetched at run time. If it cannot load, vectors are empty (b"") and the story
steps fall back to names and words; the reason is logged once.
"""

from __future__ import annotations

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
    vectors: Matrix = np.asarray(model.embed(list(texts), norm=True), dtype=np.float32)
    return vectors


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


@cache
def _model() -> Any:
    """WordLlama's 256-dimension model from its own package folder, or None (logged once)."""
    try:
        import wordllama
        from wordllama import WordLlama

        folder = Path(wordllama.__file__).parent
        return WordLlama.load(cache_dir=folder, dim=DIM, disable_download=True)
    except Exception as error:  # any load failure means: run without vectors
        log.warning("story vectors are off (the embedding model did not load: %s); same-story "
                    "and related stories use names and words only", error)
        return None
