"""DDSP-CNN-Tiny timbre transfer for nn~: streaming features, a 2.5k-parameter causal
CNN decoder, a wavetable harmonic synth, filtered noise and an optional learned reverb.

Modules: features (streaming f0 + A-weighted loudness), decoder, synth, model (training model and
the nn~ export). Training: `nn_tilde.train.ddsp`; speed: `nn_tilde.bench.ddsp`; quality and the f0
tracker's accuracy: `nn_tilde.evaluate`.
"""
