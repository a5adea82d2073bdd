"""The checker behind `nn-tilde check`: will a model file play in nn~, and how?

Modules: runner (the sections in order, each guarded), structure (what the file declares:
methods, params, attributes, sample rate), behaviour (what the methods do when called as nn~
calls them), report (findings, text and JSON).
"""
