"""Tests that open newsbot's web pages in a real browser (Debian's chromium, headless)."""
