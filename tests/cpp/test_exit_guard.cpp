// The process-exit guard (exit_guard.h) with fake stoppables and real orphaned stream workers. What
// it does happens at process exit, so each case runs in a forked child that exits as a host does
// (std::exit: atexit handlers and static destructors). The child reports through a pipe, from the
// fakes, from an atexit handler registered before the guard was armed (so it runs after the guard)
// and from a static destructor; the parent checks those reports, the child's exit status and how long
// it took. A child that goes on with the exit returns kGoesOn; the guard's std::_Exit returns 0.
// Built plain and with each sanitizer (torch-free).
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "check.h"
#include "exit_guard.h"
#include "stream.h"

using namespace nn;
using namespace std::chrono;

namespace {

constexpr int kGoesOn = 3;  // the child's exit status when the exit was not cut short
int g_out = -1;             // child: the write end of the report pipe

// child; unbuffered, so nothing is lost or duplicated whichever way the process ends
void say(const char* fmt, ...) {
    char b[256];
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(b, sizeof b - 1, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    const size_t len = std::min(size_t(n), sizeof b - 2);
    b[len] = '\n';
    if (write(g_out, b, len + 1) < 0) std::abort();
}

// A registered object that reports how it was stopped.
struct Fake final : Stoppable {
    const char* name = "?";
    int takes_ms = 0;   // how long stopping takes
    bool stops = true;  // false: "still inside a call" after the wait
    std::atomic<int> calls{0};
    bool stop_threads(milliseconds wait) override {
        if (calls.fetch_add(1) == 0) say("stop %s wait=%lld", name, (long long)wait.count());
        if (takes_ms > 0) std::this_thread::sleep_for(milliseconds(takes_ms));
        return stops;
    }
};

// Two fakes in one allocation: the guard stops them in address order, [0] first. Leaked on purpose,
// like the engines a host does not delete before it exits.
Fake* g_fakes = nullptr;
Fake* make_fakes() {
    g_fakes = new Fake[2];
    g_fakes[0].name = "first";
    g_fakes[1].name = "second";
    return g_fakes;
}

// Registered before the guard is armed, so it runs after the guard's handler: it reports that the
// exit went on past the guard.
void late_handler() {
    say("late handler ran: first=%d second=%d orphans=%d", g_fakes ? g_fakes[0].calls.load() : -1,
        g_fakes ? g_fakes[1].calls.load() : -1, StreamEngine::orphans());
}

struct StaticMarker {
    ~StaticMarker() { say("static destructor ran"); }
};
// A static built before the guard is armed: destroyed after the guard's handler, if the exit goes on.
void build_static_marker() { static StaticMarker m; }

// A static built after the first arming and before the next, as libtorch builds some of its own
// during a model's first calls: it reports whether the guard had stopped the fakes before it died.
struct LazyStatic {
    ~LazyStatic() { say("lazy static destroyed after %d stop(s)", g_fakes ? g_fakes[1].calls.load() : -1); }
};
void build_lazy_static() { static LazyStatic m; }

// Registers what reports a normal end of the exit, before the guard is armed.
void prepare_exit_reports() {
    if (std::atexit(late_handler) != 0) std::abort();
    build_static_marker();
}

// An engine deleted while its worker is inside a call that takes `call_ms` (forever when < 0):
// retire() leaves it to its worker, an orphan the guard waits for.
void orphan_a_worker(int call_ms) {
    auto entered = std::make_shared<std::atomic<bool>>(false);
    auto eng = std::make_unique<StreamEngine>(1, 1, 1);
    eng->prepare(64, 64);
    eng->post(make_task([entered, call_ms](WorkerContext&) {
        entered->store(true);
        const auto until = steady_clock::now() + milliseconds(call_ms);
        while (call_ms < 0 || steady_clock::now() < until) std::this_thread::sleep_for(milliseconds(5));
    }));
    for (int i = 0; i < 2000 && !entered->load(); ++i) std::this_thread::sleep_for(milliseconds(1));
    if (!entered->load() || StreamEngine::retire(std::move(eng), milliseconds(20))) {
        say("could not orphan a worker");
        return;
    }
    say("orphans at exit=%d", StreamEngine::orphans());
}

// ---- the cases (each in its own child) ---------------------------------------------------------

// Every registered object is stopped, in turn, with what is left of one kExitWaitMs; then the exit
// goes on (atexit handlers registered earlier, static destructors).
void case_stops_all_with_shared_budget() {
    prepare_exit_reports();
    Fake* f = make_fakes();
    f[0].takes_ms = 400;
    register_stoppable(&f[0]);
    register_stoppable(&f[1]);
    arm_exit_guard();
}

// An object still inside a call after its wait: every other object is still stopped, then the
// process ends at once with status 0, before the handlers registered earlier and the static destructors.
void case_refusal_ends_process() {
    prepare_exit_reports();
    Fake* f = make_fakes();
    f[0].stops = false;
    register_stoppable(&f[0]);
    register_stoppable(&f[1]);
    arm_exit_guard();
}

// Unregistered objects (deleted engines) are not touched; unregistering twice is harmless.
void case_unregister() {
    prepare_exit_reports();
    Fake* f = make_fakes();
    register_stoppable(&f[0]);
    register_stoppable(&f[1]);
    unregister_stoppable(&f[0]);
    unregister_stoppable(&f[0]);
    arm_exit_guard();
}

// Each arming runs the guard once more at exit, before the statics built since the previous arming
// are destroyed (atexit handlers and static destructors run in reverse order). Arming many times
// registers the handler at most kMaxExitGuards times, and stopping again is harmless.
void case_rearm_bounded() {
    prepare_exit_reports();
    Fake* f = make_fakes();
    register_stoppable(&f[1]);
    arm_exit_guard();
    build_lazy_static();
    for (int i = 0; i < 4 * kMaxExitGuards; ++i) arm_exit_guard();
}

// A worker orphaned by retire() whose call returns within the budget is waited for, then the exit
// goes on with no orphan left.
void case_orphan_returns() {
    prepare_exit_reports();
    orphan_a_worker(400);
    arm_exit_guard();
}

// A worker whose call never returns: the guard waits kExitWaitMs, then ends the process with status 0
// before the handlers registered earlier and the static destructors.
void case_orphan_hangs() {
    prepare_exit_reports();
    orphan_a_worker(-1);
    arm_exit_guard();
}

// ---- the parent ------------------------------------------------------------------------------

struct Child {
    bool exited = false;
    int status = -1;
    std::string out;
    double seconds = 0;
};

Child run_child(void (*scenario)()) {
    Child c;
    int fds[2];
    if (pipe(fds) != 0) {
        EXPECT_MSG(false, "pipe failed");
        return c;
    }
    std::fflush(nullptr);
    const auto t0 = steady_clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        g_out = fds[1];
        scenario();
        std::exit(kGoesOn);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        EXPECT_MSG(false, "fork failed");
        return c;
    }
    char b[512];
    for (ssize_t n; (n = read(fds[0], b, sizeof b)) != 0;)
        if (n > 0) c.out.append(b, size_t(n));
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    c.seconds = duration<double>(steady_clock::now() - t0).count();
    c.exited = WIFEXITED(st);
    c.status = c.exited ? WEXITSTATUS(st) : -1;
    return c;
}

bool has(const Child& c, const char* text) { return c.out.find(text) != std::string::npos; }

// The number after `key` in the report (-1 when absent).
long long value(const Child& c, const char* key) {
    const size_t at = c.out.find(key);
    if (at == std::string::npos) return -1;
    return std::atoll(c.out.c_str() + at + std::string(key).size());
}

void report(const char* name, const Child& c) {
    std::printf("-- %s: status %d after %.2f s\n%s", name, c.status, c.seconds, c.out.c_str());
}

}  // namespace

int main() {
    {
        const Child c = run_child(case_stops_all_with_shared_budget);
        report("stops all with a shared budget", c);
        EXPECT(c.exited && c.status == kGoesOn);
        const long long w1 = value(c, "stop first wait="), w2 = value(c, "stop second wait=");
        EXPECT_MSG(w1 > kExitWaitMs - 200 && w1 <= kExitWaitMs, "first got %lld ms", w1);
        // the second gets what the first's 400 ms left
        EXPECT_MSG(w2 >= 0 && w2 <= kExitWaitMs - 400 && w2 > kExitWaitMs - 1500, "second got %lld ms", w2);
        EXPECT(has(c, "late handler ran: first=1 second=1"));
        EXPECT(has(c, "static destructor ran"));
    }
    {
        const Child c = run_child(case_refusal_ends_process);
        report("a refusal ends the process", c);
        EXPECT_MSG(c.exited && c.status == 0, "status %d", c.status);
        EXPECT(has(c, "stop first wait="));
        EXPECT(has(c, "stop second wait="));  // the others are still stopped
        EXPECT(!has(c, "late handler ran"));
        EXPECT(!has(c, "static destructor ran"));
        EXPECT_MSG(c.seconds < 3.0, "took %.2f s", c.seconds);  // no wait for orphans after a refusal
    }
    {
        const Child c = run_child(case_unregister);
        report("unregister", c);
        EXPECT(c.exited && c.status == kGoesOn);
        EXPECT(!has(c, "stop first"));
        EXPECT(has(c, "stop second wait="));
        EXPECT(has(c, "late handler ran: first=0 second=1"));
    }
    {
        const Child c = run_child(case_rearm_bounded);
        report("re-armed, bounded", c);
        EXPECT(c.exited && c.status == kGoesOn);
        EXPECT_MSG(value(c, "lazy static destroyed after ") >= 1, "the guard ran after a static built after arming");
        EXPECT_MSG(value(c, "second=") == kMaxExitGuards, "the handler ran %lld times", value(c, "second="));
        EXPECT(has(c, "static destructor ran"));
    }
    {
        const Child c = run_child(case_orphan_returns);
        report("an orphan that returns", c);
        EXPECT(c.exited && c.status == kGoesOn);
        EXPECT(has(c, "orphans at exit=1"));
        EXPECT(has(c, "orphans=0"));  // the late handler ran after the orphan was freed
        EXPECT(has(c, "static destructor ran"));
    }
    {
        const Child c = run_child(case_orphan_hangs);
        report("an orphan that hangs", c);
        EXPECT_MSG(c.exited && c.status == 0, "status %d", c.status);
        EXPECT(has(c, "orphans at exit=1"));
        EXPECT(!has(c, "late handler ran"));
        EXPECT(!has(c, "static destructor ran"));
        EXPECT_MSG(c.seconds > kExitWaitMs / 1000.0 - 0.3 && c.seconds < kExitWaitMs / 1000.0 + 10,
                   "took %.2f s (the guard waits %d ms for orphans)", c.seconds, kExitWaitMs);
    }
    TEST_MAIN_END();
}
