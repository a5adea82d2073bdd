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

#if defined(__APPLE__)
#include <dispatch/dispatch.h>
#elif defined(_WIN32)
#include <windows.h>
#else
#include <semaphore.h>
#include <cerrno>
#endif
#if !defined(_WIN32)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/resource.h>
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

// An auto-reset event on one 32-bit word, signalled by the worker (never by the audio thread).
// signal() stores 1 and wakes a waiter; wait() blocks until a signal arrives or the timeout passes.
// Why not a counting semaphore here: the worker signals after every buffer whether or not anybody
// waits, and a counter would grow without bound; an event coalesces those signals and the waiter
// always re-checks its condition. Why not std::condition_variable: waiting on it needs a mutex the
// worker would also take, and the audio thread (Wait policy) must not contend for a lock.
class AutoResetEvent {
public:
    // worker or main thread; never blocks. The FUTEX_WAKE system call is made only when a waiter
    // announced itself: the worker signals after every buffer, and most of the time nobody waits.
    // seq_cst on word_ and waiters_ (here and in wait) forbids the interleaving where the signaller
    // misses the waiter and the waiter misses the signal.
    void signal() noexcept {
        word_.store(1, std::memory_order_seq_cst);
        if (waiters_.load(std::memory_order_seq_cst) == 0) return;
#if defined(__linux__)
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
#else
        word_.notify_one();
#endif
    }

    // worker thread, or the audio thread under the "wait" late policy only; blocks.
    // Returns false when timeout_ms elapsed without a signal.
    bool wait(int timeout_ms = -1) noexcept NN_BLOCKING {
        if (word_.exchange(0, std::memory_order_acquire) == 1) return true;
        waiters_.fetch_add(1, std::memory_order_seq_cst);
        if (word_.exchange(0, std::memory_order_seq_cst) == 1) {
            waiters_.fetch_sub(1, std::memory_order_relaxed);
            return true;
        }
#if defined(__linux__)
        timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, 0, timeout_ms < 0 ? nullptr : &ts,
                nullptr, 0);
#else
        (void)timeout_ms;  // portable fallback: untimed; the worker always signals eventually
        word_.wait(0, std::memory_order_acquire);
#endif
        waiters_.fetch_sub(1, std::memory_order_relaxed);
        return word_.exchange(0, std::memory_order_acquire) == 1;
    }

private:
    std::atomic<uint32_t> word_{0};
    std::atomic<uint32_t> waiters_{0};
};

// A counting semaphore the audio thread posts to wake the worker. post() is a single atomic
// increment plus, when a waiter sleeps, a kernel wake-up that never blocks: POSIX sem_post on Linux
// (glibc issues FUTEX_WAKE inline; RealtimeSanitizer accepts it, while it rejects a raw syscall()),
// dispatch semaphores on macOS, Win32 semaphores on Windows. Extra posts only make the worker loop
// once more over an empty queue, so the count stays small: every post is consumed by one wait.
class Semaphore {
public:
    Semaphore() noexcept {
#if defined(__APPLE__)
        sem_ = dispatch_semaphore_create(0);
#elif defined(_WIN32)
        sem_ = CreateSemaphoreA(nullptr, 0, 0x7fffffff, nullptr);
#else
        sem_init(&sem_, 0, 0);
#endif
    }
    ~Semaphore() {
#if defined(__APPLE__)
        dispatch_release(sem_);
#elif defined(_WIN32)
        CloseHandle(sem_);
#else
        sem_destroy(&sem_);
#endif
    }
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    // any thread, including the audio thread; wait-free; no allocation
    void post() noexcept NN_NONBLOCKING {
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wfunction-effects"  // the OS call is not annotated; see above
#endif
#if defined(__APPLE__)
        dispatch_semaphore_signal(sem_);
#elif defined(_WIN32)
        ReleaseSemaphore(sem_, 1, nullptr);
#else
        sem_post(&sem_);
#endif
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
    }
    // worker thread; blocks
    void wait() noexcept NN_BLOCKING {
#if defined(__APPLE__)
        dispatch_semaphore_wait(sem_, DISPATCH_TIME_FOREVER);
#elif defined(_WIN32)
        WaitForSingleObject(sem_, INFINITE);
#else
        while (sem_wait(&sem_) != 0 && errno == EINTR) {
        }
#endif
    }

private:
#if defined(__APPLE__)
    dispatch_semaphore_t sem_;
#elif defined(_WIN32)
    HANDLE sem_;
#else
    sem_t sem_;
#endif
};

// One spin-loop step: tells the CPU we are spinning (saves power, frees the sibling hyper-thread).
inline void cpu_relax() noexcept NN_NONBLOCKING {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Spins until pred() is true or `ns` nanoseconds passed; returns pred(). Used before sleeping,
// where the thing awaited usually arrives within microseconds (see StreamEngine's kSpin constants).
template <class Pred>
bool spin_until(Pred pred, int64_t ns) noexcept {
    if (pred()) return true;
    const int64_t end = now_ns() + ns;
    do {
        for (int i = 0; i < 64; ++i) cpu_relax();
        if (pred()) return true;
    } while (now_ns() < end);
    return false;
}

// How far below the thread that created it an nn~ thread runs (Linux nice steps; see below).
constexpr int kBackgroundNice = 10;

// Called first thing on each thread nn~ starts (the stream worker, the loader). A new thread inherits
// its creator's scheduling: Pd's thread, which is SCHED_FIFO when Pd runs as root or with -rt. A worker
// at that priority takes a core from Pd for a whole model call (Pd's ticks started 37 ms late with
// eight busy objects). So the thread leaves any real-time class for:
// - Linux: SCHED_BATCH at the creator's nice + kBackgroundNice. A woken SCHED_BATCH thread never
//   preempts the running one (the kernel's fair class skips wake-up preemption for it), so posting a
//   worker from Pd's perform routine cannot switch Pd out in the middle of its DSP tick; it still gets
//   its fair share of CPU, so the model keeps pace on a machine shared with other programs. The nice
//   step matters when Pd is not real-time (SCHED_OTHER at the same nice: Pd 0.55 without -rt, most
//   users): the fair scheduler then weighs Pd about 10x above each worker, so eight busy workers on
//   two cores delay Pd's ticks by up to 7-8 ms instead of 21 ms at a step of 2 (measured with Pd
//   0.55.2, tests/pd/test_live.py). Against another program at nice 0 a worker still gets about a
//   tenth of a shared core, and all of an idle one; SCHED_IDLE would starve the model whenever
//   anything else runs.
// - other systems: SCHED_OTHER (Max's audio thread is real-time; its new threads are not, as a rule).
// Lowering one's own priority needs no privilege. Failures are ignored: the thread then keeps what it
// inherited. worker or loader thread; at its start.
inline void run_below_creator() noexcept {
#if defined(__linux__)
    sched_param param{};
    param.sched_priority = 0;
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
    // On Linux nice is per thread (PRIO_PROCESS with a thread id), inherited from the creator.
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) setpriority(PRIO_PROCESS, tid, nice + kBackgroundNice < 19 ? nice + kBackgroundNice : 19);
#elif !defined(_WIN32)
    int policy = SCHED_OTHER;
    sched_param param{};
    if (pthread_getschedparam(pthread_self(), &policy, &param) == 0 && policy != SCHED_OTHER) {
        param.sched_priority = 0;
        pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
    }
#endif
}

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
        while (!head_.compare_exchange_weak(node->next, node, std::memory_order_release, std::memory_order_relaxed)) {
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
