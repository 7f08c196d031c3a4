"""Deterministic train/validation/test assignment."""
