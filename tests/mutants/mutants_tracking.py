"""Plausible mistakes in module 01 (solutions/tracking.py)."""

from mutantlib import Mutant

MUTANTS: list[Mutant] = []
