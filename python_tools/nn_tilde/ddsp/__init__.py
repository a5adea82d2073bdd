"""DDSP-CNN-Tiny timbre transfer for nn~ (issue 5): streaming features, a 2.5k-parameter causal
CNN decoder, a wavetable harmonic synth, filtered noise and an optional learned reverb.

Modules: features (streaming f0 + A-weighted loudness), decoder, synth, model (training model and
the nn~ export), train (the ``model_type = "ddsp"`` branch of ``nn-tilde train``), evaluate
(quality on held-out phrases), bench (real-time factor per component).
"""
