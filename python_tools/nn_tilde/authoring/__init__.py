"""Authoring: write an nn~ model (`Module`, `Buffer`, methods and attributes) and export it to a
TorchScript file (script, save, reload from disk, call every method the host calls, compare)."""
