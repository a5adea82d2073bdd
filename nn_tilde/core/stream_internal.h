// Helpers and tuning shared by the stream engine's translation units (stream.cpp, stream_audio.cpp,
// stream_worker.cpp); not part of its API.
#pragma once

#include <atomic>
#include <cstdint>

#include "realtime.h"

namespace nn::stream_internal {

// Single-writer counters: a relaxed load+store is enough (no read-modify-write needed) and keeps the
// audio thread free of locked instructions.
inline void bump(std::atomic<uint64_t>& c, uint64_t by = 1) noexcept NN_NONBLOCKING {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
inline void raise_max(std::atomic<double>& m, double v) noexcept NN_NONBLOCKING {
    if (v > m.load(std::memory_order_relaxed)) m.store(v, std::memory_order_relaxed);
}

// How long the Wait policy blocks for one buffer before giving up on it (a hung model must not hang
// the host forever). Generous, because offline renders of heavy models rely on waiting.
constexpr int kWaitTimeoutMs = 10000;

// Offline detection (Wait policy). An offline render runs ahead of the wall clock without bound; a
// live host never runs ahead of it, only catches up on what it lost in a stall, as fast as it can
// (Pd after a 100 ms hiccup runs its ticks back to back). So the audio thread computes itself only
// once the host has played kOfflineLeadNs more audio than wall time passed since its first buffer
// after prepare(), and only while the buffers keep coming faster than twice real time. A live host
// would have to stall for longer than that right after a DSP (re)start to be mistaken for offline.
constexpr int64_t kOfflineLeadNs = 2000000000;

// The live policies' warning when the model keeps missing its time: when at least kLateWarnMisses of
// the last 8 buffers it computed finished late, at most once per kLateWarnIntervalNs (a console
// line per buffer would flood Pd's window and cost the main thread more than the model)...
constexpr int kLateWarnMisses = 4;
// ... or at once when this many calls in a row each took longer than a buffer's whole time: two, so
// that a single hiccup is never mistaken for a model too slow to play (see note_deadline).
constexpr int kHopelessCalls = 2;
constexpr int64_t kLateWarnIntervalNs = 5000000000;
// A buffer that could not play at all is skipped, but after this many in a row one is computed anyway:
// the model's duration is only learnt from calls, and it may have become faster.
constexpr int kMaxSkipRun = 3;

// Spinning before sleeping. A futex sleep and wake-up costs several microseconds of CPU on each side,
// more than a light model's whole call; when the audio thread runs faster than real time (pd -batch)
// the next buffer, or the awaited result, usually arrives within microseconds. Live, a buffer comes
// every B samples (46 ms at 2048/44.1 kHz), so the worker's 30 us spin costs < 0.1 % of a core.
constexpr int64_t kWorkerSpinNs = 30000;  // worker: wait this long for the next buffer before sleeping
constexpr int64_t kAudioSpinNs = 20000;   // audio thread, Wait policy: while the worker holds the token

}  // namespace nn::stream_internal
