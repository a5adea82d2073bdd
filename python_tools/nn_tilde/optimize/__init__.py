"""Make nn~ model files faster and compare runtimes.

Modules: passes (the TorchScript variants nn~ can load: frozen, optimize_for_inference, int8
dynamic and static quantization), measure (error against the original, streaming, speed as
`nn-tilde bench` times it, the checker's verdict), run (`optimize_file`: measure all, choose,
write with a record in the file's metadata), report (table and plot), runtimes (TorchScript,
ONNX Runtime and AOTInductor side by side), cli (`nn-tilde optimize`).
"""

# The variants `nn-tilde optimize` makes besides the original, in order (torch-free here so the
# CLI's --help does not import torch; passes.pass_specs is tested to match).
VARIANT_NAMES = ("frozen", "frozen+ofi", "int8-dynamic", "int8-static")
