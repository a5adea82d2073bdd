"""Model architectures the kit trains and exports: the streaming PQMF autoencoder
(autoencoder) and DDSP-CNN-Tiny timbre transfer (ddsp)."""
