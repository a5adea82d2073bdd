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
// What every host does alike (creation, messages, events, rebuilds, info) is nn::Instance
// (core/instance.h); this file is Pd's API around it: the object, its inlets and outlets, perform,
// dsp, and NnPdPort, which says where nn~'s words go in Pd and how Pd finds files and arrays.
//
// Threads: every function here runs on Pd's scheduler thread. nn_tilde_perform is the audio path:
// it calls Engine::process (wait-free under the live policies) and, when the worker has left events,
// arms a clock (Pd's own idiom, as threshold~ does) so they are printed from the main thread.
#include <memory>
#include <string>
#include <vector>

#include "host.h"
#include "instance.h"
#include "pd_compat.h"

static t_class* nn_tilde_class;

enum NnPdMode { NN_PD_PLAIN, NN_PD_MULTICHANNEL, NN_PD_VOICES };

typedef struct _nn_tilde t_nn_tilde;

// Where nn~'s words go in Pd, and how Pd finds model files and arrays (nn::HostPort). main thread.
struct NnPdPort final : nn::HostPort {
    t_nn_tilde* x;
    explicit NnPdPort(t_nn_tilde* owner) : x(owner) {}
    void error(const std::string& text) override;
    void warning(const std::string& text) override;
    void post(const std::string& text) override;
    void output(const std::string& key, const std::vector<nn::Atom>& values) override;
    void restart(const std::string& why) override;
    bool resolve(const std::string& name, std::string& path) override;
    bool read_array(const std::string& name, std::vector<float>& samples) override;
    void method_changed() override;
};

// C++ state behind the Pd object (pd_new gives zeroed C memory, so it lives behind a pointer).
struct NnPdState {
    explicit NnPdState(t_nn_tilde* x) : port(x) {}
    NnPdPort port;
    std::unique_ptr<nn::Instance> nn;  // the engine and everything hosts share
    nn::ChannelRouter router;          // host channels <-> engine buffers (float; t_sample may be double)
    std::vector<t_sample*> ins, outs;  // one pointer per host channel, filled by dsp for perform
};

struct _nn_tilde {
    t_object x_obj;
    t_float x_f;         // scalar for the main signal inlet
    NnPdState* x_st;     // owned
    t_canvas* x_canvas;  // for resolving model files relative to the patch
    t_outlet* x_info;    // message outlet: info, stats, attribute values, loaded
    t_clock* x_poll;     // drains the engine's event queue on the main thread
    int x_mode;          // NnPdMode
    int x_nin, x_nout;   // signal inlets/outlets of the box (fixed at creation)
};

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

void NnPdPort::error(const std::string& text) { pd_error(x, "[nn~] %s", text.c_str()); }
void NnPdPort::warning(const std::string& text) { logpost(x, PD_NORMAL, "[nn~] warning: %s", text.c_str()); }
void NnPdPort::post(const std::string& text) { logpost(x, PD_NORMAL, "[nn~] %s", text.c_str()); }

void NnPdPort::output(const std::string& key, const std::vector<nn::Atom>& values) {
    std::vector<t_atom> av(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        if (values[i].is_symbol)
            SETSYMBOL(&av[i], gensym(values[i].symbol.c_str()));
        else
            SETFLOAT(&av[i], static_cast<t_float>(values[i].number));
    }
    outlet_anything(x->x_info, gensym(key.c_str()), static_cast<int>(av.size()), av.data());
}

// Pd prepares its objects again when DSP restarts (canvas_update_dsp, a short gap in every object).
void NnPdPort::restart(const std::string& why) {
    if (!why.empty()) logpost(x, PD_NORMAL, "[nn~] %s: restarting DSP", why.c_str());
    canvas_update_dsp();
}

// Resolve a model name: relative to the patch, then Pd's search path, then the models/ folder beside
// the nn~ binary Pd loaded (class_gethelpdir: a package's own models, as the Max package has them);
// ".ts" added when missing (nn::model_file_candidates, the order Max uses too). Prints why when it
// fails: a folder is named as such (rule file.folder), anything else is "not found".
bool NnPdPort::resolve(const std::string& name, std::string& path) {
    for (const std::string& c : nn::model_file_candidates(name)) {
        char dir[MAXPDSTRING];
        char* base = nullptr;
        const int fd = canvas_open(x->x_canvas, c.c_str(), "", dir, &base, MAXPDSTRING, 0);
        if (fd >= 0) {
            sys_close(fd);
            path = std::string(dir) + "/" + base;
            if (!nn::is_folder(path)) return true;
            error(nn::folder_error(path));
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
        nn::is_absolute_path(name) ? name : std::string(canvas_getdir(x->x_canvas)->s_name) + "/" + name;
    if (nn::is_folder(folder))
        error(nn::folder_error(folder));
    else
        error("model file '" + name + "' not found next to the patch or in Pd's search path, nor in " +
              (package ? std::string(package) + "/models" : std::string("nn~'s folder")) +
              " (.ts is added when missing)");
    return false;
}

// Reads a Pd array's samples for a buffer/tensor attribute element.
bool NnPdPort::read_array(const std::string& name, std::vector<float>& samples) {
    t_garray* a = (t_garray*)pd_findbyclass(gensym(name.c_str()), garray_class);
    int n = 0;
    t_word* vec = nullptr;
    if (!a || !garray_getfloatwords(a, &n, &vec)) {
        error("no array named '" + name + "' (buffer attributes take the name of a Pd array)");
        return false;
    }
    samples.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) samples[static_cast<size_t>(i)] = vec[i].w_float;
    return true;
}

// -m: a load or a method with other channel counts takes effect at the next DSP restart; ask for one
// now (nothing happens while DSP is off).
void NnPdPort::method_changed() {
    if (x->x_mode != NN_PD_MULTICHANNEL) return;
    const nn::Shape want = x->x_st->nn->method_shape(), have = x->x_st->nn->shape();
    if (want.inputs == have.inputs && want.outputs == have.outputs) return;
    logpost(x, PD_NORMAL, "[nn~] -m: the cables become %d input and %d output channels at the next DSP restart",
            want.inputs, want.outputs);
    canvas_update_dsp();
}

static const char* nn_tilde_mode_flag(int mode) { return mode == NN_PD_VOICES ? "-v" : "-m"; }

static void* nn_tilde_new(t_symbol*, int argc, t_atom* argv) {
    t_nn_tilde* x = (t_nn_tilde*)pd_new(nn_tilde_class);
    x->x_canvas = canvas_getcurrent();
    x->x_st = new NnPdState(x);
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
    // Load now, on the main thread, so the patch plays from its first sample and a plain object gets
    // one inlet per model input and one outlet per model output.
    const nn::ObjectArgs args = nn::parse_object_args(nn_tilde_atoms(argc, argv));
    nn::CreationModel cm = nn::Instance::open(st.port, args);
    if (x->x_mode == NN_PD_VOICES && cm.model.model && (cm.inputs != 1 || cm.outputs != 1))
        pd_error(x,
                 "[nn~] -v runs a method with one input and one output channel per voice; this one has %d and %d "
                 "(use -m for a method's channels in one cable)",
                 cm.inputs, cm.outputs);
    // -v starts with one voice: dsp gives the engine as many as the cable has.
    const nn::Shape shape{1, x->x_mode == NN_PD_VOICES ? 1 : cm.inputs, x->x_mode == NN_PD_VOICES ? 1 : cm.outputs};
    st.nn = std::make_unique<nn::Instance>(st.port, shape, args, std::move(cm), sys_getsr(),
                                           x->x_mode == NN_PD_MULTICHANNEL);

    x->x_nin = x->x_mode == NN_PD_PLAIN ? shape.inputs : 1;
    x->x_nout = x->x_mode == NN_PD_PLAIN ? shape.outputs : 1;
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
    nn::Engine& engine = st.nn->engine();
    // gather copies every input before scatter writes: Pd may hand an output the memory of an input.
    engine.process(st.router.gather(st.ins.data(), n), st.router.engine_outputs(), n);
    st.router.scatter(st.outs.data(), n);
    if (engine.has_events()) clock_delay(x->x_poll, 0);
    return w + 3;
}

static void nn_tilde_dsp(t_nn_tilde* x, t_signal** sp) {
    NnPdState& st = *x->x_st;
    const int n = sp[0]->s_n;
    const double sr = sp[0]->s_sr;
    t_signal** out = sp + x->x_nin;
    // The engine's shape this DSP chain needs: -v follows the cable's width, -m the method's channels.
    nn::Shape want = st.nn->shape();
    const int width = nn_pd_nchans(sp[0]);
    if (x->x_mode == NN_PD_VOICES) {
        want = {width, 1, 1};
    } else if (x->x_mode == NN_PD_MULTICHANNEL) {
        want = st.nn->method_shape();
        want.batch = 1;
    }
    if (want != st.nn->shape()) {
        if (x->x_mode == NN_PD_MULTICHANNEL)
            logpost(x, PD_NORMAL, "[nn~] -m: %d input and %d output channels", want.inputs, want.outputs);
        st.nn->reshape(want, sr);  // keeps the engine it has when the file cannot be read again
    }
    const nn::Shape sh = st.nn->shape();
    st.nn->engine().prepare(sr, n);
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
        st.router.prepare(1, sh.inputs, sh.outputs, {}, n);
    } else {
        // -m: model channel c reads cable channel c mod width; -v: voice b reads channel b. Either way
        // the router sees one single-channel "inlet" per engine input (batch * inputs of them).
        for (int k = 0; k < sh.batch * sh.inputs; ++k) st.ins.push_back(sp[0]->s_vec + (k % width) * n);
        nn_pd_setmultiout(&out[0], sh.batch * sh.outputs);
        // The router writes output channel c of item b to host channel c * batch + b.
        for (int k = 0; k < sh.batch * sh.outputs; ++k) st.outs.push_back(out[0]->s_vec + k * n);
        st.router.prepare(sh.batch, sh.inputs, sh.outputs, std::vector<int>(sh.inputs, sh.batch), n);
    }
    dsp_add(nn_tilde_perform, 2, (t_int)x, (t_int)n);
}

// ---- messages (main thread) ------------------------------------------------------------------------

static void nn_tilde_arm(t_nn_tilde* x) { clock_delay(x->x_poll, 0); }

static void nn_tilde_poll(t_nn_tilde* x) {
    // Keep polling while a load or a worker task is under way (DSP may be off, so perform cannot arm us).
    if (x->x_st->nn->drain()) clock_delay(x->x_poll, 5);
}

static void nn_tilde_load(t_nn_tilde* x, t_symbol* s, int argc, t_atom* argv) {
    (void)s;
    if (argc < 1 || argv[0].a_type != A_SYMBOL || argc > 2 || (argc == 2 && argv[1].a_type != A_SYMBOL)) {
        pd_error(x, "[nn~] usage: load <model file> [<method>]");
        return;
    }
    x->x_st->nn->load(atom_getsymbol(&argv[0])->s_name, argc == 2 ? atom_getsymbol(&argv[1])->s_name : "");
    nn_tilde_arm(x);
}

static void nn_tilde_reload(t_nn_tilde* x) {
    x->x_st->nn->reload();
    nn_tilde_arm(x);
}

static void nn_tilde_method(t_nn_tilde* x, t_symbol* name) {
    x->x_st->nn->method(name->s_name);
    nn_tilde_arm(x);
}

static void nn_tilde_enable(t_nn_tilde* x, t_floatarg f) { x->x_st->nn->enable(f != 0); }

static void nn_tilde_policy(t_nn_tilde* x, t_symbol* s, int argc, t_atom* argv) {
    (void)s;
    if (argc != 1) {
        pd_error(x, "[nn~] usage: policy wait|silence|hold");
        return;
    }
    x->x_st->nn->policy(nn_tilde_atoms(1, argv)[0]);
}

static void nn_tilde_set(t_nn_tilde* x, t_symbol* s, int argc, t_atom* argv) {
    (void)s;
    x->x_st->nn->set(nn_tilde_atoms(argc, argv));
    nn_tilde_arm(x);
}

static void nn_tilde_get(t_nn_tilde* x, t_symbol* name) {
    x->x_st->nn->get(name->s_name);
    nn_tilde_arm(x);
}

// A new buffer size or headroom takes effect at once: a DSP restart re-prepares the streams (a
// short gap in every object's output).
static void nn_tilde_bufsize(t_nn_tilde* x, t_floatarg f) { x->x_st->nn->bufsize(f); }
static void nn_tilde_headroom(t_nn_tilde* x, t_floatarg f) { x->x_st->nn->headroom(f); }
static void nn_tilde_info(t_nn_tilde* x) { x->x_st->nn->info(); }
static void nn_tilde_stats(t_nn_tilde* x) { x->x_st->nn->stats(); }
static void nn_tilde_resetstats(t_nn_tilde* x) { x->x_st->nn->reset_stats(); }

static void nn_tilde_free(t_nn_tilde* x) {
    clock_free(x->x_poll);
    delete x->x_st;  // joins the engine's threads; a model call that hangs is left behind, with a message
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
