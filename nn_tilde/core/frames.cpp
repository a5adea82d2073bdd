// Frame conversion and the NaN/Inf scan (see frames.h).
#include "frames.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace nn {

void decimate_input(const float* in, int batch, int host_channels, int B, const MethodShape& shape,
                    float* dst_base) noexcept {
    const int fin = B / shape.in_ratio;
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < shape.in_channels; ++c) {
            float* dst = dst_base + static_cast<size_t>(b * shape.in_channels + c) * fin;
            if (c >= host_channels) {
                std::memset(dst, 0, sizeof(float) * static_cast<size_t>(fin));
                continue;
            }
            const float* src = in + static_cast<size_t>(b * host_channels + c) * B;
            if (shape.in_ratio == 1)
                std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(fin));
            else
                for (int f = 0; f < fin; ++f) dst[f] = src[f * shape.in_ratio + shape.in_ratio - 1];
        }
}

void hold_output(const float* src_base, int batch, const MethodShape& shape, int B, float* out,
                 int host_channels) noexcept {
    const int fout = B / shape.out_ratio;
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < host_channels; ++c) {
            float* dst = out + static_cast<size_t>(b * host_channels + c) * B;
            if (c >= shape.out_channels) {
                std::memset(dst, 0, sizeof(float) * static_cast<size_t>(B));
                continue;
            }
            const float* src = src_base + static_cast<size_t>(b * shape.out_channels + c) * fout;
            if (shape.out_ratio == 1)
                std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(B));
            else
                for (int f = 0; f < fout; ++f)
                    std::fill_n(dst + static_cast<size_t>(f) * shape.out_ratio, shape.out_ratio, src[f]);
        }
}

// A NaN or Inf has all exponent bits set. Adding one exponent step to the masked exponent sets bit 31
// exactly for those, so an OR over the samples answers; fixed-length inner blocks let GCC/Clang
// vectorise it at -O2 (SSE2 is enough). (A float sum of v * 0 would be one serial chain of adds,
// ~2.5 us per 2048 samples: more than a light model's call.)
bool any_nonfinite(const float* v, size_t n) noexcept {
    constexpr uint32_t kExp = 0x7f800000u, kStep = 0x00800000u;
    uint32_t acc = 0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        uint32_t block = 0;
        for (int k = 0; k < 64; ++k) {
            uint32_t b;
            std::memcpy(&b, v + i + k, sizeof b);
            block |= (b & kExp) + kStep;
        }
        acc |= block;
    }
    for (; i < n; ++i) {
        uint32_t b;
        std::memcpy(&b, v + i, sizeof b);
        acc |= (b & kExp) + kStep;
    }
    return (acc & 0x80000000u) != 0;
}

uint64_t replace_nonfinite(float* v, size_t n) noexcept {
    uint64_t bad = 0;
    for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(v[i])) {
            v[i] = 0.0f;
            ++bad;
        }
    return bad;
}

}  // namespace nn
