"""Evaluation commands: each reads a held-out labelled set and returns printable metrics."""
