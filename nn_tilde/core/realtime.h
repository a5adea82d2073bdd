// Real-time primitives shared by the core: the nonblocking annotation, a wake-up event that the
// audio thread may signal without blocking, and a lock-free multi-producer queue.
//
// Contract vocabulary used throughout nn_tilde/core:
//   "audio thread; wait-free; no allocation"  - may be called from a host perform routine.
//   "worker thread; may block"                - runs on the engine's persistent worker.
//   "main thread"                              - the host's message thread (Pd's scheduler outside DSP).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

// Functions marked NN_NONBLOCKING are checked by clang's function-effect analysis at compile time
// (-Wfunction-effects) and by RealtimeSanitizer at run time (-fsanitize=realtime): reaching malloc,
// a mutex or a blocking system call from them aborts the RTSan test build.
#if defined(__clang__) && defined(__has_cpp_attribute)
#if __has_cpp_attribute(clang::nonblocking)
#define NN_NONBLOCKING [[clang::nonblocking]]
#define NN_NONBLOCKING_IF(cond) [[clang::nonblocking(cond)]]
#define NN_BLOCKING [[clang::blocking]]
#endif
#endif
#ifndef NN_NONBLOCKING
#define NN_NONBLOCKING
#define NN_NONBLOCKING_IF(cond)
#define NN_BLOCKING
#endif

namespace nn {

// Monotonic time in nanoseconds. audio thread; wait-free; no allocation (clock_gettime is a vDSO call).
inline int64_t now_ns() noexcept NN_NONBLOCKING {
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wfunction-effects"
#endif
    const auto t = std::chrono::steady_clock::now().time_since_epoch();
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t).count();
}

// An auto-reset event on one 32-bit word. signal() never blocks: it stores 1 and, on Linux, issues a
// FUTEX_WAKE (a non-blocking system call that only touches the kernel's wait queue). wait() blocks
// until a signal arrives or the timeout passes. Why not std::condition_variable: notifying it
// correctly needs the mutex, which the audio thread must never take. Why not a counting semaphore:
// the worker signals after every buffer whether or not anybody waits, and a counter would grow
// without bound; an event coalesces those signals and the waiter always re-checks its condition.
class Event {
public:
    // any thread, including the audio thread; wait-free; no allocation
    void signal() noexcept NN_NONBLOCKING {
        word_.store(1, std::memory_order_release);
#if defined(__linux__)
        // FUTEX_WAKE never sleeps; the static analysis cannot know that about syscall().
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wfunction-effects"
#endif
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
#else
        word_.notify_one();
#endif
    }

    // worker thread, or the audio thread under the "wait" late policy only; blocks.
    // Returns false when timeout_ms elapsed without a signal.
    bool wait(int timeout_ms = -1) noexcept NN_BLOCKING {
        if (word_.exchange(0, std::memory_order_acquire) == 1) return true;
#if defined(__linux__)
        timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, 0,
                timeout_ms < 0 ? nullptr : &ts, nullptr, 0);
#else
        (void)timeout_ms;  // portable fallback: untimed; the worker always signals eventually
        word_.wait(0, std::memory_order_acquire);
#endif
        return word_.exchange(0, std::memory_order_acquire) == 1;
    }

private:
    std::atomic<uint32_t> word_{0};
};

// Intrusive multi-producer single-consumer queue (a Treiber stack drained whole and reversed).
// Producers: any non-audio thread; they allocate the node. Consumer: one thread, which owns and frees
// drained nodes. Lock-free: push is a CAS loop, drain is one exchange.
template <class Node>  // Node has a member `Node* next`
class MpscQueue {
public:
    ~MpscQueue() {
        Node* n = head_.exchange(nullptr);
        while (n) {
            Node* next = n->next;
            delete n;
            n = next;
        }
    }
    // producer side (non-audio threads)
    void push(Node* node) noexcept {
        node->next = head_.load(std::memory_order_relaxed);
        while (!head_.compare_exchange_weak(node->next, node, std::memory_order_release,
                                            std::memory_order_relaxed)) {
        }
    }
    // consumer side: returns the oldest-first list of everything pushed so far, or nullptr.
    Node* drain() noexcept {
        Node* n = head_.exchange(nullptr, std::memory_order_acquire);
        Node* fifo = nullptr;
        while (n) {  // reverse LIFO into FIFO
            Node* next = n->next;
            n->next = fifo;
            fifo = n;
            n = next;
        }
        return fifo;
    }
    bool empty() const noexcept { return head_.load(std::memory_order_relaxed) == nullptr; }

private:
    std::atomic<Node*> head_{nullptr};
};

}  // namespace nn
