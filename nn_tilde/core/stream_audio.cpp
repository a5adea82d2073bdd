// The stream engine's audio side (see stream.h): process() and the late policies, the input ring and
// the hand-off of whole buffers to the worker, the output ring, and the compute token the audio
// thread takes under the Wait policy to compute buffers itself.
#include "stream.h"

#include <algorithm>
#include <cstring>

#include "stream_internal.h"

namespace nn {

using namespace stream_internal;

void StreamEngine::process(const float* const* in, float* const* out, int n) noexcept {
    if (policy() == LatePolicy::Wait)
        process_wait(in, out, n);
    else
        process_live(in, out, n);
}

void StreamEngine::process_live(const float* const* in, float* const* out, int n) noexcept NN_NONBLOCKING {
    run<false>(in, out, n);
}

void StreamEngine::process_wait(const float* const* in, float* const* out, int n) noexcept { run<true>(in, out, n); }

// audio thread; wait-free when Wait is false; no allocation
template <bool Wait>
void StreamEngine::run(const float* const* in, float* const* out, int n) noexcept NN_NONBLOCKING_IF(!Wait) {
    // Every call is timed for `stats` (audio_us_max), the plain copies too: a wait can happen in any
    // call that starts or ends a buffer, and two vDSO clock reads (~40 ns) are cheap next to a block.
    const int64_t t0 = now_ns();
    bump(n_blocks_);
    const int chans_out = batch_ * host_out_;
    if (N_ == 0 || n <= 0) {  // not prepared yet: silence
        for (int c = 0; c < chans_out; ++c)
            if (n > 0) std::memset(out[c], 0, sizeof(float) * static_cast<size_t>(n));
        raise_max(audio_us_max_, double(now_ns() - t0) * 1e-3);
        return;
    }
    if (out_ready_ && in_pos_ != 0 && n <= max_block_ && in_pos_ + n < B_ && out_pos_ + n < B_) {
        // Fast path, most blocks (31 of 32 for Pd at B = 2048): inside both buffers, the input slot
        // already claimed, the output already ready (it stays so until the slot is reused, N buffers
        // later). Only the copies remain; inputs first, as in/out may alias.
        if (!dropping_) {
            float* base =
                in_store_.data() + static_cast<size_t>(batch_) * host_in_ * B_ * static_cast<size_t>(in_slot_);
            for (int c = 0; c < batch_ * host_in_; ++c)
                std::memcpy(base + static_cast<size_t>(c) * B_ + in_pos_, in[c],
                            sizeof(float) * static_cast<size_t>(n));
        }
        const float* src = out_store_.data() + static_cast<size_t>(chans_out) * B_ * static_cast<size_t>(out_slot_);
        for (int c = 0; c < chans_out; ++c) {
            std::memcpy(out[c], src + static_cast<size_t>(c) * B_ + out_pos_, sizeof(float) * static_cast<size_t>(n));
            last_[c] = out[c][n - 1];
        }
        in_pos_ += n;
        out_pos_ += n;
        raise_max(audio_us_max_, double(now_ns() - t0) * 1e-3);
        return;
    }
    bool late = false, waited = false;
    // A host that passes more than the max_block it announced still gets correct output: the block is
    // split so the latency guarantee holds. Input of a piece is copied before its output is written,
    // so aliased in/out vectors (Pd reuses signal memory) are safe.
    for (int off = 0; off < n;) {
        const int m = std::min(n - off, max_block_);
        write_input<Wait>(in, off, m, waited);
        read_output<Wait>(out, off, m, waited, late);
        off += m;
    }
    if (late) bump(n_late_);
    if (waited) bump(n_waits_);
    raise_max(audio_us_max_, double(now_ns() - t0) * 1e-3);
}

template <bool Wait>
void StreamEngine::write_input(const float* const* in, int off, int n, bool& waited) noexcept NN_NONBLOCKING_IF(!Wait) {
    const int chans = batch_ * host_in_;
    const size_t stride = static_cast<size_t>(chans) * B_;
    const bool on = enabled();
    for (int done = 0; done < n;) {
        Slot& s = slots_[in_slot_];
        if (in_pos_ == 0) {  // starting buffer in_seq_: may we overwrite this slot's input?
            dropping_ = false;
            if (!on) {
                dropping_ = true;
                s.submitted = kDisabled;
            } else if (!s.in_free.load(std::memory_order_acquire)) {
                bool freed = false;
                if constexpr (Wait) {
                    waited = true;
                    freed = wait_free(s.in_free);
                }
                if (!freed) {  // the worker is N buffers behind: skip this buffer's computation
                    dropping_ = true;
                    s.submitted = kDropped;
                    bump(n_dropped_);
                }
            }
        }
        const int len = std::min(n - done, B_ - in_pos_);
        if (!dropping_) {
            float* base = in_store_.data() + stride * static_cast<size_t>(in_slot_);
            for (int c = 0; c < chans; ++c)
                std::memcpy(base + static_cast<size_t>(c) * B_ + in_pos_, in[c] + off + done,
                            sizeof(float) * static_cast<size_t>(len));
        }
        in_pos_ += len;
        done += len;
        if (in_pos_ == B_) {
            if (!dropping_) submit(s, Wait);
            in_pos_ = 0;
            ++in_seq_;
            if (++in_slot_ == N_) in_slot_ = 0;  // in_seq_ % N_ without a division
        }
    }
}

// audio thread; wait-free; no allocation
void StreamEngine::submit(Slot& s, bool wait_policy) noexcept NN_NONBLOCKING {
    const uint64_t cap = static_cast<uint64_t>(2 * N_);
    const uint64_t tail = q_tail_.load(std::memory_order_relaxed);
    if (tail - q_head_.load(std::memory_order_acquire) >= cap) {  // cannot happen while in_free gates
        s.submitted = kDropped;
        bump(n_dropped_);
        return;
    }
    const int64_t now = now_ns();
    s.in_free.store(false, std::memory_order_relaxed);  // published by the release below
    s.submitted = in_seq_;
    s.submit_ns = now;  // the worker derives the buffer's deadline from it (live policies)
    queue_[tail % cap].store(in_seq_, std::memory_order_relaxed);
    // release: the worker that acquires q_tail_ sees the slot's input samples, submit_ns and
    // in_free == false.
    q_tail_.store(tail + 1, std::memory_order_release);
    bump(n_buffers_);
    // Offline detection (see kOfflineLeadNs): the host has run well ahead of the wall clock since its
    // first buffer, and still hands over buffers more than twice as fast as real time. Under the Wait
    // policy the audio thread then computes the buffers itself when it needs them (see wait_for) and
    // the worker is not woken for each one. A live host catching up after a stall is only fast, never
    // ahead, so the model stays on the worker there.
    const int64_t buf = buffer_ns_.load(std::memory_order_relaxed);
    if (first_ns_ == 0) {
        first_ns_ = now;
        first_seq_ = in_seq_;
    }
    const bool fast = submit_ns_ != 0 && now - submit_ns_ < buf / 2;
    submit_ns_ = now;
    fast_run_ = fast ? fast_run_ + 1 : 0;
    const int64_t lead = (in_seq_ - first_seq_) * buf - (now - first_ns_);
    const bool was_inline = inline_;
    inline_ = wait_policy && fast_run_ >= 4 && lead >= kOfflineLeadNs;
    if (inline_ != was_inline) offline_.store(inline_, std::memory_order_relaxed);
    if (!inline_ || !was_inline) wake_.post();
}

template <bool Wait>
void StreamEngine::read_output(float* const* out, int off, int n, bool& waited, bool& late) noexcept
    NN_NONBLOCKING_IF(!Wait) {
    const int chans = batch_ * host_out_;
    const size_t stride = static_cast<size_t>(chans) * B_;
    const bool hold = policy() == LatePolicy::Hold;
    // out_j_ / out_pos_ / out_slot_ track (time - L) / B, (time - L) % B and out_j_ % N incrementally
    // (no 64-bit division per block). out_j_ < 0: the first L samples after prepare(), still silent.
    for (int done = 0; done < n;) {
        const int len = std::min(n - done, B_ - out_pos_);
        const int64_t j = out_j_;
        bool ready = false;
        Slot* s = j >= 0 ? &slots_[out_slot_] : nullptr;
        if (s && s->submitted == j) {
            // acquire: pairs with the worker's release after it wrote the output samples
            ready = s->out_seq.load(std::memory_order_acquire) == j;
            if constexpr (Wait) {
                if (!ready) {
                    waited = true;
                    ready = wait_until(s->out_seq, j);
                }
            }
            if (!ready) late = true;
        } else if (s && s->submitted == kDropped) {
            late = true;  // never handed off (the worker was N buffers behind): missing output too
        }
        out_ready_ = ready;
        if (ready) {
            const float* base = out_store_.data() + stride * static_cast<size_t>(out_slot_);
            for (int c = 0; c < chans; ++c) {
                std::memcpy(out[c] + off + done, base + static_cast<size_t>(c) * B_ + out_pos_,
                            sizeof(float) * static_cast<size_t>(len));
                last_[c] = out[c][off + done + len - 1];
            }
        } else if (hold && s && s->submitted != kDisabled) {
            for (int c = 0; c < chans; ++c) std::fill_n(out[c] + off + done, len, last_[c]);
        } else {
            for (int c = 0; c < chans; ++c) {
                std::memset(out[c] + off + done, 0, sizeof(float) * static_cast<size_t>(len));
                last_[c] = 0.0f;
            }
        }
        out_pos_ += len;
        done += len;
        if (out_pos_ == B_) {
            out_pos_ = 0;
            out_ready_ = false;
            if (++out_j_ > 0 && ++out_slot_ == N_) out_slot_ = 0;
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// The compute token. Whoever holds it (the worker, or the audio thread under the Wait policy) is the
// only consumer of the submission queue and the only user of ctx_: buffers are computed in order,
// and the processor is never called from two threads at once. acquire/release make the previous
// holder's writes (queue head, ctx_, counters) visible to the next one.

bool StreamEngine::try_lock() noexcept {
    bool expected = false;
    return token_.compare_exchange_strong(expected, true, std::memory_order_acquire, std::memory_order_relaxed);
}

void StreamEngine::unlock() noexcept {
    token_.store(false, std::memory_order_release);
    done_.signal();  // an audio thread waiting for the token or a result re-checks
}

// Token holder only: takes the oldest submitted buffer and computes it (under the live policies the
// worker may skip it instead, see live_buffer). False when the queue is empty.
bool StreamEngine::consume_one() {
    const uint64_t head = q_head_.load(std::memory_order_relaxed);
    if (N_ == 0) return false;
    const uint64_t tail = q_tail_.load(std::memory_order_acquire);
    if (head == tail) return false;
    const uint64_t cap = static_cast<uint64_t>(2 * N_);
    const int64_t seq = queue_[head % cap].load(std::memory_order_relaxed);
    // The audio thread takes buffers only under Wait, so only the worker ever skips one.
    if (policy() == LatePolicy::Wait)
        process_buffer(seq);
    else
        live_buffer(seq, tail - head > 1);
    q_head_.store(head + 1, std::memory_order_release);
    return true;
}

// audio thread under the Wait policy only; blocks. Waits until ready() holds. During an offline
// render (inline_) it computes queued buffers itself whenever the worker is not computing: sleeping on
// the worker would cost two context switches per buffer, more than a light model's whole call. It
// never runs tasks (load, method, set, freeing a model): while one is pending it leaves the token to
// the worker (woken by post()), so tasks still apply before the next buffer, on the worker. In a live
// host it only waits.
template <class Ready>
bool StreamEngine::wait_for(Ready ready) noexcept {
    const int64_t deadline = now_ns() + int64_t(kWaitTimeoutMs) * 1000000;
    for (;;) {
        if (ready()) return true;
        if (inline_ && !tasks_pending() && try_lock()) {
            bool progressed = false;
            try {
                while (!ready() && consume_one()) {
                    progressed = true;
                    bump(n_inline_);
                }
            } catch (...) {  // process_buffer catches the model's exceptions; this is bad_alloc at worst
            }
            token_.store(false, std::memory_order_release);
            // Holding the token with an empty queue, nothing else can make it ready (a safety net:
            // a submitted buffer is queued, being computed by the token holder, or done).
            if (!progressed) return ready();
            continue;
        }
        // Offline: spin while the worker holds the token (it finishes a buffer or runs a task) and
        // compute as soon as it lets go. Live: spin for the result, then sleep until the worker signals.
        if (spin_until(
                [&] { return ready() || (inline_ && !tasks_pending() && !token_.load(std::memory_order_relaxed)); },
                kAudioSpinNs))
            continue;
        if (now_ns() > deadline) return ready();
        done_.wait(10);
    }
}

bool StreamEngine::wait_until(const std::atomic<int64_t>& seq, int64_t value) noexcept {
    return wait_for([&] { return seq.load(std::memory_order_acquire) == value; });
}

bool StreamEngine::wait_free(const std::atomic<bool>& flag) noexcept {
    return wait_for([&] { return flag.load(std::memory_order_acquire); });
}

}  // namespace nn
