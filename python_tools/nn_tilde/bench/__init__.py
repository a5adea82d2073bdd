"""Benchmarks that print figures: `nn-tilde bench` (model: a file's methods at several buffer
sizes) and `nn-tilde ddsp bench` (ddsp: the DDSP model's parts against this machine's floors)."""
