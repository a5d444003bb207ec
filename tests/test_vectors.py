"""Tests for bot.enrich.vectors: story vectors without WordLlama's package code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.enrich import vectors

TEXTS = [
    "Quake kills dozens in eastern Turkey. Rescuers dug through the night in Malatya.",
    "Ishiba to skip NATO summit in The Hague",
    ". ",
    "Ein Erdbeben der Stärke 6,8 hat die Türkei erschüttert.",
    "日本の石破首相、NATO首脳会議を欠席へ",
    "x" * 5000,
]


@pytest.mark.slow  # importing WordLlama's package takes a second or two
def test_vectors_equal_wordllamas_own() -> None:
    """Our embedder gives WordLlama's vectors bit for bit, batches of mixed lengths and
    more than one batch included."""
    import wordllama
    from wordllama import WordLlama

    theirs = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, dim=vectors.DIM,
                            disable_download=True)
    texts = TEXTS * 12  # 72 texts: two batches
    ours = vectors.embed(texts)
    assert ours is not None
    expected = np.asarray(theirs.embed(texts, norm=True), dtype=np.float32)
    assert ours.dtype == expected.dtype and np.array_equal(ours, expected, equal_nan=True)
