"""What the tests share: one Pd runner (pdrun), the host convention in numpy (reference), and the
test models (plain_models written with plain torch, broken_models that break one rule each,
kit_models written with the kit, ref_style_model in the reference package's style).
Importable as `support` because pytest.ini puts tests/ on the path."""
