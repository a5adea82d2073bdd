// nn~ for PureData: a thin adapter over nn::Engine (nn_tilde/core). Reads top-down in Pd's order:
// new, perform, dsp, messages, free, setup. Only nn_tilde_setup is exported.
//
//   [nn~ [-m | -v] <model> [<method>] [<buffer size>]]
//
// Three shapes of box (the flags need Pd 0.54+; in 0.53 they print an error and nn~ is plain):
//   plain  one signal inlet per model input channel, one signal outlet per output channel.
//   -m     one multichannel inlet carrying the method's input channels (a narrower cable wraps) and
//          one multichannel outlet with its output channels; `load` and `method` may change the
//          counts, which apply at the next DSP restart (nn~ asks for one).
//   -v     voices: each channel of the cable is one voice, a batch item of one model call, for a
//          method with one input and one output channel; the voices follow the cable's width at
//          DSP time (snake~, clone -d), each with its own model state (its batch item).
// In every shape the rightmost outlet is the message outlet.
//
// Threads: every function here runs on Pd's scheduler thread. nn_tilde_perform is the audio path:
// it calls Engine::process (wait-free under the live policies) and, when the worker has left events,
// arms a clock (Pd's own idiom, as threshold~ does) so they are printed from the main thread.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine.h"
#include "host.h"
#include "pd_compat.h"

static t_class* nn_tilde_class;

enum NnPdMode { NN_PD_PLAIN, NN_PD_MULTICHANNEL, NN_PD_VOICES };

// C++ state behind the Pd object (pd_new gives zeroed C memory, so it lives behind a pointer).
struct NnPdState {
    nn::Engine* engine = nullptr;      // owned
    nn::ChannelRouter router;          // host channels <-> engine buffers (float; t_sample may be double)
    std::vector<t_sample*> ins, outs;  // one pointer per host channel, filled by dsp for perform
    // The engine's shape (fixed for an engine's life: -m and -v build a new engine when it changes;
    // the engine carries its settings over itself, Engine::reshaped).
    int batch = 1, inputs = 1, outputs = 1;
};

typedef struct _nn_tilde {
    t_object x_obj;
    t_float x_f;         // scalar for the main signal inlet
    NnPdState* x_st;     // owned
    t_canvas* x_canvas;  // for resolving model files relative to the patch
    t_outlet* x_info;    // message outlet: info, stats, attribute values, loaded
    t_clock* x_poll;     // drains the engine's event queue on the main thread
    int x_mode;          // NnPdMode
    int x_nin, x_nout;   // signal inlets/outlets of the box (fixed at creation)
} t_nn_tilde;

static void nn_tilde_poll(t_nn_tilde* x);

static std::vector<nn::Atom> nn_tilde_atoms(int argc, const t_atom* argv) {
    std::vector<nn::Atom> out;
    for (int i = 0; i < argc; ++i) {
        if (argv[i].a_type == A_SYMBOL)
            out.push_back(nn::Atom::sym(atom_getsymbol(&argv[i])->s_name));
        else
            out.push_back(nn::Atom::num(atom_getfloat(&argv[i])));
    }
    return out;
}

// Resolve a model name: relative to the patch, then Pd's search path, then the models/ folder beside
// the nn~ binary Pd loaded (class_gethelpdir: a package's own models, as the Max package has them);
// ".ts" added when missing (nn::model_file_candidates, the order Max uses too). Prints why when it
// fails: a folder is named as such (rule file.folder), anything else is "not found".
static bool nn_tilde_resolve(t_nn_tilde* x, const char* name, std::string& path) {
    for (const std::string& c : nn::model_file_candidates(name)) {
        char dir[MAXPDSTRING];
        char* base = nullptr;
        const int fd = canvas_open(x->x_canvas, c.c_str(), "", dir, &base, MAXPDSTRING, 0);
        if (fd >= 0) {
            sys_close(fd);
            path = std::string(dir) + "/" + base;
            if (!nn::is_folder(path)) return true;
            pd_error(x, "[nn~] %s", nn::folder_error(path).c_str());
            return false;
        }
    }
    const char* package = class_gethelpdir(nn_tilde_class);
    const std::string shipped = nn::package_model_file(package ? package : "", name);
    if (!shipped.empty()) {
        path = shipped;
        return true;
    }
    // canvas_open skips folders: look for one where the file would have been, relative to the patch.
    const std::string folder =
        nn::is_absolute_path(name) ? std::string(name) : std::string(canvas_getdir(x->x_canvas)->s_name) + "/" + name;
    if (nn::is_folder(folder))
        pd_error(x, "[nn~] %s", nn::folder_error(folder).c_str());
    else
        pd_error(x,
                 "[nn~] model file '%s' not found next to the patch or in Pd's search path, nor in %s/models (.ts is "
                 "added when missing)",
                 name, package ? package : "nn~'s folder");
    return false;
}

// A buffer size sent with `bufsize`: true with `n` set when it is a whole number of samples in
// 1..kMaxBufferSize; otherwise prints why and returns false.
// The check is nn::parse_buffer_size (host.h), shared with the Max externals.
static bool nn_tilde_bufsize_arg(t_nn_tilde* x, double f, int& n) {
    std::string error;
    if (nn::parse_buffer_size(f, n, error)) return true;
    pd_error(x, "[nn~] %s", error.c_str());
    return false;
}

// Prints the engine's warnings.
static void nn_tilde_report(t_nn_tilde* x, const std::vector<std::string>& warnings) {
    for (const std::string& w : warnings) logpost(x, PD_NORMAL, "[nn~] warning: %s", w.c_str());
}

// A new engine for this object. In -m the cables follow the method's channel counts at the next DSP
// restart, so the engine's advice to retype the box for a method with other channel counts does
// not apply. (-v keeps it: its methods must have 1 in and 1 out.)
static nn::Engine* nn_tilde_engine(t_nn_tilde* x, int batch, int inputs, int outputs) {
    nn::Engine* e = new nn::Engine(batch, inputs, outputs);
    e->set_channels_follow_method(x->x_mode == NN_PD_MULTICHANNEL);
    return e;
}

static void nn_tilde_output(t_nn_tilde* x, const std::string& key, const std::vector<nn::Atom>& values) {
    std::vector<t_atom> av(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        if (values[i].is_symbol)
            SETSYMBOL(&av[i], gensym(values[i].symbol.c_str()));
        else
            SETFLOAT(&av[i], static_cast<t_float>(values[i].number));
    }
    outlet_anything(x->x_info, gensym(key.c_str()), static_cast<int>(av.size()), av.data());
}

static const char* nn_tilde_mode_flag(int mode) { return mode == NN_PD_VOICES ? "-v" : "-m"; }

// The method's channel counts, or 1 and 1 without a model.
static void nn_tilde_shape(const nn::Engine& e, int& inputs, int& outputs) {
    const nn::MethodInfo* m = e.info() ? e.info()->method(e.method()) : nullptr;
    inputs = m ? m->shape.in_channels : 1;
    outputs = m ? m->shape.out_channels : 1;
}

static void* nn_tilde_new(t_symbol*, int argc, t_atom* argv) {
    t_nn_tilde* x = (t_nn_tilde*)pd_new(nn_tilde_class);
    x->x_canvas = canvas_getcurrent();
    x->x_st = new NnPdState;
    NnPdState& st = *x->x_st;
    // Flags come first, as in Pd's own objects (clone -s, array define -k).
    x->x_mode = NN_PD_PLAIN;
    while (argc > 0 && argv[0].a_type == A_SYMBOL && atom_getsymbol(argv)->s_name[0] == '-' &&
           atom_getsymbol(argv)->s_name[1] != 0) {
        const std::string flag = atom_getsymbol(argv)->s_name;
        if (flag == "-m")
            x->x_mode = NN_PD_MULTICHANNEL;
        else if (flag == "-v")
            x->x_mode = NN_PD_VOICES;
        else
            pd_error(x, "[nn~] unknown flag '%s' ignored (flags: -m multichannel, -v voices)", flag.c_str());
        ++argv, --argc;
    }
    if (x->x_mode != NN_PD_PLAIN && !nn_pd_has_multichannel()) {
        const NnPdCompat& pd = nn_pd_compat();
        pd_error(x, "[nn~] %s needs multichannel signals (Pd 0.54 or later); this is Pd %d.%d.%d: working as plain nn~",
                 nn_tilde_mode_flag(x->x_mode), pd.major, pd.minor, pd.bugfix);
        x->x_mode = NN_PD_PLAIN;
    }
    const nn::ObjectArgs args = nn::parse_object_args(nn_tilde_atoms(argc, argv));
    for (const std::string& e : args.errors) pd_error(x, "[nn~] %s", e.c_str());

    // Load now, on the main thread, so the patch plays from its first sample and a plain object gets
    // one inlet per model input and one outlet per model output.
    nn::CreationModel cm;
    cm.method = args.method;
    if (!args.model.empty()) {
        std::string path;
        if (nn_tilde_resolve(x, args.model.c_str(), path)) {  // it prints why not
            cm = nn::load_for_creation(path, cm.method);
            if (!cm.error.empty()) pd_error(x, "[nn~] %s", cm.error.c_str());
            nn_tilde_report(x, cm.warnings);
        }
    }
    if (x->x_mode == NN_PD_VOICES && cm.model.model && (cm.inputs != 1 || cm.outputs != 1))
        pd_error(x,
                 "[nn~] -v runs a method with one input and one output channel per voice; this one has %d and %d "
                 "(use -m for a method's channels in one cable)",
                 cm.inputs, cm.outputs);
    // -v starts with one voice: dsp gives the engine as many as the cable has.
    st.inputs = x->x_mode == NN_PD_VOICES ? 1 : cm.inputs;
    st.outputs = x->x_mode == NN_PD_VOICES ? 1 : cm.outputs;
    st.engine = nn_tilde_engine(x, 1, st.inputs, st.outputs);
    if (args.buffer_size > 0) {
        std::string error, note;
        st.engine->set_buffer_size(args.buffer_size, error, note);  // before the load: no DSP restart involved
        if (!error.empty()) pd_error(x, "[nn~] %s; using the default", error.c_str());
        if (!note.empty()) logpost(x, PD_NORMAL, "[nn~] %s", note.c_str());
    }
    if (cm.model.model) {
        std::string error;
        std::vector<std::string> warnings;
        if (!st.engine->load(std::move(cm.model), cm.method, sys_getsr(), error, warnings))
            pd_error(x, "[nn~] %s", error.c_str());
        nn_tilde_report(x, warnings);
    }

    x->x_nin = x->x_mode == NN_PD_PLAIN ? st.inputs : 1;
    x->x_nout = x->x_mode == NN_PD_PLAIN ? st.outputs : 1;
    for (int i = 1; i < x->x_nin; ++i) inlet_new(&x->x_obj, &x->x_obj.ob_pd, &s_signal, &s_signal);
    for (int i = 0; i < x->x_nout; ++i) outlet_new(&x->x_obj, &s_signal);
    x->x_info = outlet_new(&x->x_obj, nullptr);
    x->x_poll = clock_new(x, (t_method)nn_tilde_poll);
    clock_delay(x->x_poll, 0);  // show events queued during creation
    return x;
}

// audio thread (Pd's scheduler inside DSP); wait-free under the live policies; no allocation
static t_int* nn_tilde_perform(t_int* w) {
    t_nn_tilde* x = (t_nn_tilde*)(w[1]);
    const int n = (int)(w[2]);
    NnPdState& st = *x->x_st;
    // gather copies every input before scatter writes: Pd may hand an output the memory of an input.
    st.engine->process(st.router.gather(st.ins.data(), n), st.router.engine_outputs(), n);
    st.router.scatter(st.outs.data(), n);
    if (st.engine->has_events()) clock_delay(x->x_poll, 0);
    return w + 3;
}

// Replaces the engine by one of another shape (-m after a load/method with other channel counts, -v
// when the cable's width changed): Engine::reshaped, which carries every setting over. main thread
// (dsp: Pd's audio is stopped); blocks while the model loads.
static void nn_tilde_rebuild(t_nn_tilde* x, int batch, int inputs, int outputs, double sr) {
    NnPdState& st = *x->x_st;
    std::string error;
    std::vector<std::string> errors, warnings;
    std::unique_ptr<nn::Engine> e = st.engine->reshaped(batch, inputs, outputs, sr, error, errors, warnings);
    if (!e) {
        pd_error(x, "[nn~] %s", error.c_str());
        return;  // keep the engine we have: the router follows its shape
    }
    for (const std::string& m : errors) pd_error(x, "[nn~] %s", m.c_str());
    nn_tilde_report(x, warnings);
    std::string message;  // joins the old engine's loader and worker
    if (!nn::delete_engine(st.engine, message)) pd_error(x, "[nn~] %s", message.c_str());
    st.engine = e.release();
    st.batch = batch, st.inputs = inputs, st.outputs = outputs;
}

static void nn_tilde_dsp(t_nn_tilde* x, t_signal** sp) {
    NnPdState& st = *x->x_st;
    const int n = sp[0]->s_n;
    const double sr = sp[0]->s_sr;
    t_signal** out = sp + x->x_nin;
    // The engine's shape this DSP chain needs.
    int batch = 1, inputs = st.inputs, outputs = st.outputs;
    const int width = nn_pd_nchans(sp[0]);
    if (x->x_mode == NN_PD_VOICES) {
        batch = width;
        inputs = outputs = 1;
    } else if (x->x_mode == NN_PD_MULTICHANNEL) {
        nn_tilde_shape(*st.engine, inputs, outputs);
    }
    if (batch != st.batch || inputs != st.inputs || outputs != st.outputs) {
        if (x->x_mode == NN_PD_MULTICHANNEL)
            logpost(x, PD_NORMAL, "[nn~] -m: %d input and %d output channels", inputs, outputs);
        nn_tilde_rebuild(x, batch, inputs, outputs, sr);
    }
    st.engine->prepare(sr, n);
    st.ins.clear();
    st.outs.clear();
    if (x->x_mode == NN_PD_PLAIN) {
        // One channel per inlet; a multichannel cable (Pd 0.54+) gives its first channel.
        for (int i = 0; i < x->x_nin; ++i) {
            if (nn_pd_nchans(sp[i]) > 1)
                pd_error(x,
                         "[nn~] inlet %d gets a %d-channel cable: nn~ reads its first channel (create nn~ -m or "
                         "nn~ -v for multichannel cables)",
                         i + 1, nn_pd_nchans(sp[i]));
            st.ins.push_back(sp[i]->s_vec);
        }
        for (int o = 0; o < x->x_nout; ++o) {
            nn_pd_setmultiout(&out[o], 1);
            st.outs.push_back(out[o]->s_vec);
        }
        st.router.prepare(1, st.inputs, st.outputs, {}, n);
    } else {
        // -m: model channel c reads cable channel c mod width; -v: voice b reads channel b. Either way
        // the router sees one single-channel "inlet" per engine input (batch * inputs of them).
        for (int k = 0; k < st.batch * st.inputs; ++k) st.ins.push_back(sp[0]->s_vec + (k % width) * n);
        nn_pd_setmultiout(&out[0], st.batch * st.outputs);
        // The router writes output channel c of item b to host channel c * batch + b.
        for (int k = 0; k < st.batch * st.outputs; ++k) st.outs.push_back(out[0]->s_vec + k * n);
        st.router.prepare(st.batch, st.inputs, st.outputs, std::vector<int>(st.inputs, st.batch), n);
    }
    dsp_add(nn_tilde_perform, 2, (t_int)x, (t_int)n);
}

// ---- messages (main thread) ------------------------------------------------------------------------

static void nn_tilde_arm(t_nn_tilde* x) { clock_delay(x->x_poll, 0); }

// -m: a load or a method with other channel counts takes effect at the next DSP restart; ask for one
// now (nothing happens while DSP is off). main thread.
static void nn_tilde_follow_shape(t_nn_tilde* x) {
    if (x->x_mode != NN_PD_MULTICHANNEL) return;
    int inputs = 1, outputs = 1;
    nn_tilde_shape(*x->x_st->engine, inputs, outputs);
    if (inputs == x->x_st->inputs && outputs == x->x_st->outputs) return;
    logpost(x, PD_NORMAL, "[nn~] -m: the cables become %d input and %d output channels at the next DSP restart", inputs,
            outputs);
    canvas_update_dsp();
}

static void nn_tilde_poll(t_nn_tilde* x) {
    for (nn::Engine::Event& e : x->x_st->engine->poll()) {
        switch (e.kind) {
            case nn::Engine::EventKind::Error: pd_error(x, "[nn~] %s", e.text.c_str()); break;
            case nn::Engine::EventKind::Warning: nn_tilde_report(x, {e.text}); break;
            case nn::Engine::EventKind::Value: nn_tilde_output(x, e.text, e.values); break;
            case nn::Engine::EventKind::Reconfigure:
                logpost(x, PD_NORMAL, "[nn~] %s: restarting DSP", e.text.c_str());
                canvas_update_dsp();
                break;
            case nn::Engine::EventKind::Loaded: {
                logpost(x, PD_NORMAL, "[nn~] loaded %s", e.text.c_str());
                nn_tilde_output(x, "loaded",
                                {nn::Atom::sym(x->x_st->engine->path()), nn::Atom::sym(x->x_st->engine->method())});
                nn_tilde_follow_shape(x);
                break;
            }
        }
    }
    // Keep polling while a load or a worker task is under way (DSP may be off, so perform cannot arm us).
    if (x->x_st->engine->busy()) clock_delay(x->x_poll, 5);
}

static void nn_tilde_load(t_nn_tilde* x, t_symbol* s, int argc, t_atom* argv) {
    (void)s;
    if (argc < 1 || argv[0].a_type != A_SYMBOL || argc > 2 || (argc == 2 && argv[1].a_type != A_SYMBOL)) {
        pd_error(x, "[nn~] usage: load <model file> [<method>]");
        return;
    }
    std::string path;
    const char* name = atom_getsymbol(&argv[0])->s_name;
    if (!nn_tilde_resolve(x, name, path)) return;
    x->x_st->engine->load_async(path, argc == 2 ? atom_getsymbol(&argv[1])->s_name : "");
    nn_tilde_arm(x);
}

static void nn_tilde_reload(t_nn_tilde* x) {
    std::string error;
    if (!x->x_st->engine->reload(error)) pd_error(x, "[nn~] %s", error.c_str());
    nn_tilde_arm(x);
}

static void nn_tilde_method(t_nn_tilde* x, t_symbol* name) {
    std::string error;
    std::vector<std::string> warnings;
    if (!x->x_st->engine->set_method(name->s_name, error, warnings)) pd_error(x, "[nn~] %s", error.c_str());
    nn_tilde_report(x, warnings);
    nn_tilde_follow_shape(x);
    nn_tilde_arm(x);
}

static void nn_tilde_enable(t_nn_tilde* x, t_floatarg f) { x->x_st->engine->set_enabled(f != 0); }

static void nn_tilde_policy(t_nn_tilde* x, t_symbol* s, int argc, t_atom* argv) {
    (void)s;
    nn::LatePolicy p = nn::LatePolicy::Wait;
    std::string error;
    if (argc != 1) {
        pd_error(x, "[nn~] usage: policy wait|silence|hold");
        return;
    }
    if (!nn::parse_policy(nn_tilde_atoms(1, argv)[0], p, error)) {
        pd_error(x, "[nn~] %s", error.c_str());
        return;
    }
    x->x_st->engine->set_policy(p);
}

// Reads a Pd array's samples for a buffer/tensor attribute element.
static bool nn_tilde_array(t_nn_tilde* x, t_symbol* name, std::vector<float>& out) {
    t_garray* a = (t_garray*)pd_findbyclass(name, garray_class);
    int n = 0;
    t_word* vec = nullptr;
    if (!a || !garray_getfloatwords(a, &n, &vec)) {
        pd_error(x, "[nn~] no array named '%s' (buffer attributes take the name of a Pd array)", name->s_name);
        return false;
    }
    out.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) out[i] = vec[i].w_float;
    return true;
}

static void nn_tilde_set(t_nn_tilde* x, t_symbol* s, int argc, t_atom* argv) {
    (void)s;
    if (argc < 1 || argv[0].a_type != A_SYMBOL) {
        pd_error(x, "[nn~] usage: set <attribute> <value> ...");
        return;
    }
    const std::string name = atom_getsymbol(&argv[0])->s_name;
    const nn::AttributeInfo* attr = x->x_st->engine->attribute(name);
    std::vector<nn::AttributeValue> values = nn::attribute_values(attr, nn_tilde_atoms(argc - 1, argv + 1));
    for (size_t i = 0; i < values.size(); ++i)
        if (nn::wants_array(attr, i) && values[i].atom.is_symbol &&
            !nn_tilde_array(x, gensym(values[i].atom.symbol.c_str()), values[i].samples))
            return;
    std::string error;
    if (!x->x_st->engine->set_attribute(name, values, error)) pd_error(x, "[nn~] %s", error.c_str());
    nn_tilde_arm(x);
}

static void nn_tilde_get(t_nn_tilde* x, t_symbol* name) {
    std::string error;
    if (!x->x_st->engine->get_attribute(name->s_name, error)) pd_error(x, "[nn~] %s", error.c_str());
    nn_tilde_arm(x);
}

static void nn_tilde_bufsize(t_nn_tilde* x, t_floatarg f) {
    int n = 0;
    if (!nn_tilde_bufsize_arg(x, f, n)) return;
    std::string error, note;
    const bool restart = x->x_st->engine->set_buffer_size(n, error, note);
    if (!error.empty()) {
        pd_error(x, "[nn~] %s", error.c_str());
        return;
    }
    if (!note.empty()) logpost(x, PD_NORMAL, "[nn~] %s", note.c_str());
    if (restart) canvas_update_dsp();
}

// Takes effect at once: a DSP restart re-prepares the streams (a short gap in every object's output,
// as with `bufsize`).
static void nn_tilde_headroom(t_nn_tilde* x, t_floatarg f) {
    int n = 0;
    std::string error;
    if (!nn::parse_headroom(f, n, error)) {
        pd_error(x, "[nn~] %s", error.c_str());
        return;
    }
    if (x->x_st->engine->set_headroom(n)) canvas_update_dsp();
}

static void nn_tilde_info(t_nn_tilde* x) {
    for (const nn::InfoLine& l : x->x_st->engine->describe()) {
        post("[nn~] %s", nn::info_text(l).c_str());
        nn_tilde_output(x, l.key, l.values);
    }
}

static void nn_tilde_stats(t_nn_tilde* x) {
    const nn::InfoLine l = x->x_st->engine->stats_line();
    nn_tilde_output(x, l.key, l.values);
}

static void nn_tilde_resetstats(t_nn_tilde* x) { x->x_st->engine->reset_stats(); }

static void nn_tilde_free(t_nn_tilde* x) {
    clock_free(x->x_poll);
    std::string message;  // joins the loader and the worker; a model call that hangs is left behind
    if (!nn::delete_engine(x->x_st->engine, message)) pd_error(nullptr, "[nn~] %s", message.c_str());
    delete x->x_st;
}

extern "C" NN_PD_EXPORT void nn_tilde_setup(void) {
    nn_pd_compat_setup();
    // CLASS_MULTICHANNEL only where Pd has the API that goes with it (see pd_compat.h).
    const int flags = CLASS_DEFAULT | (nn_pd_has_multichannel() ? CLASS_MULTICHANNEL : 0);
    nn_tilde_class = class_new(gensym("nn~"), (t_newmethod)nn_tilde_new, (t_method)nn_tilde_free, sizeof(t_nn_tilde),
                               flags, A_GIMME, 0);
    CLASS_MAINSIGNALIN(nn_tilde_class, t_nn_tilde, x_f);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_dsp, gensym("dsp"), A_CANT, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_load, gensym("load"), A_GIMME, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_reload, gensym("reload"), A_NULL);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_method, gensym("method"), A_SYMBOL, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_enable, gensym("enable"), A_FLOAT, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_policy, gensym("policy"), A_GIMME, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_set, gensym("set"), A_GIMME, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_get, gensym("get"), A_SYMBOL, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_bufsize, gensym("bufsize"), A_FLOAT, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_headroom, gensym("headroom"), A_FLOAT, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_info, gensym("info"), A_NULL);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_stats, gensym("stats"), A_NULL);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_resetstats, gensym("resetstats"), A_NULL);
    class_addbang(nn_tilde_class, (t_method)nn_tilde_info);
    post("nn~ %s: neural audio models in Pd (libtorch, one worker thread per object; %s)", NN_VERSION,
         nn_pd_has_multichannel() ? "multichannel: -m, -v" : "no multichannel signals in this Pd: -m, -v unavailable");
}
