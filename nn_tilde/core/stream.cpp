// The stream engine's lifecycle and control path (see stream.h): construction, shutdown and retire(),
// prepare() (the rings), posting tasks, and the counters. The audio side is in stream_audio.cpp, the
// worker's loop in stream_worker.cpp, the frame conversion in frames.cpp.
#include "stream.h"

#include <algorithm>
#include <chrono>
#include <future>

namespace nn {

namespace {

std::atomic<int> g_orphans{0};  // engines retire() handed to their worker, not freed yet

}  // namespace

std::shared_ptr<LiveControls> make_live_controls() { return std::make_shared<LiveControls>(); }

StreamEngine::StreamEngine(int batch, int host_inputs, int host_outputs, WorkerListener* listener,
                           std::shared_ptr<LiveControls> controls)
    : batch_(std::max(1, batch)),
      host_in_(std::max(0, host_inputs)),
      host_out_(std::max(0, host_outputs)),
      listener_(listener),
      controls_(controls ? std::move(controls) : std::make_shared<LiveControls>()) {
    last_.assign(static_cast<size_t>(batch_ * host_out_), 0.0f);
    thread_ = std::thread([this] {
        run_below_creator();  // never at the host's (possibly real-time) priority: see realtime.h
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

bool StreamEngine::prepare(int buffer_size, int max_block, int headroom) {
    // Park the worker: it finishes the buffer it is computing, then waits on pause_cv_.
    {
        std::unique_lock<std::mutex> lk(pause_mutex_);
        pause_requested_ = true;
        wake_.post();
        pause_cv_.wait(lk, [&] { return paused_ || stop_.load(); });
    }
    B_ = std::max(1, buffer_size);
    max_block_ = std::max(1, max_block);
    H_ = std::clamp(headroom, 0, kMaxHeadroom);
    const int blocks_per_buffer = (max_block_ + B_ - 1) / B_;
    L_ = B_ * (1 + blocks_per_buffer + H_);
    // Slots: the buffer the audio thread reads and the one the worker writes are fewer than
    // 2m + 1 + H apart (m = blocks_per_buffer; the proof is in docs/DESIGN.md, "How the hand-off
    // works"), so 2m + 5 + H slots never give them the same one, with four of margin.
    N_ = 2 * blocks_per_buffer + 5 + H_;
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
        report_error("the streaming buffers would take " + std::to_string(bytes >> 20) + " MiB (" +
                     std::to_string(batch_) + " x " + std::to_string(host_in_ + host_out_) + " channels x " +
                     std::to_string(slots) + " buffers of " + std::to_string(B_) + " samples), more than the " +
                     std::to_string(kMaxRingBytes >> 20) +
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
    first_ns_ = 0;
    first_seq_ = 0;
    fast_run_ = 0;
    // the worker is parked: its deadline bookkeeping restarts with the new timeline
    std::fill(std::begin(recent_ns_), std::end(recent_ns_), int64_t(0));
    n_recent_ = 0;
    skip_run_ = 0;
    miss_bits_ = 0;
    inline_ = false;
    offline_.store(false, std::memory_order_relaxed);
    std::fill(last_.begin(), last_.end(), 0.0f);
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
    for (auto* c :
         {&n_blocks_, &n_buffers_, &n_late_, &n_dropped_, &n_skipped_, &n_waits_, &n_inline_, &n_calls_, &n_nonfinite_})
        c->store(0, std::memory_order_relaxed);
    for (auto* d : {&model_ms_sum_, &model_ms_max_, &audio_us_max_}) d->store(0.0, std::memory_order_relaxed);
}

StreamStats StreamEngine::stats() const noexcept {
    StreamStats s;
    s.blocks = n_blocks_.load(std::memory_order_relaxed);
    s.buffers = n_buffers_.load(std::memory_order_relaxed);
    s.late_blocks = n_late_.load(std::memory_order_relaxed);
    s.dropped_buffers = n_dropped_.load(std::memory_order_relaxed);
    s.skipped_buffers = n_skipped_.load(std::memory_order_relaxed);
    s.waits = n_waits_.load(std::memory_order_relaxed);
    s.inline_buffers = n_inline_.load(std::memory_order_relaxed);
    s.model_calls = n_calls_.load(std::memory_order_relaxed);
    s.nonfinite = n_nonfinite_.load(std::memory_order_relaxed);
    s.model_ms_mean = s.model_calls ? model_ms_sum_.load(std::memory_order_relaxed) / double(s.model_calls) : 0.0;
    s.model_ms_max = model_ms_max_.load(std::memory_order_relaxed);
    s.audio_us_max = audio_us_max_.load(std::memory_order_relaxed);
    return s;
}

}  // namespace nn
