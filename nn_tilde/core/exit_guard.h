// Process exit with engines alive. Hosts may exit without deleting their objects (Pd does on
// `pd quit`); exit then runs libtorch's static destructors while a worker may still be inside a model
// call: a deadlock or a crash at quit. Every engine registers here, and an atexit handler joins all
// engine threads before libtorch's destructors run. torch-free: the guard knows engines only as
// Stoppable, and the workers of deleted engines through StreamEngine::orphans() (so it builds, and is
// tested, in the torch-free sanitizer builds too).
#pragma once

#include <chrono>

namespace nn {

// How long the exit guard waits, for all engines and orphaned workers together, before it ends the
// process without libtorch's static destructors.
constexpr int kExitWaitMs = 5000;
// How many times arm_exit_guard registers the handler at most (each call after that does nothing).
constexpr int kMaxExitGuards = 256;

// What the exit guard stops at process exit (Engine). Never deleted through this interface.
class Stoppable {
public:
    // At process exit, from the guard's atexit handler. Joins the object's threads (idempotent: it may
    // be called again by a later handler). `wait` is what is left of the shared kExitWaitMs. Returns
    // false when a thread is still inside a call after `wait` (it is then not joined).
    virtual bool stop_threads(std::chrono::milliseconds wait) = 0;

protected:
    ~Stoppable() = default;
};

// Any thread; may allocate. (Re-)registers the atexit handler that stops every registered object.
// Called when an engine is created, after each warm-up and after each processor's first call: see
// exit_guard.cpp for why once is not enough.
void arm_exit_guard();

// main thread; Engine's constructor and destructor. Registered objects are stopped at process exit.
void register_stoppable(Stoppable* s);
void unregister_stoppable(Stoppable* s);

}  // namespace nn
