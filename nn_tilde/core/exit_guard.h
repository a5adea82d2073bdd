// Process exit with engines alive, and deleting an engine whose model call hangs. Hosts may exit
// without deleting their objects (Pd does on `pd quit`); exit then runs libtorch's static destructors
// while a worker may still be inside a model call: a deadlock or a crash at quit. Every engine
// registers here, and an atexit handler joins all engine threads before libtorch's destructors run.
// torch-free header; the Engine it stops is only forward-declared.
#pragma once

#include <string>

namespace nn {

class Engine;

// How long the exit guard waits, for all engines and orphaned workers together, before it ends the
// process without libtorch's static destructors.
constexpr int kExitWaitMs = 5000;

// Any thread; may allocate. (Re-)registers the atexit handler that stops every registered engine.
// Called when an engine is created, after each warm-up and after each processor's first call: see
// exit_guard.cpp for why once is not enough.
void arm_exit_guard();

// main thread; Engine's constructor and destructor. Registered engines are stopped at process exit.
void register_engine(Engine* engine);
void unregister_engine(Engine* engine);
// main thread; ~Engine, when it left a model call that does not return to its worker (StreamEngine::retire).
void count_orphaned_engine();

// main thread; how hosts delete an engine (null is fine). Returns false, with `message` set for the
// console, when its model was still inside a call after kRetireWaitMs and was left to its worker,
// which frees it when the call returns (see ~Engine).
bool delete_engine(Engine* engine, std::string& message);

}  // namespace nn
