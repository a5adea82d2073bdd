// nn~ and mc.nn~ for Max/MSP: a thin adapter over nn::Instance (nn_tilde/core/instance.h), what the Pd
// external and the plugin use too: this file is Max's API around it (NnMaxPort says where nn~'s words
// go in Max and how Max finds files and buffers). Built twice: without NN_MAX_MC as nn~, with NN_MAX_MC=1 as mc.nn~. Reads top-down in
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
// console only through the engine's event queue, drained by a qelem on the main thread. The attribute
// setters (@enable, @policy), which Max may call on any thread, write only the object's
// nn::LiveControls, which outlive every engine: they never touch an engine that mc.nn~'s dsp64 may be
// replacing on the main thread.
#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "host.h"
#include "instance.h"
#include "max_compat.h"

#ifdef NN_MAX_MC
#define NN_MAX_CLASS "mc.nn~"
static constexpr bool kMc = true;
#else
#define NN_MAX_CLASS "nn~"
static constexpr bool kMc = false;
#endif

static t_class* nn_max_class = nullptr;

typedef struct _nn_max t_nn_max;

// Where nn~'s words go in Max, and how Max finds model files and buffer~s (nn::HostPort). main thread.
struct NnMaxPort final : nn::HostPort {
    t_nn_max* x;
    explicit NnMaxPort(t_nn_max* owner) : x(owner) {}
    void error(const std::string& text) override;
    void warning(const std::string& text) override;
    void post(const std::string& text) override;
    void output(const std::string& key, const std::vector<nn::Atom>& values) override;
    void restart(const std::string& why) override;
    bool resolve(const std::string& name, std::string& path) override;
    bool read_array(const std::string& name, std::vector<float>& samples) override;
};

// C++ state behind the Max object (object_alloc gives zeroed C memory, so it lives behind a pointer).
struct NnMaxState {
    explicit NnMaxState(t_nn_max* x) : port(x) {}
    NnMaxPort port;
    // Written by the attribute setters from any thread; every engine of this object reads them.
    std::shared_ptr<nn::LiveControls> controls = nn::make_live_controls();
    std::unique_ptr<nn::Instance> nn;  // created once in new, after the attribute arguments
    nn::ChannelRouter router;          // dsp64 prepares it while the gate is closed
    nn::PerformGate gate;
    std::vector<long> widths;  // channels of each inlet's cable, as Max reported (inputchanged)
    std::atomic<bool> poll_armed{false};
    double sample_rate = 0;
    int max_block = 0;
    bool prepared = false;
};

struct _nn_max {
    t_pxobject x_obj;
    NnMaxState* x_state;
    void* x_info;        // message outlet (rightmost): loaded, info, stats, attribute values
    t_qelem* x_qelem;    // drains the engine's events on the main thread
    t_clock* x_clock;    // re-arms the qelem while a load or a worker task is under way
    long x_nin, x_nout;  // signal inlets/outlets (fixed at creation)
    long x_enable;       // @enable
    t_symbol* x_policy;  // @policy
    long x_chans;        // @chans (mc.nn~): voices = batch items; 0: follow the incoming cables
};

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

void NnMaxPort::error(const std::string& text) { object_error((t_object*)x, "%s", text.c_str()); }
void NnMaxPort::warning(const std::string& text) { object_warn((t_object*)x, "%s", text.c_str()); }
void NnMaxPort::post(const std::string& text) { object_post((t_object*)x, "%s", text.c_str()); }

void NnMaxPort::output(const std::string& key, const std::vector<nn::Atom>& values) {
    std::vector<t_atom> av(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        if (values[i].is_symbol)
            atom_setsym(&av[i], gensym(values[i].symbol.c_str()));
        else
            atom_setfloat(&av[i], values[i].number);
    }
    outlet_anything(x->x_info, gensym(key.c_str()), static_cast<short>(av.size()), av.data());
}

static void nn_max_reprepare(t_nn_max* x);

// A new buffer size or headroom while DSP runs: re-prepared between two audio blocks, without asking
// Max to recompile the whole DSP chain.
void NnMaxPort::restart(const std::string& why) {
    if (!why.empty()) post(why);
    nn_max_reprepare(x);
}

// Resolves a model name and prints why when it fails (a folder is named as such, rule file.folder).
bool NnMaxPort::resolve(const std::string& name, std::string& path) {
    if (nn_max_resolve_model(nn_max_class, name.c_str(), path) && !nn::is_folder(path)) return true;
    if (nn::is_folder(path))
        error(nn::folder_error(path));
    else
        error("model file '" + name +
              "' not found in Max's search path or the package's models/ folder (.ts is added when missing)");
    return false;
}

// Reads channel 1 of a buffer~ for a buffer/tensor attribute element.
bool NnMaxPort::read_array(const std::string& name, std::vector<float>& samples) {
    t_buffer_ref* ref = buffer_ref_new((t_object*)x, gensym(name.c_str()));
    t_buffer_obj* b = buffer_ref_getobject(ref);
    bool ok = false;
    if (b) {
        const t_atom_long frames = buffer_getframecount(b), chans = buffer_getchannelcount(b);
        float* data = buffer_locksamples(b);
        if (data && chans > 0) {
            samples.resize(static_cast<size_t>(frames));
            for (t_atom_long i = 0; i < frames; ++i) samples[static_cast<size_t>(i)] = data[i * chans];
            ok = true;
        }
        if (data) buffer_unlocksamples(b);
    }
    object_free(ref);
    if (!ok) error("no buffer~ named '" + name + "' (buffer attributes take the name of a buffer~)");
    return ok;
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
    x->x_state = new NnMaxState(x);
    x->x_enable = 1;
    x->x_policy = gensym("wait");
    x->x_chans = 0;
    // Attributes first (@chans decides the batch); @enable and @policy land in the LiveControls.
    attr_args_process(x, static_cast<short>(argc), argv);
    const long positional = attr_args_offset(static_cast<short>(argc), argv);
    const nn::ObjectArgs args = nn::parse_object_args(nn_max_atoms(positional, argv));

    // Load now, on the main thread, so the patcher plays from its first sample and the object gets
    // one signal inlet per model input and one signal outlet per model output.
    NnMaxState& st = *x->x_state;
    nn::CreationModel cm = nn::Instance::open(st.port, args);
    const long nin = cm.inputs, nout = cm.outputs;
    x->x_nin = nin;
    x->x_nout = nout;
    const nn::Shape shape{static_cast<int>(nn_max_voices(x)), static_cast<int>(nin), static_cast<int>(nout)};
    st.nn = std::make_unique<nn::Instance>(st.port, shape, args, std::move(cm), sys_getsr(), false, st.controls);

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
    nn::Engine& engine = st.nn->engine();
    engine.process(st.router.gather(ins, n), st.router.engine_outputs(), n);
    st.router.scatter(outs, n);
    // Inside the gate: nn_max_free closes it before it frees the qelem.
    if (engine.has_events() && !st.poll_armed.exchange(true, std::memory_order_relaxed)) qelem_set(x->x_qelem);
    st.gate.leave();
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
    // mc.nn~ following its cables: a new engine for another number of voices (Instance::reshape
    // carries every setting over; it keeps the engine it has when the file cannot be read again).
    const nn::Shape want{static_cast<int>(nn_max_voices(x)), static_cast<int>(x->x_nin), static_cast<int>(x->x_nout)};
    if (want != st.nn->shape()) st.nn->reshape(want, samplerate);
    st.nn->engine().prepare(samplerate, static_cast<int>(maxvectorsize));
    st.router.prepare(st.nn->shape().batch, static_cast<int>(x->x_nin), static_cast<int>(x->x_nout), widths,
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
    st.nn->engine().prepare(st.sample_rate, st.max_block);
    st.gate.open();
}

// ---- main-thread event drain ------------------------------------------------------------------------

static void nn_max_tick(t_nn_max* x) { qelem_set(x->x_qelem); }  // scheduler thread: hand over to main

static void nn_max_poll(t_nn_max* x) {
    NnMaxState& st = *x->x_state;
    st.poll_armed.store(false, std::memory_order_relaxed);
    // Keep polling while a load or a worker task is under way (DSP may be off: perform cannot arm us).
    if (st.nn->drain()) clock_delay(x->x_clock, 5);
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
    x->x_state->nn->load(atom_getsym(&argv[0])->s_name, argc == 2 ? atom_getsym(&argv[1])->s_name : "");
    nn_max_arm(x);
}

static void nn_max_do_reload(t_nn_max* x, t_symbol*, short, t_atom*) {
    x->x_state->nn->reload();
    nn_max_arm(x);
}

static void nn_max_do_method(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    if (argc != 1 || atom_gettype(&argv[0]) != A_SYM) {
        object_error((t_object*)x, "usage: method <name>");
        return;
    }
    x->x_state->nn->method(atom_getsym(&argv[0])->s_name);
    nn_max_arm(x);
}

static void nn_max_do_set(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    x->x_state->nn->set(nn_max_atoms(argc, argv));
    nn_max_arm(x);
}

static void nn_max_do_get(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    if (argc != 1 || atom_gettype(&argv[0]) != A_SYM) {
        object_error((t_object*)x, "usage: get <attribute>");
        return;
    }
    x->x_state->nn->get(atom_getsym(&argv[0])->s_name);
    nn_max_arm(x);
}

static void nn_max_do_bufsize(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    if (argc != 1 || atom_gettype(&argv[0]) == A_SYM) {
        object_error((t_object*)x, "usage: bufsize <samples>");
        return;
    }
    x->x_state->nn->bufsize(atom_getfloat(&argv[0]));
}

static void nn_max_do_headroom(t_nn_max* x, t_symbol*, short argc, t_atom* argv) {
    if (argc != 1 || atom_gettype(&argv[0]) == A_SYM) {
        object_error((t_object*)x, "usage: headroom <buffers>");
        return;
    }
    x->x_state->nn->headroom(atom_getfloat(&argv[0]));
}

static void nn_max_do_info(t_nn_max* x, t_symbol*, short, t_atom*) { x->x_state->nn->info(); }
static void nn_max_do_stats(t_nn_max* x, t_symbol*, short, t_atom*) { x->x_state->nn->stats(); }
static void nn_max_do_resetstats(t_nn_max* x, t_symbol*, short, t_atom*) { x->x_state->nn->reset_stats(); }

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

// ---- attributes (any thread: the setters write the object's LiveControls, never an engine) ---------

static t_max_err nn_max_set_enable(t_nn_max* x, void* attr, long argc, t_atom* argv) {
    (void)attr;
    if (argc < 1) return MAX_ERR_GENERIC;
    x->x_enable = atom_getfloat(argv) != 0 ? 1 : 0;
    x->x_state->controls->enabled.store(x->x_enable != 0, std::memory_order_relaxed);
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
    x->x_state->controls->policy.store(static_cast<int>(p), std::memory_order_relaxed);
    return MAX_ERR_NONE;
}

static t_max_err nn_max_set_chans(t_nn_max* x, void* attr, long argc, t_atom* argv) {
    (void)attr;
    if (argc < 1) return MAX_ERR_GENERIC;
    if (x->x_state->nn) {  // set once in new: the batch of the engine and the outlets' widths are fixed
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
    const nn::Engine* eng = x->x_state->nn ? &x->x_state->nn->engine() : nullptr;
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
    delete st;  // joins the engine's threads; a model call that hangs is left behind, with a message
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
