// Conversion between the host's buffers and a method's frames (docs/MODEL_FORMAT.md): input is
// decimated by keeping the last sample of each in_ratio group, as the reference host does, and each
// output frame is held for out_ratio samples; and the scan for NaN/Inf in a model's output.
// worker thread (or the audio thread computing inline under the Wait policy); no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "contract.h"

namespace nn {

// in: [batch][host_channels][B] -> dst: [batch][shape.in_channels][B / shape.in_ratio]. Model input
// channels beyond the host's get zeros.
void decimate_input(const float* in, int batch, int host_channels, int B, const MethodShape& shape,
                    float* dst) noexcept;

// src: [batch][shape.out_channels][B / shape.out_ratio] -> out: [batch][host_channels][B]. Host
// channels beyond the model's get zeros.
void hold_output(const float* src, int batch, const MethodShape& shape, int B, float* out, int host_channels) noexcept;

// True iff some v[i] is NaN or Inf. Vectorised: cheap enough to run on every buffer.
bool any_nonfinite(const float* v, size_t n) noexcept;
// Replaces every NaN and Inf in v by 0 and returns how many there were. A per-sample pass: run it only
// when any_nonfinite() found something.
uint64_t replace_nonfinite(float* v, size_t n) noexcept;

}  // namespace nn
