#include "stream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>

namespace nn {

namespace {

using Clock = std::chrono::steady_clock;

// Single-writer counters: a relaxed load+store is enough (no read-modify-write needed) and keeps the
// audio thread free of locked instructions.
inline void bump(std::atomic<uint64_t>& c, uint64_t by = 1) noexcept NN_NONBLOCKING {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
// True iff some v[i] is NaN or Inf, i.e. has all exponent bits set. Adding one exponent step to the
// masked exponent sets bit 31 exactly for those, so an OR over the samples answers; fixed-length
// inner blocks let GCC/Clang vectorise it at -O2 (SSE2 is enough).
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
inline void raise_max(std::atomic<double>& m, double v) noexcept NN_NONBLOCKING {
    if (v > m.load(std::memory_order_relaxed)) m.store(v, std::memory_order_relaxed);
}

// How long the Wait policy blocks for one buffer before giving up on it (a hung model must not hang
// the host forever). Generous, because offline renders of heavy models rely on waiting.
constexpr int kWaitTimeoutMs = 10000;

// Spinning before sleeping. A futex sleep and wake-up costs several microseconds of CPU on each side,
// more than a light model's whole call; when the audio thread runs faster than real time (pd -batch)
// the next buffer, or the awaited result, usually arrives within microseconds. Live, a buffer comes
// every B samples (46 ms at 2048/44.1 kHz), so the worker's 30 us spin costs < 0.1 % of a core.
constexpr int64_t kWorkerSpinNs = 30000;  // worker: wait this long for the next buffer before sleeping
constexpr int64_t kAudioSpinNs = 20000;   // audio thread, Wait policy: while the worker holds the token

std::atomic<int> g_orphans{0};  // engines retire() handed to their worker, not freed yet

}  // namespace

StreamEngine::StreamEngine(int batch, int host_inputs, int host_outputs, WorkerListener* listener)
    : batch_(std::max(1, batch)),
      host_in_(std::max(0, host_inputs)),
      host_out_(std::max(0, host_outputs)),
      listener_(listener) {
    ctx_.batch = batch_;
    last_.assign(static_cast<size_t>(batch_ * host_out_), 0.0f);
    thread_ = std::thread([this] {
        worker_main();
        // Last touch of the engine by this thread. If retire() gave up on us meanwhile, the engine
        // is ours to delete (the main thread has detached us and will not touch it again).
        if (exit_state_.exchange(kExited, std::memory_order_acq_rel) == kOrphaned) {
            delete this;
            g_orphans.fetch_sub(1);
        }
    });
}

StreamEngine::~StreamEngine() { shutdown(); }

bool StreamEngine::shutdown(std::chrono::milliseconds wait) {
    {
        std::lock_guard<std::mutex> lk(pause_mutex_);
        stop_.store(true, std::memory_order_release);
    }
    pause_cv_.notify_all();
    wake_.post();
    // Tasks still queued are dropped by the worker, or freed by the queue's destructor, unrun.
    // Not joinable: joined before, or detached by retire() (then this runs on the worker, deleting).
    if (!thread_.joinable()) return true;
    if (wait >= std::chrono::milliseconds(0)) {
        std::unique_lock<std::mutex> lk(pause_mutex_);
        if (!pause_cv_.wait_for(lk, wait, [&] { return exited_; })) return false;
    }
    thread_.join();
    return true;
}

bool StreamEngine::retire(std::unique_ptr<StreamEngine> engine, std::chrono::milliseconds wait) {
    if (!engine || engine->shutdown(wait)) return true;  // joined: the unique_ptr deletes it here
    {
        std::lock_guard<std::mutex> lk(engine->listener_mutex_);
        engine->listener_ = nullptr;  // its owner is going away; later reports are dropped
    }
    engine->thread_.detach();
    StreamEngine* raw = engine.release();
    g_orphans.fetch_add(1);
    // The worker may have finished between the timeout and here: then it left the engine to us.
    if (raw->exit_state_.exchange(kOrphaned, std::memory_order_acq_rel) == kExited) {
        delete raw;
        g_orphans.fetch_sub(1);
    }
    return false;
}

int StreamEngine::orphans() noexcept { return g_orphans.load(); }

void StreamEngine::report_error(const std::string& message) {
    std::lock_guard<std::mutex> lk(listener_mutex_);
    if (listener_) listener_->on_worker_error(message);
}

void StreamEngine::report_warning(const std::string& message) {
    std::lock_guard<std::mutex> lk(listener_mutex_);
    if (listener_) listener_->on_worker_warning(message);
}

bool StreamEngine::prepare(int buffer_size, int max_block) {
    // Park the worker: it finishes the buffer it is computing, then waits on pause_cv_.
    {
        std::unique_lock<std::mutex> lk(pause_mutex_);
        pause_requested_ = true;
        wake_.post();
        pause_cv_.wait(lk, [&] { return paused_ || stop_.load(); });
    }
    B_ = std::max(1, buffer_size);
    max_block_ = std::max(1, max_block);
    const int blocks_per_buffer = (max_block_ + B_ - 1) / B_;
    L_ = B_ * (1 + blocks_per_buffer);
    // Slots in flight: the L/B buffers between input and output, the ones a single host block can
    // complete, and two of margin so the buffer the audio thread reads and the one the worker writes
    // are never the same slot (see the proof in README "How the hand-off works").
    N_ = 2 * blocks_per_buffer + 5;
    const size_t in_stride = static_cast<size_t>(batch_) * host_in_ * B_;
    const size_t out_stride = static_cast<size_t>(batch_) * host_out_ * B_;
    const size_t bytes = (in_stride + out_stride) * static_cast<size_t>(N_) * sizeof(float);
    bool ok = bytes <= kMaxRingBytes;
    if (ok) {
        try {
            in_store_.assign(in_stride * N_, 0.0f);
            out_store_.assign(out_stride * N_, 0.0f);
            slots_ = std::make_unique<Slot[]>(static_cast<size_t>(N_));
            queue_ = std::make_unique<std::atomic<int64_t>[]>(static_cast<size_t>(2 * N_));
        } catch (const std::bad_alloc&) {
            ok = false;
        }
    }
    if (!ok) {  // stay unprepared: process() outputs silence, the worker has nothing to compute
        const int slots = N_;
        std::vector<float>().swap(in_store_);
        std::vector<float>().swap(out_store_);
        slots_.reset();
        queue_.reset();
        N_ = 0;
        L_ = 0;
        report_error(
                "the streaming buffers would take " + std::to_string(bytes >> 20) + " MiB (" +
                std::to_string(batch_) + " x " + std::to_string(host_in_ + host_out_) + " channels x " +
                std::to_string(slots) + " buffers of " + std::to_string(B_) +
                " samples), more than the " + std::to_string(kMaxRingBytes >> 20) +
                " MiB allowed or available; use a smaller buffer size (message `bufsize`) or a model with "
                "fewer channels. The object outputs silence.");
    }
    q_head_.store(0);
    q_tail_.store(0);
    in_seq_ = 0;
    in_pos_ = 0;
    dropping_ = false;
    out_j_ = -(L_ / B_);
    out_pos_ = 0;
    out_slot_ = 0;
    out_ready_ = false;
    in_slot_ = 0;
    buffer_ns_.store(int64_t(1e9 * B_ / host_rate_.load()), std::memory_order_relaxed);
    submit_ns_ = 0;
    fast_run_ = 0;
    inline_ = false;
    offline_.store(false, std::memory_order_relaxed);
    std::fill(last_.begin(), last_.end(), 0.0f);
    ctx_.buffer_size = B_;
    {
        std::lock_guard<std::mutex> lk(pause_mutex_);
        pause_requested_ = false;
    }
    pause_cv_.notify_all();
    return ok;
}

void StreamEngine::post(Task* task) {
    tasks_posted_.fetch_add(1, std::memory_order_release);
    tasks_.push(task);
    wake_.post();
}

bool StreamEngine::sync(std::chrono::milliseconds wait) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> f = done->get_future();
    post(make_task([done](WorkerContext&) { done->set_value(); }));
    if (wait < std::chrono::milliseconds(0)) {
        f.wait();  // also returns when the task is dropped by a shutdown (broken promise)
        return true;
    }
    return f.wait_for(wait) == std::future_status::ready;
}

void StreamEngine::reset_stats() noexcept {
    for (auto* c : {&n_blocks_, &n_buffers_, &n_late_, &n_dropped_, &n_waits_, &n_inline_, &n_calls_, &n_nonfinite_})
        c->store(0, std::memory_order_relaxed);
    for (auto* d : {&model_ms_sum_, &model_ms_max_, &audio_us_max_}) d->store(0.0, std::memory_order_relaxed);
}

StreamStats StreamEngine::stats() const noexcept {
    StreamStats s;
    s.blocks = n_blocks_.load(std::memory_order_relaxed);
    s.buffers = n_buffers_.load(std::memory_order_relaxed);
    s.late_blocks = n_late_.load(std::memory_order_relaxed);
    s.dropped_buffers = n_dropped_.load(std::memory_order_relaxed);
    s.waits = n_waits_.load(std::memory_order_relaxed);
    s.inline_buffers = n_inline_.load(std::memory_order_relaxed);
    s.model_calls = n_calls_.load(std::memory_order_relaxed);
    s.nonfinite = n_nonfinite_.load(std::memory_order_relaxed);
    s.model_ms_mean = s.model_calls ? model_ms_sum_.load(std::memory_order_relaxed) / double(s.model_calls) : 0.0;
    s.model_ms_max = model_ms_max_.load(std::memory_order_relaxed);
    s.audio_us_max = audio_us_max_.load(std::memory_order_relaxed);
    return s;
}

// ---------------------------------------------------------------------------------------------------
// Audio side

void StreamEngine::process(const float* const* in, float* const* out, int n) noexcept {
    if (policy() == LatePolicy::Wait)
        process_wait(in, out, n);
    else
        process_live(in, out, n);
}

void StreamEngine::process_live(const float* const* in, float* const* out, int n) noexcept NN_NONBLOCKING {
    run<false>(in, out, n);
}

void StreamEngine::process_wait(const float* const* in, float* const* out, int n) noexcept {
    run<true>(in, out, n);
}

// audio thread; wait-free when Wait is false; no allocation
template <bool Wait>
void StreamEngine::run(const float* const* in, float* const* out, int n) noexcept NN_NONBLOCKING_IF(!Wait) {
    // Calls that cross a buffer boundary (hand-off, result, possibly a wait) are timed for `stats`;
    // the others only copy samples, and reading the clock twice would cost more than they do.
    const bool timed = in_pos_ + n >= B_;
    const int64_t t0 = timed ? now_ns() : 0;
    bump(n_blocks_);
    const int chans_out = batch_ * host_out_;
    if (N_ == 0 || n <= 0) {  // not prepared yet: silence
        for (int c = 0; c < chans_out; ++c)
            if (n > 0) std::memset(out[c], 0, sizeof(float) * static_cast<size_t>(n));
        return;
    }
    if (out_ready_ && in_pos_ != 0 && n <= max_block_ && in_pos_ + n < B_ && out_pos_ + n < B_) {
        // Fast path, most blocks (31 of 32 for Pd at B = 2048): inside both buffers, the input slot
        // already claimed, the output already ready (it stays so until the slot is reused, N buffers
        // later). Only the copies remain; inputs first, as in/out may alias.
        if (!dropping_) {
            float* base = in_store_.data() + static_cast<size_t>(batch_) * host_in_ * B_ * static_cast<size_t>(in_slot_);
            for (int c = 0; c < batch_ * host_in_; ++c)
                std::memcpy(base + static_cast<size_t>(c) * B_ + in_pos_, in[c], sizeof(float) * static_cast<size_t>(n));
        }
        const float* src = out_store_.data() + static_cast<size_t>(chans_out) * B_ * static_cast<size_t>(out_slot_);
        for (int c = 0; c < chans_out; ++c) {
            std::memcpy(out[c], src + static_cast<size_t>(c) * B_ + out_pos_, sizeof(float) * static_cast<size_t>(n));
            last_[c] = out[c][n - 1];
        }
        in_pos_ += n;
        out_pos_ += n;
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
    if (timed) raise_max(audio_us_max_, double(now_ns() - t0) * 1e-3);
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
    s.in_free.store(false, std::memory_order_relaxed);  // published by the release below
    s.submitted = in_seq_;
    queue_[tail % cap].store(in_seq_, std::memory_order_relaxed);
    // release: the worker that acquires q_tail_ sees the slot's input samples and in_free == false.
    q_tail_.store(tail + 1, std::memory_order_release);
    bump(n_buffers_);
    // Offline detection: a host that hands over buffers more than twice as fast as real time is
    // rendering offline (pd -batch). Under the Wait policy the audio thread then computes the buffers
    // itself when it needs them (see wait_for) and the worker is not woken for each one.
    const int64_t now = now_ns();
    const bool fast = submit_ns_ != 0 && now - submit_ns_ < buffer_ns_.load(std::memory_order_relaxed) / 2;
    submit_ns_ = now;
    fast_run_ = fast ? fast_run_ + 1 : 0;
    const bool was_inline = inline_;
    inline_ = wait_policy && fast_run_ >= 4;
    if (inline_) bump(n_inline_);
    if (inline_ != was_inline) offline_.store(inline_, std::memory_order_relaxed);
    if (!inline_ || !was_inline) wake_.post();
}

template <bool Wait>
void StreamEngine::read_output(float* const* out, int off, int n, bool& waited, bool& late) noexcept NN_NONBLOCKING_IF(!Wait) {
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

// Token holder only: computes the oldest submitted buffer. False when the queue is empty.
bool StreamEngine::consume_one() {
    const uint64_t head = q_head_.load(std::memory_order_relaxed);
    if (N_ == 0 || head == q_tail_.load(std::memory_order_acquire)) return false;
    const uint64_t cap = static_cast<uint64_t>(2 * N_);
    process_buffer(queue_[head % cap].load(std::memory_order_relaxed));
    q_head_.store(head + 1, std::memory_order_release);
    return true;
}

// audio thread under the Wait policy only; blocks. Waits until ready() holds, computing queued
// buffers itself whenever the worker is not computing: sleeping on the worker would cost two
// context switches per buffer, more than a light model's whole call.
template <class Ready>
bool StreamEngine::wait_for(Ready ready) noexcept {
    const int64_t deadline = now_ns() + int64_t(kWaitTimeoutMs) * 1000000;
    for (;;) {
        if (ready()) return true;
        if (try_lock()) {
            bool progressed = false;
            try {
                // Tasks first (set, method, load...): under an offline render the worker rarely gets
                // the token, and a task must apply before the next buffer, as it would live.
                if (!tasks_.empty()) run_tasks();
                while (!ready() && consume_one()) progressed = true;
            } catch (...) {  // process_buffer catches the model's exceptions; this is bad_alloc at worst
            }
            token_.store(false, std::memory_order_release);
            // Holding the token with an empty queue, nothing else can make it ready (a safety net:
            // a submitted buffer is queued, being computed by the token holder, or done).
            if (!progressed) return ready();
            continue;
        }
        if (spin_until([&] { return ready() || !token_.load(std::memory_order_relaxed); }, kAudioSpinNs)) continue;
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

// ---------------------------------------------------------------------------------------------------
// Worker side

void StreamEngine::run_tasks() {
    for (Task* t = tasks_.drain(); t;) {
        Task* next = t->next;
        // Once stopping, tasks are dropped unrun: they may refer to an owner that is gone (retire()).
        if (!stop_.load(std::memory_order_acquire)) t->run(ctx_);
        delete t;
        t = next;
        tasks_run_.fetch_add(1, std::memory_order_release);
    }
    failed_.store(ctx_.failed, std::memory_order_relaxed);
}

void StreamEngine::worker_main() {
    for (;;) {
        {
            std::unique_lock<std::mutex> lk(pause_mutex_);
            if (stop_.load(std::memory_order_acquire)) break;
            if (pause_requested_) {
                paused_ = true;
                pause_cv_.notify_all();
                pause_cv_.wait(lk, [&] { return !pause_requested_ || stop_.load(); });
                paused_ = false;
                continue;
            }
        }
        if (!try_lock()) {  // the audio thread is computing (Wait policy): let it finish
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            continue;
        }
        run_tasks();
        // Offline render under Wait: the audio thread computes the buffers when it needs them. A worker
        // that also took them would keep finding a new one within its spin window and burn a second
        // core (CPU time up to 2x) racing the audio thread for the token; it sleeps instead, and the
        // first buffer submitted at real-time pace wakes it (submit posts when inline_ ends).
        const bool offline = offline_.load(std::memory_order_relaxed);
        const bool did = !offline && consume_one();
        unlock();
        if (did || !tasks_.empty()) continue;
        if (offline) {
            wake_.wait();
            continue;
        }
        // Nothing queued: spin briefly for the next buffer or task, then sleep on the semaphore.
        if (spin_until([&] { return (N_ > 0 && q_head_.load(std::memory_order_relaxed) != q_tail_.load(std::memory_order_acquire)) ||
                                    !tasks_.empty() || stop_.load(std::memory_order_relaxed); }, kWorkerSpinNs))
            continue;
        wake_.wait();
    }
    {
        std::lock_guard<std::mutex> lk(pause_mutex_);
        exited_ = true;
    }
    pause_cv_.notify_all();
}

void StreamEngine::process_buffer(int64_t seq) {
    const size_t slot = static_cast<size_t>(seq % N_);
    Slot& s = slots_[slot];
    const float* in = in_store_.data() + static_cast<size_t>(batch_) * host_in_ * B_ * slot;
    float* out = out_store_.data() + static_cast<size_t>(batch_) * host_out_ * B_ * slot;

    Processor* p = ctx_.failed ? nullptr : ctx_.processor.get();
    MethodShape sh;
    if (p) {
        sh = p->shape();
        if (sh.in_ratio <= 0 || sh.out_ratio <= 0 || B_ % sh.in_ratio != 0 || B_ % sh.out_ratio != 0) {
            ctx_.failed = true;
            failed_.store(true, std::memory_order_relaxed);
            p = nullptr;
            report_error("buffer size " + std::to_string(B_) + " is not a multiple of the method's ratios; model stopped");
        }
    }
    if (!p) {
        s.in_free.store(true, std::memory_order_release);
        std::memset(out, 0, sizeof(float) * static_cast<size_t>(batch_) * host_out_ * B_);
        s.out_seq.store(seq, std::memory_order_release);
        done_.signal();
        return;
    }

    // Decimate: keep the last sample of each in_ratio group (as the reference host does). Model input
    // channels beyond the host's inlets get zeros. The scratch buffers are only reallocated when the
    // shape changes (the worker may allocate; it just need not, per buffer).
    const int fin = B_ / sh.in_ratio, fout = B_ / sh.out_ratio;
    const size_t in_size = static_cast<size_t>(batch_) * sh.in_channels * fin;
    const size_t out_size = static_cast<size_t>(batch_) * sh.out_channels * fout;
    if (scratch_in_.size() != in_size) scratch_in_.assign(in_size, 0.0f);
    if (scratch_out_.size() != out_size) scratch_out_.assign(out_size, 0.0f);
    for (int b = 0; b < batch_; ++b)
        for (int c = 0; c < sh.in_channels; ++c) {
            float* dst = scratch_in_.data() + static_cast<size_t>(b * sh.in_channels + c) * fin;
            if (c >= host_in_) {
                std::memset(dst, 0, sizeof(float) * static_cast<size_t>(fin));
                continue;
            }
            const float* src = in + static_cast<size_t>(b * host_in_ + c) * B_;
            if (sh.in_ratio == 1)
                std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(fin));
            else
                for (int f = 0; f < fin; ++f) dst[f] = src[f * sh.in_ratio + sh.in_ratio - 1];
        }
    // release: the audio thread may overwrite this slot's input from now on
    s.in_free.store(true, std::memory_order_release);
    done_.signal();

    std::string error;
    const auto t0 = Clock::now();
    bool ok = false;
    try {
        ok = p->process(scratch_in_.data(), batch_, fin, scratch_out_.data(), fout, error);
    } catch (const std::exception& e) {
        error = e.what();
    } catch (...) {
        error = "unknown exception";
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    bump(n_calls_);
    model_ms_sum_.store(model_ms_sum_.load(std::memory_order_relaxed) + ms, std::memory_order_relaxed);
    raise_max(model_ms_max_, ms);

    if (!ok) {
        ctx_.failed = true;
        failed_.store(true, std::memory_order_relaxed);
        report_error(error);
        std::fill(scratch_out_.begin(), scratch_out_.end(), 0.0f);
    }
    // NaN/Inf scan, vectorised; the per-sample repair pass runs only when it finds something. (A float
    // sum of v * 0 would be one serial chain of adds, ~2.5 us per 2048 samples: more than a light
    // model's call.)
    const bool nonfinite = any_nonfinite(scratch_out_.data(), scratch_out_.size());
    uint64_t bad = 0;
    if (nonfinite)
        for (float& v : scratch_out_)
            if (!std::isfinite(v)) {
                v = 0.0f;
                ++bad;
            }
    if (bad) {
        if (n_nonfinite_.load(std::memory_order_relaxed) == 0)
            report_warning("the model produced NaN or Inf (" + std::to_string(bad) +
                           " samples in one buffer); they are replaced by 0 (see `stats`)");
        bump(n_nonfinite_, bad);
    }
    // Hold each output frame for out_ratio samples; host outlets beyond the model's channels get zeros.
    for (int b = 0; b < batch_; ++b)
        for (int c = 0; c < host_out_; ++c) {
            float* dst = out + static_cast<size_t>(b * host_out_ + c) * B_;
            if (c >= sh.out_channels) {
                std::memset(dst, 0, sizeof(float) * static_cast<size_t>(B_));
                continue;
            }
            const float* src = scratch_out_.data() + static_cast<size_t>(b * sh.out_channels + c) * fout;
            if (sh.out_ratio == 1)
                std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(B_));
            else
                for (int f = 0; f < fout; ++f) std::fill_n(dst + static_cast<size_t>(f) * sh.out_ratio, sh.out_ratio, src[f]);
        }
    // release: pairs with the audio thread's acquire of out_seq before it reads `out`
    s.out_seq.store(seq, std::memory_order_release);
    done_.signal();
}

}  // namespace nn
