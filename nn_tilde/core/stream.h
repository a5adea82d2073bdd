// The torch-free streaming engine: audio-side rings, the lock-free hand-off of whole buffers to one
// persistent worker thread, decimation/hold by the method's ratios, the late-block policy and the
// counters. Nothing here knows about torch, Pd or Max, so the tests drive it with fake processors
// under ThreadSanitizer, AddressSanitizer and RealtimeSanitizer. Implemented in stream.cpp (lifecycle,
// prepare, tasks, counters), stream_audio.cpp (the audio side and the compute token), stream_worker.cpp
// (the worker's loop and one buffer's computation) and frames.cpp (decimation, hold, NaN/Inf scan).
//
// Timing (documented in docs/DESIGN.md, "Latency"): with buffer size B, the host's largest block M and H
// buffers of headroom (`headroom`, 0 by default),
//   latency L = B * (1 + ceil(M / B) + H)   samples, i.e. 2B whenever M <= B and H = 0 (the usual case),
// in every late policy. Input buffer k (host samples [kB, kB+B)) is handed to the worker as soon as
// its last sample arrives; its output is played during [kB+L, kB+B+L). The worker therefore has
// L - B >= max(B, M) + H*B samples of time per buffer: a model that keeps up never makes the audio
// thread wait, and a block never needs a buffer that was completed inside that same block. Headroom
// is for models slower than real time under the live policies: a buffer can only play whole if its
// call fits in L - B, so at r x real time (r > 1) it takes H >= r - 1 for about 1/r of the buffers to
// play (see live_buffer in stream_worker.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "contract.h"  // MethodShape
#include "realtime.h"

namespace nn {

// A compute step the worker calls on whole buffers. worker thread; may block, may allocate.
class Processor {
public:
    virtual ~Processor() = default;
    virtual MethodShape shape() const = 0;
    // in:  [batch][in_channels][in_frames] contiguous, decimated by in_ratio.
    // out: [batch][out_channels][out_frames] contiguous, to be held for out_ratio samples each.
    // Returns false and fills `error` when the call fails; the engine then outputs silence.
    virtual bool process(const float* in, int batch, int in_frames, float* out, int out_frames, std::string& error) = 0;
};

// What the audio thread does when the worker has not delivered a buffer in time.
enum class LatePolicy : int {
    Wait = 0,     // block until it is done: complete, deterministic renders (default, offline-safe)
    Silence = 1,  // never wait; output zeros for the missing samples and count the late block
    Hold = 2,     // never wait; repeat each channel's last output sample and count the late block
};
// Under Silence and Hold the worker also skips a buffer that can no longer be in time, so that it
// computes the newest one instead of working through a backlog that would all play too late.

// The two settings a host may change from any thread, read by the audio thread: one object shared by
// every engine built for the same host object (nn::Instance passes it on when it rebuilds), so that a
// setter called on another thread (Max sets attributes from its scheduler) writes here and never
// touches an engine that the main thread may be replacing. Relaxed: each is one independent value.
struct LiveControls {
    std::atomic<int> policy{static_cast<int>(LatePolicy::Wait)};
    std::atomic<bool> enabled{true};
};
// Made here rather than with std::make_shared in an adapter: make_shared's control block carries
// std typeinfo of default visibility, which a host module would otherwise export beside its entry point.
std::shared_ptr<LiveControls> make_live_controls();

struct StreamStats {
    uint64_t blocks = 0;           // process() calls
    uint64_t buffers = 0;          // buffers handed to the worker
    uint64_t late_blocks = 0;      // process() calls that lacked output, dropped buffers included (live policies)
    uint64_t dropped_buffers = 0;  // input buffers not handed off because the worker was N buffers behind
    uint64_t skipped_buffers = 0;  // buffers the worker skipped as too late to play (live policies)
    uint64_t waits = 0;            // process() calls that had to wait (Wait policy)
    uint64_t inline_buffers = 0;   // buffers the audio thread computed itself (Wait policy, offline host)
    uint64_t model_calls = 0;      // processor calls completed
    uint64_t nonfinite = 0;        // output samples that were NaN/Inf and replaced by 0
    double model_ms_mean = 0.0;
    double model_ms_max = 0.0;
    double audio_us_max = 0.0;  // longest process() call, waits and inline computation included
};

// State the worker owns; tasks receive it. worker thread only.
struct WorkerContext {
    std::unique_ptr<Processor> processor;  // current compute step (nullptr: silence)
    bool failed = false;                   // set after the processor failed; cleared on install
};

// A unit of work run on the worker between two buffers. Allocated by the poster, freed by the worker.
struct Task {
    virtual ~Task() = default;
    virtual void run(WorkerContext& ctx) = 0;
    Task* next = nullptr;
};

template <class F>
struct FnTask final : Task {
    explicit FnTask(F f) : fn(std::move(f)) {}
    void run(WorkerContext& ctx) override { fn(ctx); }
    F fn;
};
template <class F>
Task* make_task(F f) {
    return new FnTask<F>(std::move(f));
}

// Receives what happens on the worker (errors, warnings). Called on the worker thread: implementations
// must only enqueue (see Engine), never print.
class WorkerListener {
public:
    virtual ~WorkerListener() = default;
    virtual void on_worker_error(const std::string& message) = 0;
    virtual void on_worker_warning(const std::string& message) = 0;
};

class StreamEngine {
public:
    // host_inputs/host_outputs: signal channels per batch item, fixed for the engine's life. controls:
    // shared with other engines of the same host object; null: the engine has its own.
    StreamEngine(int batch, int host_inputs, int host_outputs, WorkerListener* listener = nullptr,
                 std::shared_ptr<LiveControls> controls = nullptr);
    ~StreamEngine();  // main thread; joins the worker (waits for a running model call to finish)
    static constexpr std::chrono::milliseconds kForever{-1};
    // main thread; stops the worker and joins it (idempotent). Tasks not run yet are dropped. Returns
    // false, without joining, when the worker has not stopped within `wait` (it is inside a model call
    // that does not return); the engine is then still in use by the worker.
    bool shutdown(std::chrono::milliseconds wait = kForever);
    // main thread; the way to get rid of an engine whose model may hang. Stops the worker and deletes
    // the engine; if the worker is still inside a model call after `wait`, the engine is handed to it
    // instead (detached, the listener dropped): the worker deletes it, with its model, when the call
    // returns, and the caller goes on at once. Returns false in that case.
    static bool retire(std::unique_ptr<StreamEngine> engine, std::chrono::milliseconds wait);
    // any thread; engines handed to their worker by retire() and not freed yet (the process-exit guard
    // waits for them: their model calls must not run under libtorch's static destructors).
    static int orphans() noexcept;
    StreamEngine(const StreamEngine&) = delete;
    StreamEngine& operator=(const StreamEngine&) = delete;

    // main thread, while the host does not call process(). Allocates the rings for buffer size B and
    // host blocks of at most max_block samples; restarts the timeline (output is silent for L samples).
    // Rings larger than kMaxRingBytes, or an allocation that fails, leave the engine unprepared (it
    // outputs silence) and return false after telling the listener why and what to change.
    // headroom: extra buffers of latency (clamped to 0..kMaxHeadroom).
    bool prepare(int buffer_size, int max_block, int headroom = 0);
    static constexpr size_t kMaxRingBytes = size_t(1) << 30;
    static constexpr int kMaxHeadroom = 8;
    // any thread: the host's sample rate, used to tell a real-time host from an offline render and to
    // know when each buffer's output is due.
    void set_host_rate(double sample_rate) noexcept {
        if (sample_rate <= 0) return;
        host_rate_.store(sample_rate, std::memory_order_relaxed);
        if (B_ > 0) buffer_ns_.store(int64_t(1e9 * B_ / sample_rate), std::memory_order_relaxed);
    }

    // any non-audio thread. The task runs on the worker before the next buffer.
    void post(Task* task);
    // any non-audio thread. Blocks until every task posted before it has run (not from the audio thread),
    // or for at most `wait`: false when the worker has not got there by then (a model call that hangs).
    bool sync(std::chrono::milliseconds wait = kForever);

    // any thread (see LiveControls)
    void set_policy(LatePolicy p) noexcept { controls_->policy.store(static_cast<int>(p), std::memory_order_relaxed); }
    LatePolicy policy() const noexcept {
        return static_cast<LatePolicy>(controls_->policy.load(std::memory_order_relaxed));
    }
    void set_enabled(bool on) noexcept { controls_->enabled.store(on, std::memory_order_relaxed); }
    bool enabled() const noexcept { return controls_->enabled.load(std::memory_order_relaxed); }
    const std::shared_ptr<LiveControls>& controls() const noexcept { return controls_; }
    void reset_stats() noexcept;
    StreamStats stats() const noexcept;

    bool tasks_pending() const noexcept {
        return tasks_posted_.load(std::memory_order_acquire) != tasks_run_.load(std::memory_order_acquire);
    }
    bool model_failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
    int buffer_size() const noexcept { return B_; }
    int latency() const noexcept { return L_; }   // samples; 0 before prepare()
    int headroom() const noexcept { return H_; }  // extra buffers of latency, from prepare()
    int batch() const noexcept { return batch_; }
    int host_inputs() const noexcept { return host_in_; }
    int host_outputs() const noexcept { return host_out_; }

    // audio thread; wait-free under Silence/Hold; no allocation, no lock, no exception.
    // in: batch*host_inputs pointers, out: batch*host_outputs pointers, n samples each (in and out may
    // alias, as Pd allows). Under Wait it blocks only when the worker is late, and computes on the calling
    // thread only during an offline render (see submit() in stream_audio.cpp); it never runs tasks.
    void process(const float* const* in, float* const* out, int n) noexcept;

    // The two halves of process(), exposed so the RealtimeSanitizer test can call the live path
    // through a [[clang::nonblocking]] entry point.
    void process_live(const float* const* in, float* const* out, int n) noexcept NN_NONBLOCKING;
    void process_wait(const float* const* in, float* const* out, int n) noexcept;

private:
    struct Slot {
        std::atomic<int64_t> out_seq{-1};  // worker: seq whose output is in `out` (release)
        std::atomic<bool> in_free{true};   // worker: done reading `in` (release)
        int64_t submitted = -1;            // audio thread only: seq handed off from this slot
        int64_t submit_ns = 0;             // audio thread, published with the seq: when it was handed off
    };

    static constexpr int64_t kDropped = -1;   // Slot::submitted: skipped, the worker was behind
    static constexpr int64_t kDisabled = -2;  // Slot::submitted: skipped, `enable 0`

    // Under Wait these may block (and are not nonblocking); under the live policies they are.
    template <bool Wait>
    void run(const float* const* in, float* const* out, int n) noexcept NN_NONBLOCKING_IF(!Wait);
    template <bool Wait>
    void write_input(const float* const* in, int off, int n, bool& waited) noexcept NN_NONBLOCKING_IF(!Wait);
    template <bool Wait>
    void read_output(float* const* out, int off, int n, bool& waited, bool& late) noexcept NN_NONBLOCKING_IF(!Wait);
    void submit(Slot& s, bool wait_policy) noexcept NN_NONBLOCKING;
    bool try_lock() noexcept;
    void unlock() noexcept;
    bool consume_one();
    void live_buffer(int64_t seq, bool newer_queued);
    void note_deadline(bool missed, int64_t now);
    template <class Ready>
    bool wait_for(Ready ready) noexcept;
    bool wait_until(const std::atomic<int64_t>& seq, int64_t value) noexcept;
    bool wait_free(const std::atomic<bool>& flag) noexcept;

    void worker_main();
    void run_tasks();
    // worker (and main, in prepare); the listener is dropped when the engine is orphaned (retire)
    void report_error(const std::string& message);
    void report_warning(const std::string& message);
    void process_buffer(int64_t seq);

    // fixed at construction
    const int batch_, host_in_, host_out_;
    std::mutex listener_mutex_;  // control path only: guards listener_ against retire()
    WorkerListener* listener_;

    // configuration (prepare)
    int B_ = 0, L_ = 0, N_ = 0, H_ = 0, max_block_ = 0;
    std::vector<float> in_store_, out_store_;  // [N][batch*host_in][B], [N][batch*host_out][B]
    std::unique_ptr<Slot[]> slots_;
    std::unique_ptr<std::atomic<int64_t>[]> queue_;  // SPSC ring of submitted seqs, capacity N
    std::atomic<uint64_t> q_head_{0}, q_tail_{0};    // tail: audio (release); head: worker (release)

    // audio-thread state
    int64_t in_seq_ = 0;                // buffer being filled
    int in_pos_ = 0;                    // samples of it written
    bool dropping_ = false;             // this buffer will not be handed off
    int in_slot_ = 0;                   // in_seq_ % N_
    int64_t out_j_ = 0;                 // buffer whose output plays now: (time - L) / B (negative: silence)
    int out_pos_ = 0;                   // position in it: (time - L) % B
    int out_slot_ = 0;                  // out_j_ % N_
    bool out_ready_ = false;            // buffer out_j_ was ready at its last read: later blocks just copy
    std::vector<float> last_;           // Hold policy: last output sample per channel
    int64_t submit_ns_ = 0;             // when the previous buffer was submitted
    int64_t first_ns_ = 0;              // when the first buffer since prepare() was submitted
    int64_t first_seq_ = 0;             // and its seq: host time since then is (in_seq_ - first_seq_) * B
    int fast_run_ = 0;                  // consecutive buffers submitted faster than twice real time
    bool inline_ = false;               // Wait policy + offline pace: the audio thread computes, the worker sleeps
    std::atomic<bool> offline_{false};  // inline_, published for the worker (which then leaves buffers alone)

    std::shared_ptr<LiveControls> controls_;  // never null
    std::atomic<double> host_rate_{44100.0};
    std::atomic<int64_t> buffer_ns_{0};  // real-time duration of one buffer (B / host rate)
    std::atomic<bool> token_{false};     // compute token: see try_lock() in stream_audio.cpp

    // worker
    WorkerContext ctx_;
    std::vector<float> scratch_in_, scratch_out_;
    static constexpr int kRecentCalls = 4;
    int64_t recent_ns_[kRecentCalls] = {};  // live policies: durations of the last calls (0: none yet)
    uint32_t n_recent_ = 0;
    int skip_run_ = 0;          // consecutive buffers skipped although nothing newer was queued
    uint32_t miss_bits_ = 0;    // one bit per recent computed buffer, newest lowest: it finished late
    int64_t last_warn_ns_ = 0;  // when the last "the model is late" warning was sent
    MpscQueue<Task> tasks_;
    Semaphore wake_;       // audio/main -> worker
    AutoResetEvent done_;  // worker -> audio (Wait policy) and sync()
    std::atomic<bool> stop_{false};
    std::atomic<bool> failed_{false};  // mirror of ctx_.failed for other threads
    std::mutex pause_mutex_;           // control path only (prepare/sync vs worker), never the audio thread
    std::condition_variable pause_cv_;
    bool pause_requested_ = false, paused_ = false;
    bool exited_ = false;  // the worker left its loop (pause_mutex_)
    // Who deletes the engine when retire() gives up on the worker: see retire() and the thread's body.
    static constexpr int kRunning = 0, kExited = 1, kOrphaned = 2;
    std::atomic<int> exit_state_{kRunning};
    std::atomic<uint64_t> tasks_posted_{0}, tasks_run_{0};
    std::thread thread_;

    // counters: written by one thread each, read by anybody (relaxed)
    std::atomic<uint64_t> n_blocks_{0}, n_buffers_{0}, n_late_{0}, n_dropped_{0}, n_waits_{0}, n_inline_{0};
    std::atomic<uint64_t> n_skipped_{0};
    std::atomic<uint64_t> n_calls_{0}, n_nonfinite_{0};
    std::atomic<double> model_ms_sum_{0.0}, model_ms_max_{0.0}, audio_us_max_{0.0};
};

}  // namespace nn
