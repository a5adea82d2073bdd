// The stream engine's worker (see stream.h): its loop (tasks, buffers, pausing for prepare(), parking
// while an offline render computes inline), skipping late buffers under the live policies, and the
// computation of one buffer.
#include "stream.h"

#include <algorithm>
#include <bitset>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

#include "frames.h"
#include "stream_internal.h"

namespace nn {

using namespace stream_internal;
using Clock = std::chrono::steady_clock;

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
        if (spin_until(
                [&] {
                    return (N_ > 0 &&
                            q_head_.load(std::memory_order_relaxed) != q_tail_.load(std::memory_order_acquire)) ||
                           !tasks_.empty() || stop_.load(std::memory_order_relaxed);
                },
                kWorkerSpinNs))
            continue;
        wake_.wait();
    }
    {
        std::lock_guard<std::mutex> lk(pause_mutex_);
        exited_ = true;
    }
    pause_cv_.notify_all();
}

// worker thread; may block. Under the live policies a buffer's output is due at a known time: B
// samples of host time after its hand-off (L - B in general), for one buffer's duration. The audio
// side plays whatever part of it is ready by then, so a buffer that would finish after its window
// ends is useless, and one that would finish after its window starts is worth less than a newer one
// that can still be on time. Such buffers are skipped (their output stays "not ready": silence or
// hold, counted late by the audio side), so an overloaded worker always works on the newest buffer
// instead of on a backlog that would all play too late. The model's duration is estimated by the
// fastest of its last kRecentCalls calls: one slow call (a hiccup) must not make it skip buffers that
// would be in time. With no estimate yet, or after kMaxSkipRun skips in a row, the buffer is computed.
void StreamEngine::live_buffer(int64_t seq, bool newer_queued) {
    Slot& s = slots_[static_cast<size_t>(seq % N_)];
    const int64_t buf = buffer_ns_.load(std::memory_order_relaxed);
    const int64_t start = s.submit_ns + int64_t(L_ / B_ - 1) * buf;  // its output starts playing
    const int64_t now = now_ns();
    const int64_t est = *std::min_element(recent_ns_, recent_ns_ + kRecentCalls);
    const int64_t finish = now + est;
    const bool useless = finish > start + buf && skip_run_ < kMaxSkipRun;
    if (est > 0 && ((newer_queued && finish > start) || useless)) {
        if (!newer_queued) ++skip_run_;
        // release: the audio thread may overwrite this slot's input from now on
        s.in_free.store(true, std::memory_order_release);
        bump(n_skipped_);
        return;
    }
    skip_run_ = 0;
    process_buffer(seq);
    const int64_t done = now_ns();
    recent_ns_[n_recent_++ % kRecentCalls] = done - now;
    note_deadline(done > start, done);
}

// worker thread; may block. Records whether a computed buffer finished after its output started to
// play and warns through the listener (an event for the host's main thread), at most once per
// kLateWarnIntervalNs, with what was measured and what to change, as soon as the evidence is clear:
//  - when most of the last 8 computed buffers finished late (a model near 1x real time), or
//  - when every call so far, at least kHopelessCalls of them, took longer than the whole time a buffer
//    is given ((1 + H) buffers): such a model can never play a buffer whole, and it computes so few
//    buffers (a quarter as many as it is sent at 4x) that the first rule would wait seconds.
// Skipped buffers do not count, and neither does a single long call (a hiccup): the second rule wants
// every recorded call slow, so one slow call among fast ones never triggers it.
void StreamEngine::note_deadline(bool missed, int64_t now) {
    miss_bits_ = (miss_bits_ << 1) | (missed ? 1u : 0u);
    const int computed = static_cast<int>(std::min<uint32_t>(n_recent_, 8));
    const int misses = static_cast<int>(std::bitset<8>(miss_bits_ & 0xffu).count());
    const int recorded = static_cast<int>(std::min<uint32_t>(n_recent_, kRecentCalls));
    const int64_t buf_ns = buffer_ns_.load(std::memory_order_relaxed);
    int64_t sum = 0, fastest = INT64_MAX;
    for (int k = 0; k < recorded; ++k) {
        sum += recent_ns_[k];
        fastest = std::min(fastest, recent_ns_[k]);
    }
    const bool hopeless = recorded >= kHopelessCalls && fastest > int64_t(1 + H_) * buf_ns;
    if (!missed || (misses < kLateWarnMisses && !hopeless)) return;
    if (last_warn_ns_ != 0 && now - last_warn_ns_ < kLateWarnIntervalNs) return;
    last_warn_ns_ = now;
    const double buf_ms = 1e-6 * double(buf_ns);
    const double call_ms = recorded > 0 ? 1e-6 * double(sum) / recorded : 0.0;
    const double ratio = buf_ms > 0 ? call_ms / buf_ms : 0.0;
    // A buffer plays whole when its call fits in the L - B it is given, (1 + H) buffers: headroom
    // h > ratio - 1 (with a little margin for scheduling) lets about 1/ratio of the buffers play.
    const int want = std::max(H_ + 1, static_cast<int>(std::ceil(ratio + 0.2)) - 1);
    char more[200] = "";
    if (want <= kMaxHeadroom)
        std::snprintf(more, sizeof more,
                      "Give it more time with `headroom %d` (%.0f ms more latency; about %.0f%% of the buffers "
                      "then play), ",
                      want, (want - H_) * buf_ms, std::min(100.0, ratio > 0 ? 100.0 / ratio : 100.0));
    char text[600];
    std::snprintf(text, sizeof text,
                  "the model is late: %d of the last %d buffers it computed played in part or not at all, and "
                  "later ones were skipped; one call takes %.1f ms for %.1f ms of audio (%.2fx real time, with "
                  "%.1f ms to compute each buffer, and it must stay below 1x with the other objects). %s%s a "
                  "bigger buffer (`bufsize %d`) or fewer nn~ objects; `stats` counts the skipped buffers",
                  misses, computed, call_ms, buf_ms, ratio, (1 + H_) * buf_ms, more, more[0] ? "use" : "Use", 2 * B_);
    report_warning(text);
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
            report_error("buffer size " + std::to_string(B_) +
                         " is not a multiple of the method's ratios; model stopped");
        }
    }
    if (!p) {
        s.in_free.store(true, std::memory_order_release);
        std::memset(out, 0, sizeof(float) * static_cast<size_t>(batch_) * host_out_ * B_);
        s.out_seq.store(seq, std::memory_order_release);
        done_.signal();
        return;
    }

    // Decimate (frames.h). The scratch buffers are only reallocated when the shape changes (the worker
    // may allocate; it just need not, per buffer).
    const int fin = B_ / sh.in_ratio, fout = B_ / sh.out_ratio;
    const size_t in_size = static_cast<size_t>(batch_) * sh.in_channels * fin;
    const size_t out_size = static_cast<size_t>(batch_) * sh.out_channels * fout;
    if (scratch_in_.size() != in_size) scratch_in_.assign(in_size, 0.0f);
    if (scratch_out_.size() != out_size) scratch_out_.assign(out_size, 0.0f);
    decimate_input(in, batch_, host_in_, B_, sh, scratch_in_.data());
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
    // NaN/Inf scan, vectorised; the per-sample repair pass runs only when it finds something.
    const uint64_t bad = any_nonfinite(scratch_out_.data(), scratch_out_.size())
                             ? replace_nonfinite(scratch_out_.data(), scratch_out_.size())
                             : 0;
    if (bad) {
        if (n_nonfinite_.load(std::memory_order_relaxed) == 0)
            report_warning("the model produced NaN or Inf (" + std::to_string(bad) +
                           " samples in one buffer); they are replaced by 0 (see `stats`)");
        bump(n_nonfinite_, bad);
    }
    // Hold each output frame for out_ratio samples (frames.h).
    hold_output(scratch_out_.data(), batch_, sh, B_, out, host_out_);
    // release: pairs with the audio thread's acquire of out_seq before it reads `out`
    s.out_seq.store(seq, std::memory_order_release);
    done_.signal();
}

}  // namespace nn
