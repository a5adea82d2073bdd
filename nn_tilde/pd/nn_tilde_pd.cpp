// nn~ for PureData: a thin adapter over nn::Engine (nn_tilde/core). Reads top-down in Pd's order:
// new, perform, dsp, messages, free, setup. Only nn_tilde_setup is exported.
//
//   [nn~ <model> [<method>] [<buffer size>]]
//
// Threads: every function here runs on Pd's scheduler thread. nn_tilde_perform is the audio path:
// it calls Engine::process (wait-free under the live policies) and, when the worker has left events,
// arms a clock (Pd's own idiom, as threshold~ does) so they are printed from the main thread.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine.h"
#include "host.h"
#include "pd_compat.h"

static t_class* nn_tilde_class;

typedef struct _nn_tilde {
    t_object x_obj;
    t_float x_f;           // scalar for the main signal inlet
    nn::Engine* x_engine;  // owned; nullptr only if construction failed
    t_canvas* x_canvas;    // for resolving model files relative to the patch
    t_outlet* x_info;      // message outlet: info, stats, attribute values, loaded
    t_clock* x_poll;       // drains the engine's event queue on the main thread
    int x_nin, x_nout;
    t_sample** x_ins;  // signal vectors, filled by dsp
    t_sample** x_outs;
} t_nn_tilde;

static void nn_tilde_poll(t_nn_tilde* x);

// Resolve a model name: relative to the patch, then Pd's search path; ".ts" added when missing.
static bool nn_tilde_resolve(t_nn_tilde* x, const char* name, std::string& path) {
    std::vector<std::string> candidates;
    const size_t len = std::strlen(name);
    if (len < 3 || std::strcmp(name + len - 3, ".ts") != 0) candidates.push_back(std::string(name) + ".ts");
    candidates.push_back(name);
    for (const std::string& c : candidates) {
        char dir[MAXPDSTRING];
        char* base = nullptr;
        const int fd = canvas_open(x->x_canvas, c.c_str(), "", dir, &base, MAXPDSTRING, 0);
        if (fd >= 0) {
            sys_close(fd);
            path = std::string(dir) + "/" + base;
            return true;
        }
    }
    // canvas_open never opens a folder: hand it to the loader, whose refusal says it is one (file.folder).
    std::error_code ec;
    const std::string folder =
        name[0] == '/' ? std::string(name) : std::string(canvas_getdir(x->x_canvas)->s_name) + "/" + name;
    if (std::filesystem::is_directory(folder, ec)) {
        path = folder;
        return true;
    }
    return false;
}

// A buffer size typed by the user (creation argument or `bufsize`): true with `n` set when it is a whole
// number of samples in 1..kMaxBufferSize; otherwise prints why (followed by `then`) and returns false.
// The check is nn::parse_buffer_size (host.h), shared with the Max externals.
static bool nn_tilde_bufsize_arg(t_nn_tilde* x, double f, const char* then, int& n) {
    std::string error;
    if (nn::parse_buffer_size(f, n, error)) return true;
    pd_error(x, "[nn~] %s%s", error.c_str(), then);
    return false;
}

static void nn_tilde_report(t_nn_tilde* x, const std::vector<std::string>& warnings) {
    for (const std::string& w : warnings) logpost(x, PD_NORMAL, "[nn~] warning: %s", w.c_str());
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

static void* nn_tilde_new(t_symbol*, int argc, t_atom* argv) {
    t_nn_tilde* x = (t_nn_tilde*)pd_new(nn_tilde_class);
    x->x_canvas = canvas_getcurrent();
    t_symbol* model = nullptr;
    t_symbol* method = nullptr;
    double bufsize = 0;
    bool have_bufsize = false;
    for (int i = 0; i < argc; ++i) {
        if (argv[i].a_type == A_SYMBOL) {
            if (!model)
                model = atom_getsymbol(&argv[i]);
            else if (!method)
                method = atom_getsymbol(&argv[i]);
            else
                pd_error(x, "[nn~] ignoring extra argument '%s' (usage: nn~ <model> [<method>] [<buffer size>])",
                         atom_getsymbol(&argv[i])->s_name);
        } else if (argv[i].a_type == A_FLOAT && !have_bufsize) {
            bufsize = atom_getfloat(&argv[i]);
            have_bufsize = true;
        }
    }

    // Load now, on the main thread, so the patch plays from its first sample and the object gets one
    // inlet per model input and one outlet per model output.
    nn::CreationModel cm;
    cm.method = method ? method->s_name : "";
    if (model) {
        std::string path;
        if (!nn_tilde_resolve(x, model->s_name, path))
            pd_error(
                x,
                "[nn~] model file '%s' not found next to the patch or in Pd's search path (.ts is added when missing)",
                model->s_name);
        else if (cm = nn::load_for_creation(path, cm.method); !cm.error.empty())
            pd_error(x, "[nn~] %s", cm.error.c_str());
    }
    const int nin = cm.inputs, nout = cm.outputs;
    x->x_nin = nin;
    x->x_nout = nout;
    x->x_engine = new nn::Engine(1, nin, nout);
    int n = 0;
    if (have_bufsize && nn_tilde_bufsize_arg(x, bufsize, "; using the default", n)) {
        std::string error, note;
        x->x_engine->set_buffer_size(n, error, note);  // before the load: no DSP restart involved
        if (!error.empty()) pd_error(x, "[nn~] %s; using the default", error.c_str());
        if (!note.empty()) logpost(x, PD_NORMAL, "[nn~] %s", note.c_str());
    }
    if (cm.model.model) {
        std::string error;
        std::vector<std::string> warnings;
        if (!x->x_engine->load(std::move(cm.model), cm.method, sys_getsr(), error, warnings))
            pd_error(x, "[nn~] %s", error.c_str());
        nn_tilde_report(x, warnings);
    }

    for (int i = 1; i < nin; ++i) inlet_new(&x->x_obj, &x->x_obj.ob_pd, &s_signal, &s_signal);
    for (int i = 0; i < nout; ++i) outlet_new(&x->x_obj, &s_signal);
    x->x_info = outlet_new(&x->x_obj, nullptr);
    x->x_ins = (t_sample**)getbytes(sizeof(t_sample*) * nin);
    x->x_outs = (t_sample**)getbytes(sizeof(t_sample*) * nout);
    x->x_poll = clock_new(x, (t_method)nn_tilde_poll);
    clock_delay(x->x_poll, 0);  // show events queued during creation
    return x;
}

// audio thread (Pd's scheduler inside DSP); wait-free under the live policies; no allocation
static t_int* nn_tilde_perform(t_int* w) {
    t_nn_tilde* x = (t_nn_tilde*)(w[1]);
    const int n = (int)(w[2]);
    for (int i = 0; i < x->x_nin; ++i) x->x_ins[i] = (t_sample*)(w[3 + i]);
    for (int i = 0; i < x->x_nout; ++i) x->x_outs[i] = (t_sample*)(w[3 + x->x_nin + i]);
    x->x_engine->process(x->x_ins, x->x_outs, n);
    if (x->x_engine->has_events()) clock_delay(x->x_poll, 0);
    return w + 3 + x->x_nin + x->x_nout;
}

static void nn_tilde_dsp(t_nn_tilde* x, t_signal** sp) {
    x->x_engine->prepare(sp[0]->s_sr, sp[0]->s_n);
    const int count = 2 + x->x_nin + x->x_nout;
    std::vector<t_int> vec(static_cast<size_t>(count));
    vec[0] = (t_int)x;
    vec[1] = (t_int)sp[0]->s_n;
    for (int i = 0; i < x->x_nin + x->x_nout; ++i) vec[2 + i] = (t_int)sp[i]->s_vec;
    dsp_addv(nn_tilde_perform, count, vec.data());
}

// ---- messages (main thread) ------------------------------------------------------------------------

static void nn_tilde_arm(t_nn_tilde* x) { clock_delay(x->x_poll, 0); }

static void nn_tilde_poll(t_nn_tilde* x) {
    for (nn::Engine::Event& e : x->x_engine->poll()) {
        switch (e.kind) {
            case nn::Engine::EventKind::Error: pd_error(x, "[nn~] %s", e.text.c_str()); break;
            case nn::Engine::EventKind::Warning: logpost(x, PD_NORMAL, "[nn~] warning: %s", e.text.c_str()); break;
            case nn::Engine::EventKind::Value: nn_tilde_output(x, e.text, e.values); break;
            case nn::Engine::EventKind::Reconfigure:
                logpost(x, PD_NORMAL, "[nn~] %s: restarting DSP", e.text.c_str());
                canvas_update_dsp();
                break;
            case nn::Engine::EventKind::Loaded: {
                logpost(x, PD_NORMAL, "[nn~] loaded %s", e.text.c_str());
                nn_tilde_output(x, "loaded",
                                {nn::Atom::sym(x->x_engine->path()), nn::Atom::sym(x->x_engine->method())});
                break;
            }
        }
    }
    // Keep polling while a load or a worker task is under way (DSP may be off, so perform cannot arm us).
    if (x->x_engine->busy()) clock_delay(x->x_poll, 5);
}

static void nn_tilde_load(t_nn_tilde* x, t_symbol* s, int argc, t_atom* argv) {
    (void)s;
    if (argc < 1 || argv[0].a_type != A_SYMBOL || argc > 2 || (argc == 2 && argv[1].a_type != A_SYMBOL)) {
        pd_error(x, "[nn~] usage: load <model file> [<method>]");
        return;
    }
    std::string path;
    const char* name = atom_getsymbol(&argv[0])->s_name;
    if (!nn_tilde_resolve(x, name, path)) {
        pd_error(x,
                 "[nn~] model file '%s' not found next to the patch or in Pd's search path (.ts is added when missing)",
                 name);
        return;
    }
    x->x_engine->load_async(path, argc == 2 ? atom_getsymbol(&argv[1])->s_name : "");
    nn_tilde_arm(x);
}

static void nn_tilde_reload(t_nn_tilde* x) {
    std::string error;
    if (!x->x_engine->reload(error)) pd_error(x, "[nn~] %s", error.c_str());
    nn_tilde_arm(x);
}

static void nn_tilde_method(t_nn_tilde* x, t_symbol* name) {
    std::string error;
    std::vector<std::string> warnings;
    if (!x->x_engine->set_method(name->s_name, error, warnings)) pd_error(x, "[nn~] %s", error.c_str());
    nn_tilde_report(x, warnings);
    nn_tilde_arm(x);
}

static void nn_tilde_enable(t_nn_tilde* x, t_floatarg f) { x->x_engine->set_enabled(f != 0); }

static void nn_tilde_policy(t_nn_tilde* x, t_symbol* s) {
    const std::string p = s->s_name;
    if (p == "wait")
        x->x_engine->set_policy(nn::LatePolicy::Wait);
    else if (p == "silence")
        x->x_engine->set_policy(nn::LatePolicy::Silence);
    else if (p == "hold")
        x->x_engine->set_policy(nn::LatePolicy::Hold);
    else
        pd_error(x, "[nn~] unknown policy '%s': use wait, silence or hold", s->s_name);
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
    const nn::AttributeInfo* attr = x->x_engine->attribute(name);
    std::vector<nn::AttributeValue> values(static_cast<size_t>(argc - 1));
    for (int i = 1; i < argc; ++i) {
        nn::AttributeValue& v = values[static_cast<size_t>(i - 1)];
        if (argv[i].a_type == A_SYMBOL)
            v.atom = nn::Atom::sym(atom_getsymbol(&argv[i])->s_name);
        else
            v.atom = nn::Atom::num(atom_getfloat(&argv[i]));
        const bool wants_array = attr && i - 1 < static_cast<int>(attr->types.size()) &&
                                 (attr->types[i - 1] == nn::kBuffer || attr->types[i - 1] == nn::kTensor);
        if (wants_array && argv[i].a_type == A_SYMBOL && !nn_tilde_array(x, atom_getsymbol(&argv[i]), v.samples))
            return;
    }
    std::string error;
    if (!x->x_engine->set_attribute(name, values, error)) pd_error(x, "[nn~] %s", error.c_str());
    nn_tilde_arm(x);
}

static void nn_tilde_get(t_nn_tilde* x, t_symbol* name) {
    std::string error;
    if (!x->x_engine->get_attribute(name->s_name, error)) pd_error(x, "[nn~] %s", error.c_str());
    nn_tilde_arm(x);
}

static void nn_tilde_bufsize(t_nn_tilde* x, t_floatarg f) {
    int n = 0;
    if (!nn_tilde_bufsize_arg(x, f, "", n)) return;
    std::string error, note;
    const bool restart = x->x_engine->set_buffer_size(n, error, note);
    if (!error.empty()) {
        pd_error(x, "[nn~] %s", error.c_str());
        return;
    }
    if (!note.empty()) logpost(x, PD_NORMAL, "[nn~] %s", note.c_str());
    if (restart) canvas_update_dsp();
}

static void nn_tilde_info(t_nn_tilde* x) {
    for (const nn::InfoLine& l : x->x_engine->describe()) {
        std::string text;
        for (const nn::Atom& a : l.values) {
            char num[32];
            std::snprintf(num, sizeof num, "%g", a.number);
            text += " " + (a.is_symbol ? a.symbol : std::string(num));
        }
        post("[nn~] %s%s", l.key.c_str(), text.c_str());
        nn_tilde_output(x, l.key, l.values);
    }
}

static void nn_tilde_stats(t_nn_tilde* x) {
    const nn::InfoLine l = x->x_engine->stats_line();
    nn_tilde_output(x, l.key, l.values);
}

static void nn_tilde_resetstats(t_nn_tilde* x) { x->x_engine->reset_stats(); }

static void nn_tilde_free(t_nn_tilde* x) {
    clock_free(x->x_poll);
    std::string message;  // joins the loader and the worker; a model call that hangs is left behind
    if (!nn::delete_engine(x->x_engine, message)) pd_error(nullptr, "[nn~] %s", message.c_str());
    freebytes(x->x_ins, sizeof(t_sample*) * x->x_nin);
    freebytes(x->x_outs, sizeof(t_sample*) * x->x_nout);
}

extern "C" NN_PD_EXPORT void nn_tilde_setup(void) {
    nn_tilde_class = class_new(gensym("nn~"), (t_newmethod)nn_tilde_new, (t_method)nn_tilde_free, sizeof(t_nn_tilde),
                               CLASS_DEFAULT, A_GIMME, 0);
    CLASS_MAINSIGNALIN(nn_tilde_class, t_nn_tilde, x_f);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_dsp, gensym("dsp"), A_CANT, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_load, gensym("load"), A_GIMME, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_reload, gensym("reload"), A_NULL);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_method, gensym("method"), A_SYMBOL, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_enable, gensym("enable"), A_FLOAT, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_policy, gensym("policy"), A_SYMBOL, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_set, gensym("set"), A_GIMME, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_get, gensym("get"), A_SYMBOL, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_bufsize, gensym("bufsize"), A_FLOAT, 0);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_info, gensym("info"), A_NULL);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_stats, gensym("stats"), A_NULL);
    class_addmethod(nn_tilde_class, (t_method)nn_tilde_resetstats, gensym("resetstats"), A_NULL);
    class_addbang(nn_tilde_class, (t_method)nn_tilde_info);
    post("nn~ %s: neural audio models in Pd (libtorch, one worker thread per object)", NN_VERSION);
}
