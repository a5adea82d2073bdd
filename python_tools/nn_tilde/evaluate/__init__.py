"""Evaluation tools for trained models, apart from the architectures in `nn_tilde.models` (which
import nothing from `train/` or from here): `ddsp_quality` (spectral distance and pitch following of
a DDSP model file on held-out phrases) and `pitch` (the f0 tracker's accuracy on rendered notes).
Their command line is `nn-tilde ddsp evaluate|pitch-eval` (nn_tilde.cli_ddsp)."""
