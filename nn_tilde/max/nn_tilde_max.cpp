// nn~ and mc.nn~ for Max/MSP: a thin adapter over nn::Engine (nn_tilde/core), the same engine the Pd
// external uses. Built twice: without NN_MAX_MC as nn~, with NN_MAX_MC=1 as mc.nn~. Reads top-down in
// Max's order: new, perform64, dsp64, messages, attributes, assist, free, ext_main.
//
//   [nn~ <model> [<method>] [<buffer size>] @enable 0|1 @policy wait|silence|hold]
//   [mc.nn~ <model> [<method>] [<buffer size>] [@chans <voices>] ...]
//
// mc.nn~: each signal inlet carries one model input channel for every voice, each signal outlet one
// output channel; voices are batch items of one forward call (nn::ChannelRouter, host.h). Without
// @chans (or with @chans 0) the voices follow the widest incoming cable at each DSP start, as Pd's
// [nn~ -v] does; @chans N fixes them.
//
// Threads. Max calls messages on the main thread or on the scheduler thread, dsp64 on the main
// thread while the audio thread may still run the previous DSP chain (hence nn::PerformGate), and
// perform64 on the audio thread. Everything that touches the engine's control side is moved to the
// main thread (defer_low when a message arrives elsewhere); errors from the worker reach the Max
// console only through the engine's event queue, drained by a qelem on the main thread.
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "engine.h"
#include "host.h"
#include "max_compat.h"

#ifdef NN_MAX_MC
#define NN_MAX_CLASS "mc.nn~"
static constexpr bool kMc = true;
#else
#define NN_MAX_CLASS "nn~"
static constexpr bool kMc = false;
#endif

static t_class* nn_max_class = nullptr;

// C++ state behind the Max object (object_alloc gives zeroed C memory, so it lives behind a pointer).
struct NnMaxState {
    nn::Engine* engine = nullptr;  // owned
    nn::ChannelRouter router;      // dsp64 prepares it while the gate is closed
    nn::PerformGate gate;
    int batch = 1;             // the engine's batch (voices), fixed for an engine's life
    std::vector<long> widths;  // channels of each inlet's cable, as Max reported (inputchanged)
    std::atomic<bool> poll_armed{false};
    double sample_rate = 0;
    int max_block = 0;
    bool prepared = false;
};

typedef struct _nn_max {
    t_pxobject x_obj;
    NnMaxState* x_state;
    void* x_info;        // message outlet (rightmost): loaded, info, stats, attribute values
    t_qelem* x_qelem;    // drains the engine's events on the main thread
    t_clock* x_clock;    // re-arms the qelem while a load or a worker task is under way
    long x_nin, x_nout;  // signal inlets/outlets (fixed at creation)
    long x_enable;       // @enable
    t_symbol* x_policy;  // @policy
    long x_chans;        // @chans (mc.nn~): voices = batch items; 0: follow the incoming cables
} t_nn_max;

static void nn_max_poll(t_nn_max* x);
static void nn_max_tick(t_nn_max* x);

static std::vector<nn::Atom> nn_max_atoms(long argc, const t_atom* argv) {
    std::vector<nn::Atom> out;
    for (long i = 0; i < argc; ++i) {
        if (atom_gettype(&argv[i]) == A_SYM)
            out.push_back(nn::Atom::sym(atom_getsym(&argv[i])->s_name));
        else
            out.push_back(nn::Atom::num(atom_getfloat(&argv[i])));
    }
    return out;
}

static void nn_max_output(t_nn_max* x, const std::string& key, const std::vector<nn::Atom>& values) {
    std::vector<t_atom> av(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        if (values[i].is_symbol)
            atom_setsym(&av[i], gensym(values[i].symbol.c_str()));
        else
            atom_setfloat(&av[i], values[i].number);
    }
    outlet_anything(x->x_info, gensym(key.c_str()), static_cast<short>(av.size()), av.data());
}

// Resolves a model name and prints why when it fails (a folder is named as such, rule file.folder).
static bool nn_max_resolve(t_nn_max* x, const char* name, std::string& path) {
    if (nn_max_resolve_model(nn_max_class, name, path) && !nn::is_folder(path)) return true;
    if (nn::is_folder(path))
        object_error((t_object*)x, "%s", nn::folder_error(path).c_str());
    else
        object_error((t_object*)x,
                     "model file '%s' not found in Max's search path or the package's models/ folder (.ts is added "
                     "when missing)",
                     name);
    return false;
}

static void nn_max_report(t_nn_max* x, const std::vector<std::string>& warnings) {
    for (const std::string& w : warnings) object_warn((t_object*)x, "%s", w.c_str());
}

// mc.nn~'s voices: @chans when set, else the widest cable into a signal inlet (1 before any).
static long nn_max_voices(const t_nn_max* x) {
    if (!kMc) return 1;
    if (x->x_chans > 0) return x->x_chans;
    long widest = 1;
    for (long w : x->x_state->widths) widest = w > widest ? w : widest;
    return widest;
}

static void* nn_max_new(t_symbol* s, long argc, t_atom* argv) {
    (void)s;
    t_nn_max* x = (t_nn_max*)object_alloc(nn_max_class);
    if (!x) return nullptr;
    x->x_state = new NnMaxState;
    x->x_enable = 1;
    x->x_policy = gensym("wait");
    x->x_chans = 0;
    // Attributes first (@chans decides the batch); the setters see no engine yet and only store.
    attr_args_process(x, static_cast<short>(argc), argv);
    const long positional = attr_args_offset(static_cast<short>(argc), argv);
    const nn::ObjectArgs args = nn::parse_object_args(nn_max_atoms(positional, argv));
    for (const std::string& e : args.errors) object_error((t_object*)x, "%s", e.c_str());

    // Load now, on the main thread, so the patcher plays from its first sample and the object gets
    // one signal inlet per model input and one signal outlet per model output.
    nn::CreationModel cm;
    cm.method = args.method;
    if (!args.model.empty()) {
        std::string path;
        if (nn_max_resolve(x, args.model.c_str(), path)) {  // it prints why not
            cm = nn::load_for_creation(path, cm.method);
            if (!cm.error.empty()) object_error((t_object*)x, "%s", cm.error.c_str());
            nn_max_report(x, cm.warnings);
        }
    }
    const long nin = cm.inputs, nout = cm.outputs;
    x->x_nin = nin;
    x->x_nout = nout;
    NnMaxState& st = *x->x_state;
    st.batch = static_cast<int>(nn_max_voices(x));
    st.engine = new nn::Engine(st.batch, static_cast<int>(nin), static_cast<int>(nout));
    st.engine->set_enabled(x->x_enable != 0);
    nn::LatePolicy policy = nn::LatePolicy::Wait;
    std::string perr;
    if (nn::parse_policy(nn::Atom::sym(x->x_policy->s_name), policy, perr)) st.engine->set_policy(policy);
    if (args.buffer_size > 0) {
        std::string error, note;
        st.engine->set_buffer_size(args.buffer_size, error, note);  // before the load: no DSP restart involved
        if (!error.empty()) object_error((t_object*)x, "%s; using the default", error.c_str());
        if (!note.empty()) object_post((t_object*)x, "%s", note.c_str());
    }
    if (cm.model.model) {
        std::string error;
        std::vector<std::string> warnings;
        if (!st.engine->load(std::move(cm.model), cm.method, sys_getsr(), error, warnings))
            object_error((t_object*)x, "%s", error.c_str());
        nn_max_report(x, warnings);
    }

    dsp_setup((t_pxobject*)x, nin);
    if (kMc) x->x_obj.z_misc |= Z_MC_INLETS;  // count the channels of multichannel cables
    // Max adds each outlet to the left of the previous ones: the message outlet first (rightmost).
    x->x_info = outlet_new(x, nullptr);
    for (long i = 0; i < nout; ++i) outlet_new(x, kMc ? "multichannelsignal" : "signal");
    x->x_qelem = (t_qelem*)qelem_new(x, (method)nn_max_poll);
    x->x_clock = clock_new(x, (method)nn_max_tick);
    qelem_set(x->x_qelem);  // show events queued during creation
    return x;
}

// audio thread; our part is wait-free under the live policies and allocates nothing. The one Max call,
// qelem_set (Max's thread-safe way to wake the main thread; what it costs inside Max could not be
// measured here), runs only on the edge: the first event after a drain, i.e. on errors and answers.
static void nn_max_perform64(t_nn_max* x, t_object* dsp64, double** ins, long numins, double** outs, long numouts,
                             long sampleframes, long flags, void* userparam) {
    (void)dsp64, (void)flags, (void)userparam;
    NnMaxState& st = *x->x_state;
    const int n = static_cast<int>(sampleframes);
    if (!st.gate.try_enter()) {
        for (long c = 0; c < numouts; ++c) std::memset(outs[c], 0, sizeof(double) * static_cast<size_t>(n));
        return;
    }
    // A stale chain (compiled for other channel counts) still running while the new one is built.
    if (numins != st.router.host_input_channels() || numouts != st.router.host_output_channels() ||
        n > st.router.max_block()) {
        for (long c = 0; c < numouts; ++c) std::memset(outs[c], 0, sizeof(double) * static_cast<size_t>(n));
        st.gate.leave();
        return;
    }
    st.engine->process(st.router.gather(ins, n), st.router.engine_outputs(), n);
    st.router.scatter(outs, n);
    // Inside the gate: nn_max_free closes it before it frees the qelem.
    if (st.engine->has_events() && !st.poll_armed.exchange(true, std::memory_order_relaxed)) qelem_set(x->x_qelem);
    st.gate.leave();
}

// A new engine for another number of voices (mc.nn~ following its cables): Engine::reshaped, which
// carries every setting over. main thread, with the gate closed; blocks while the model loads.
static void nn_max_rebuild(t_nn_max* x, int batch, double samplerate) {
    NnMaxState& st = *x->x_state;
    std::string error;
    std::vector<std::string> errors, warnings;
    std::unique_ptr<nn::Engine> e = st.engine->reshaped(batch, static_cast<int>(x->x_nin), static_cast<int>(x->x_nout),
                                                        samplerate, error, errors, warnings);
    if (!e) {
        object_error((t_object*)x, "%s", error.c_str());
        return;  // keep the engine we have: the router follows its batch
    }
    for (const std::string& m : errors) object_error((t_object*)x, "%s", m.c_str());
    nn_max_report(x, warnings);
    std::string message;  // joins the old engine's loader and worker
    if (!nn::delete_engine(st.engine, message)) object_error((t_object*)x, "%s", message.c_str());
    st.engine = e.release();
    st.batch = batch;
}

// main thread; the previous chain may still be running (see PerformGate).
static void nn_max_dsp64(t_nn_max* x, t_object* dsp64, short* count, double samplerate, long maxvectorsize,
                         long flags) {
    (void)count, (void)flags;
    NnMaxState& st = *x->x_state;
    std::vector<int> widths(static_cast<size_t>(x->x_nin), 1);
    if (kMc)
        for (long i = 0; i < x->x_nin; ++i)
            widths[static_cast<size_t>(i)] =
                static_cast<int>((t_atom_long)object_method(dsp64, gensym("getnuminputchannels"), x, i));
    st.gate.close();
    const int voices = static_cast<int>(nn_max_voices(x));
    if (voices != st.batch) nn_max_rebuild(x, voices, samplerate);
    st.engine->prepare(samplerate, static_cast<int>(maxvectorsize));
    st.router.prepare(st.batch, static_cast<int>(x->x_nin), static_cast<int>(x->x_nout), widths,
                      static_cast<int>(maxvectorsize));
    st.sample_rate = samplerate;
    st.max_block = static_cast<int>(maxvectorsize);
    st.prepared = true;
    st.gate.open();
    object_method(dsp64, gensym("dsp_add64"), x, nn_max_perform64, 0, nullptr);
}

// mc.nn~: every signal outlet carries one channel per voice. Max asks while it compiles the chain,
// after inputchanged; the engine gets the same count in dsp64.
static long nn_max_multichanneloutputs(t_nn_max* x, long index) { return index < x->x_nout ? nn_max_voices(x) : 1; }

// mc.nn~: Max reports the channels of the cable into inlet `index` when they change (before it asks
// multichanneloutputs). True: the outlets' channel counts may change. main thread.
static long nn_max_inputchanged(t_nn_max* x, long index, long count) {
    std::vector<long>& w = x->x_state->widths;
    if (index < 0) return false;
    if (static_cast<size_t>(index) >= w.size()) w.resize(static_cast<size_t>(index) + 1, 1);
    const long before = nn_max_voices(x);
    w[static_cast<size_t>(index)] = count < 1 ? 1 : count;
    return nn_max_voices(x) != before;
}

// The engine wants a new buffer size or headroom while DSP runs: re-prepare it now, between two audio blocks,
// instead of asking Max to recompile the whole DSP chain. main thread.
static void nn_max_reprepare(t_nn_max* x) {
    NnMaxState& st = *x->x_state;
    if (!st.prepared) return;
    st.gate.close();
    st.engine->prepare(st.sample_rate, st.max_block);
    st.gate.open();
}

// ---- main-thread event drain ------------------------------------------------------------------------

static void nn_max_tick(t_nn_max* x) { qelem_set(x->x_qelem); }  // scheduler thread: hand over to main

static void nn_max_poll(t_nn_max* x) {
    NnMaxState& st = *x->x_state;
    st.poll_armed.store(false, std::memory_order_relaxed);
    for (nn::Engine::Event& e : st.engine->poll()) {
        switch (e.kind) {
            case nn::Engine::EventKind::Error: object_error((t_object*)x, "%s", e.text.c_str()); break;
            case nn::Engine::EventKind::Warning: object_warn((t_object*)x, "%s", e.text.c_str()); break;
            case nn::Engine::EventKind::Value: nn_max_output(x, e.text, e.values); break;
            case nn::Engine::EventKind::Reconfigure:
                object_post((t_object*)x, "%s", e.text.c_str());
                nn_max_reprepare(x);
                break;
            case nn::Engine::EventKind::Loaded:
                object_post((t_object*)x, "loaded %s", e.text.c_str());
                nn_max_output(x, "loaded", {nn::Atom::sym(st.engine->path()), nn::Atom::sym(st.engine->method())});
                break;
        }
    }
    // Keep polling while a load or a worker task is under way (DSP may be off: perform cannot arm us).
    if (st.engine->busy()) clock_delay(x->x_clock, 5);
}

static void nn_max_arm(t_nn_max* x) { qelem_set(x->x_qelem); }

// ---- messages: each runs on the main thread (deferred there when it arrives on the scheduler) ----

typedef void (*nn_max_handler)(t_nn_max* x, t_symbol* s, short argc, t_atom* argv);

static void nn_max_on_main(t_nn_max* x, nn_max_handler fn, t_symbol* s, long argc, t_atom* argv) {
    if (systhread_ismainthread())
        fn(x, s, static_cast<short>(argc), argv);
    else
        defer_low(x, (method)fn, s, static_cast<short>(argc), argv);  // copies the atoms; keeps order
}

static void nn_max_do_load(t_nn_max* x, t_symbol* s, short argc, t_atom* argv) {
    (void)s;
    if (argc < 1 || argc > 2 || atom_gettype(&argv[0]) != A_SYM || (argc == 2 && atom_gettype(&argv[1]) != A_SYM)) {
        object_error((t_object*)x, "usage: load <model file> [<method>]");
        return;
    }
    std::string path;
    const char* name = atom_getsym(&argv[0])->s_name;
    if (!nn_max_resolve(x, name, path)) return;
    x->x_state->engine->load_async(path, argc == 2 ? atom_getsym(&argv[1])->s_name : "");
    nn_max_arm(x);
}

static void nn_max_do_reload(t_nn_max* x, t_symbol*, short, t_atom*) {
    std::string error;
    if (!x->x_state->engine->reload(error)) object_error((t_object*)x, "%s", error.c_str());
    nn_max_arm(x);
}

static void nn_max_do_method(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    if (argc != 1 || atom_gettype(&argv[0]) != A_SYM) {
        object_error((t_object*)x, "usage: method <name>");
        return;
    }
    std::string error;
    std::vector<std::string> warnings;
    if (!x->x_state->engine->set_method(atom_getsym(&argv[0])->s_name, error, warnings))
        object_error((t_object*)x, "%s", error.c_str());
    nn_max_report(x, warnings);
    nn_max_arm(x);
}

// Reads channel 1 of a buffer~ for a buffer/tensor attribute element. main thread.
static bool nn_max_buffer(t_nn_max* x, t_symbol* name, std::vector<float>& out) {
    t_buffer_ref* ref = buffer_ref_new((t_object*)x, name);
    t_buffer_obj* b = buffer_ref_getobject(ref);
    bool ok = false;
    if (b) {
        const t_atom_long frames = buffer_getframecount(b), chans = buffer_getchannelcount(b);
        float* samples = buffer_locksamples(b);
        if (samples && chans > 0) {
            out.resize(static_cast<size_t>(frames));
            for (t_atom_long i = 0; i < frames; ++i) out[static_cast<size_t>(i)] = samples[i * chans];
            ok = true;
        }
        if (samples) buffer_unlocksamples(b);
    }
    object_free(ref);
    if (!ok)
        object_error((t_object*)x, "no buffer~ named '%s' (buffer attributes take the name of a buffer~)",
                     name->s_name);
    return ok;
}

static void nn_max_do_set(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    if (argc < 1 || atom_gettype(&argv[0]) != A_SYM) {
        object_error((t_object*)x, "usage: set <attribute> <value> ...");
        return;
    }
    nn::Engine& eng = *x->x_state->engine;
    const std::string name = atom_getsym(&argv[0])->s_name;
    const nn::AttributeInfo* attr = eng.attribute(name);
    std::vector<nn::AttributeValue> values = nn::attribute_values(attr, nn_max_atoms(argc - 1, argv + 1));
    for (size_t i = 0; i < values.size(); ++i)
        if (nn::wants_array(attr, i) && values[i].atom.is_symbol &&
            !nn_max_buffer(x, gensym(values[i].atom.symbol.c_str()), values[i].samples))
            return;
    std::string error;
    if (!eng.set_attribute(name, values, error)) object_error((t_object*)x, "%s", error.c_str());
    nn_max_arm(x);
}

static void nn_max_do_get(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    if (argc != 1 || atom_gettype(&argv[0]) != A_SYM) {
        object_error((t_object*)x, "usage: get <attribute>");
        return;
    }
    std::string error;
    if (!x->x_state->engine->get_attribute(atom_getsym(&argv[0])->s_name, error))
        object_error((t_object*)x, "%s", error.c_str());
    nn_max_arm(x);
}

static void nn_max_do_bufsize(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    int n = 0;
    std::string error, note;
    if (argc != 1 || atom_gettype(&argv[0]) == A_SYM) {
        object_error((t_object*)x, "usage: bufsize <samples>");
        return;
    }
    if (!nn::parse_buffer_size(atom_getfloat(&argv[0]), n, error)) {
        object_error((t_object*)x, "%s", error.c_str());
        return;
    }
    const bool restart = x->x_state->engine->set_buffer_size(n, error, note);
    if (!error.empty()) {
        object_error((t_object*)x, "%s", error.c_str());
        return;
    }
    if (!note.empty()) object_post((t_object*)x, "%s", note.c_str());
    if (restart) nn_max_reprepare(x);
}

static void nn_max_do_headroom(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    int n = 0;
    std::string error;
    if (argc != 1 || atom_gettype(&argv[0]) == A_SYM) {
        object_error((t_object*)x, "usage: headroom <buffers>");
        return;
    }
    if (!nn::parse_headroom(atom_getfloat(&argv[0]), n, error)) {
        object_error((t_object*)x, "%s", error.c_str());
        return;
    }
    if (x->x_state->engine->set_headroom(n)) nn_max_reprepare(x);
}

static void nn_max_do_info(t_nn_max* x, t_symbol*, short, t_atom*) {
    for (const nn::InfoLine& l : x->x_state->engine->describe()) {
        object_post((t_object*)x, "%s", nn::info_text(l).c_str());
        nn_max_output(x, l.key, l.values);
    }
}

static void nn_max_do_stats(t_nn_max* x, t_symbol*, short, t_atom*) {
    const nn::InfoLine l = x->x_state->engine->stats_line();
    nn_max_output(x, l.key, l.values);
}

static void nn_max_do_resetstats(t_nn_max* x, t_symbol*, short, t_atom*) { x->x_state->engine->reset_stats(); }

static void nn_max_load(t_nn_max* x, t_symbol* s, long argc, t_atom* argv) {
    nn_max_on_main(x, nn_max_do_load, s, argc, argv);
}
static void nn_max_reload(t_nn_max* x) { nn_max_on_main(x, nn_max_do_reload, gensym("reload"), 0, nullptr); }
static void nn_max_method(t_nn_max* x, t_symbol* s, long argc, t_atom* argv) {
    nn_max_on_main(x, nn_max_do_method, s, argc, argv);
}
static void nn_max_set(t_nn_max* x, t_symbol* s, long argc, t_atom* argv) {
    nn_max_on_main(x, nn_max_do_set, s, argc, argv);
}
static void nn_max_get(t_nn_max* x, t_symbol* s, long argc, t_atom* argv) {
    nn_max_on_main(x, nn_max_do_get, s, argc, argv);
}
static void nn_max_bufsize(t_nn_max* x, t_symbol* s, long argc, t_atom* argv) {
    nn_max_on_main(x, nn_max_do_bufsize, s, argc, argv);
}
static void nn_max_headroom(t_nn_max* x, t_symbol* s, long argc, t_atom* argv) {
    nn_max_on_main(x, nn_max_do_headroom, s, argc, argv);
}
static void nn_max_info(t_nn_max* x) { nn_max_on_main(x, nn_max_do_info, gensym("info"), 0, nullptr); }
static void nn_max_stats(t_nn_max* x) { nn_max_on_main(x, nn_max_do_stats, gensym("stats"), 0, nullptr); }
static void nn_max_resetstats(t_nn_max* x) {
    nn_max_on_main(x, nn_max_do_resetstats, gensym("resetstats"), 0, nullptr);
}

// ---- attributes (their setters only touch atomics of the engine: safe from any thread) -----------

static t_max_err nn_max_set_enable(t_nn_max* x, void* attr, long argc, t_atom* argv) {
    (void)attr;
    if (argc < 1) return MAX_ERR_GENERIC;
    x->x_enable = atom_getfloat(argv) != 0 ? 1 : 0;
    if (x->x_state->engine) x->x_state->engine->set_enabled(x->x_enable != 0);
    return MAX_ERR_NONE;
}

static t_max_err nn_max_set_policy(t_nn_max* x, void* attr, long argc, t_atom* argv) {
    (void)attr;
    if (argc < 1) return MAX_ERR_GENERIC;
    const std::vector<nn::Atom> a = nn_max_atoms(1, argv);
    nn::LatePolicy p = nn::LatePolicy::Wait;
    std::string error;
    if (!nn::parse_policy(a[0], p, error)) {
        object_error((t_object*)x, "%s", error.c_str());
        return MAX_ERR_GENERIC;
    }
    x->x_policy = gensym(nn::policy_name(p));
    if (x->x_state->engine) x->x_state->engine->set_policy(p);
    return MAX_ERR_NONE;
}

static t_max_err nn_max_set_chans(t_nn_max* x, void* attr, long argc, t_atom* argv) {
    (void)attr;
    if (argc < 1) return MAX_ERR_GENERIC;
    if (x->x_state->engine) {  // the batch of the engine and the outlets' widths are fixed
        object_error((t_object*)x,
                     "@chans is fixed when the object is created: retype the box (e.g. mc.nn~ demo @chans 4)");
        return MAX_ERR_GENERIC;
    }
    const t_atom_long n = atom_getlong(argv);
    if (n < 0 || n > 1024) {
        object_error((t_object*)x, "@chans must be 0 (follow the cables) or 1..1024 voices, got %ld",
                     static_cast<long>(n));
        return MAX_ERR_GENERIC;
    }
    x->x_chans = static_cast<long>(n);
    return MAX_ERR_NONE;
}

// ---- assistance --------------------------------------------------------------------------------------

static void nn_max_assist(t_nn_max* x, void* b, long io, long index, char* s) {
    (void)b;
    const nn::Engine* eng = x->x_state->engine;
    const nn::MethodInfo* m = eng && eng->info() ? eng->info()->method(eng->method()) : nullptr;
    const std::string text = io == ASSIST_INLET
                                 ? nn::inlet_assist(m, static_cast<int>(index), kMc)
                                 : nn::outlet_assist(m, static_cast<int>(index), static_cast<int>(x->x_nout), kMc);
    snprintf(s, NN_MAX_ASSIST_CHARS, "%s", text.c_str());
}

// ---- free ----------------------------------------------------------------------------------------------

static void nn_max_free(t_nn_max* x) {
    dsp_free((t_pxobject*)x);  // first, as MSP requires: the object leaves the DSP chain
    NnMaxState* st = x->x_state;
    if (st) st->gate.close();  // and no perform of an old chain is still inside the engine
    if (x->x_clock) object_free(x->x_clock);
    if (x->x_qelem) qelem_free(x->x_qelem);
    std::string message;  // joins the loader and the worker; a model call that hangs is left behind
    if (st && !nn::delete_engine(st->engine, message)) object_error(nullptr, "%s", message.c_str());
    delete st;
}

extern "C" C74_EXPORT void ext_main(void* r) {
    (void)r;
    t_class* c =
        class_new(NN_MAX_CLASS, (method)nn_max_new, (method)nn_max_free, (long)sizeof(t_nn_max), nullptr, A_GIMME, 0);
    class_addmethod(c, (method)nn_max_dsp64, "dsp64", A_CANT, 0);
    class_addmethod(c, (method)nn_max_assist, "assist", A_CANT, 0);
    if (kMc) {
        class_addmethod(c, (method)nn_max_multichanneloutputs, "multichanneloutputs", A_CANT, 0);
        class_addmethod(c, (method)nn_max_inputchanged, "inputchanged", A_CANT, 0);
    }
    class_addmethod(c, (method)nn_max_load, "load", A_GIMME, 0);
    class_addmethod(c, (method)nn_max_reload, "reload", 0);
    class_addmethod(c, (method)nn_max_method, "method", A_GIMME, 0);
    class_addmethod(c, (method)nn_max_set, "set", A_GIMME, 0);
    class_addmethod(c, (method)nn_max_get, "get", A_GIMME, 0);
    class_addmethod(c, (method)nn_max_bufsize, "bufsize", A_GIMME, 0);
    class_addmethod(c, (method)nn_max_headroom, "headroom", A_GIMME, 0);
    class_addmethod(c, (method)nn_max_info, "info", 0);
    class_addmethod(c, (method)nn_max_info, "bang", 0);
    class_addmethod(c, (method)nn_max_stats, "stats", 0);
    class_addmethod(c, (method)nn_max_resetstats, "resetstats", 0);

    CLASS_ATTR_LONG(c, "enable", 0, t_nn_max, x_enable);
    CLASS_ATTR_ACCESSORS(c, "enable", nullptr, nn_max_set_enable);
    CLASS_ATTR_STYLE_LABEL(c, "enable", 0, "onoff", "Run the model (0: output silence, the worker idles)");
    CLASS_ATTR_SAVE(c, "enable", 0);

    CLASS_ATTR_SYM(c, "policy", 0, t_nn_max, x_policy);
    CLASS_ATTR_ACCESSORS(c, "policy", nullptr, nn_max_set_policy);
    CLASS_ATTR_ENUM(c, "policy", 0, "wait silence hold");
    CLASS_ATTR_LABEL(c, "policy", 0, "When the model is late: wait, silence or hold");
    CLASS_ATTR_SAVE(c, "policy", 0);

    if (kMc) {
        CLASS_ATTR_LONG(c, "chans", 0, t_nn_max, x_chans);
        CLASS_ATTR_ACCESSORS(c, "chans", nullptr, nn_max_set_chans);
        CLASS_ATTR_LABEL(c, "chans", 0, "Voices (batch items): 0 follows the incoming cables; fixed at creation");
    }

    class_dspinit(c);
    class_register(CLASS_BOX, c);
    nn_max_class = c;
    post("%s %s: neural audio models in Max (libtorch, one worker thread per object)", NN_MAX_CLASS, NN_VERSION);
}
