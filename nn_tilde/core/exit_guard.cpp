// The process-exit guard and the registry of what it stops (see exit_guard.h).
#include "exit_guard.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "stream.h"  // StreamEngine::orphans

namespace nn {

namespace {

// The registry is leaked on purpose: it must outlive every static destructor.
std::mutex& registry_mutex() {
    static auto* m = new std::mutex;
    return *m;
}
std::set<Stoppable*>& registry() {
    static auto* s = new std::set<Stoppable*>;
    return *s;
}

// Every live engine's threads, and the workers of engines deleted while their model hung (freed by
// StreamEngine::retire's worker when the call returns), get kExitWaitMs. A model call still running
// after that does not return: going on with the exit would run libtorch's static destructors under
// it (a crash at quit). The host is quitting and has nothing left to save, so the process ends here,
// without them.
void stop_all_engines() {
    using namespace std::chrono;
    const auto until = steady_clock::now() + milliseconds(kExitWaitMs);
    bool stopped = true;
    {
        std::lock_guard<std::mutex> lk(registry_mutex());
        for (Stoppable* e : registry()) {
            const auto left = std::max(milliseconds(0), duration_cast<milliseconds>(until - steady_clock::now()));
            stopped = e->stop_threads(left) && stopped;
        }
    }
    while (stopped && StreamEngine::orphans() > 0 && steady_clock::now() < until)
        std::this_thread::sleep_for(milliseconds(5));
    if (!stopped || StreamEngine::orphans() > 0) {
        std::fflush(nullptr);
        std::_Exit(0);
    }
}

std::atomic<int> g_guards{0};

}  // namespace

// atexit handlers run in reverse order of registration, interleaved with the destructors of statics
// in reverse order of construction. libtorch builds some statics lazily, during the first calls of
// a model (e.g. its convolution backend selection), so a handler registered when the first engine
// was created would run after they are gone, with a worker still inside a call. The guard is
// therefore registered again after each warm-up and after each processor's first call, which
// construct those statics. stop_all_engines is idempotent; the count is bounded.
void arm_exit_guard() {
    if (g_guards.fetch_add(1) < kMaxExitGuards) std::atexit(stop_all_engines);
}

void register_stoppable(Stoppable* s) {
    std::lock_guard<std::mutex> lk(registry_mutex());
    registry().insert(s);
}

void unregister_stoppable(Stoppable* s) {
    std::lock_guard<std::mutex> lk(registry_mutex());
    registry().erase(s);
}

}  // namespace nn
