// nn.info for Max/MSP: reads a model file and reports its contract (methods with their params and
// labels, attributes with types, sample rate, declared latency, metadata, warnings) as messages and
// as a Max dictionary. The facts and their layout come from nn::model_info_lines / model_info_dict
// (host.h), which the C++ tests cover; this file only converts them to Max atoms and dictionaries.
//
//   [nn.info [<model>]]   messages: read <model>, bang (report the last file again)
//   left outlet: dictionary <name>     right outlet: one message per fact
//
// Threads: a file is read on a helper thread (a large TorchScript file takes seconds to load; Max's
// main thread must not freeze), the result is handed over under a mutex and reported by a qelem on
// the main thread.
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host.h"
#include "max_compat.h"
#include "model.h"

static t_class* nn_info_class = nullptr;

struct NnInfoState {
    std::thread reader;  // the last read; joined before the next one and on free
    std::mutex mutex;    // guards the hand-over below (reader thread -> main thread)
    bool ready = false;
    std::shared_ptr<const nn::ModelInfo> pending;
    std::string pending_error;
    std::shared_ptr<const nn::ModelInfo> info;  // main thread: the last file read
    t_dictionary* dict = nullptr;               // main thread: the registered dictionary last output
    t_symbol* dict_name = nullptr;
};

typedef struct _nn_info {
    t_object x_obj;
    NnInfoState* x_state;
    void* x_dict_out;   // left: dictionary <name>
    void* x_lines_out;  // right: path, samplerate, methods, method, inputs, outputs, latency, attribute...
    t_qelem* x_qelem;
    t_symbol* x_file;  // creation argument, read on the first bang
} t_nn_info;

static void nn_info_report(t_nn_info* x);

static bool nn_info_resolve(const char* name, std::string& path) {
    return nn_max_resolve_model(nn_info_class, name, path);
}

static void* nn_info_new(t_symbol* s, long argc, t_atom* argv) {
    (void)s;
    t_nn_info* x = (t_nn_info*)object_alloc(nn_info_class);
    if (!x) return nullptr;
    x->x_state = new NnInfoState;
    x->x_file = argc > 0 && atom_gettype(argv) == A_SYM ? atom_getsym(argv) : nullptr;
    x->x_lines_out = outlet_new(x, nullptr);  // created first: rightmost
    x->x_dict_out = outlet_new(x, "dictionary");
    x->x_qelem = (t_qelem*)qelem_new(x, (method)nn_info_report);
    return x;
}

// main thread
static void nn_info_read_file(t_nn_info* x, t_symbol* name) {
    std::string path;
    if (!nn_info_resolve(name->s_name, path)) {
        object_error((t_object*)x,
                     "model file '%s' not found in Max's search path or the package's models/ folder (.ts is added "
                     "when missing)",
                     name->s_name);
        return;
    }
    NnInfoState* st = x->x_state;
    if (st->reader.joinable()) st->reader.join();  // one read at a time; the previous one is reported too
    st->reader = std::thread([x, st, path] {
        nn::LoadResult lr = nn::load_model(path);  // reader thread; may block for seconds
        {
            std::lock_guard<std::mutex> lock(st->mutex);
            st->pending = lr.info;
            st->pending_error = lr.error;
            st->ready = true;
        }
        qelem_set(x->x_qelem);  // the torch module itself is freed here, with lr
    });
}

static void nn_info_do_read(t_nn_info* x, t_symbol*, short argc, t_atom* argv) {
    if (argc != 1 || atom_gettype(argv) != A_SYM) {
        object_error((t_object*)x, "usage: read <model file>");
        return;
    }
    nn_info_read_file(x, atom_getsym(argv));
}

static void nn_info_read(t_nn_info* x, t_symbol* s, long argc, t_atom* argv) {
    if (systhread_ismainthread())
        nn_info_do_read(x, s, static_cast<short>(argc), argv);
    else
        defer_low(x, (method)nn_info_do_read, s, static_cast<short>(argc), argv);
}

static t_dictionary* nn_info_to_max(const nn::Dict& d) {
    t_dictionary* md = dictionary_new();
    for (const nn::Dict::Entry& e : d.entries) {
        t_symbol* key = gensym(e.key.c_str());
        if (e.child) {
            dictionary_appenddictionary(md, key, (t_object*)nn_info_to_max(*e.child));
            continue;
        }
        std::vector<t_atom> av(e.atoms.size());
        for (size_t i = 0; i < e.atoms.size(); ++i) {
            if (e.atoms[i].is_symbol)
                atom_setsym(&av[i], gensym(e.atoms[i].symbol.c_str()));
            else
                atom_setfloat(&av[i], e.atoms[i].number);
        }
        if (e.array)  // an array even with 0 or 1 element (labels, lists)
            dictionary_appendatomarray(md, key, (t_object*)atomarray_new(static_cast<long>(av.size()), av.data()));
        else
            dictionary_appendatoms(md, key, static_cast<long>(av.size()), av.data());
    }
    return md;
}

// main thread: takes a finished read (if any) and outputs the last file's report.
static void nn_info_report(t_nn_info* x) {
    NnInfoState* st = x->x_state;
    {
        std::lock_guard<std::mutex> lock(st->mutex);
        if (st->ready) {
            st->ready = false;
            if (!st->pending_error.empty()) {
                object_error((t_object*)x, "%s", st->pending_error.c_str());
                return;
            }
            st->info = std::move(st->pending);
        }
    }
    if (!st->info) return;
    const nn::ModelInfo& info = *st->info;
    if (st->dict) dictobj_release(st->dict);
    st->dict_name = nullptr;
    st->dict = dictobj_register(nn_info_to_max(nn::model_info_dict(info)), &st->dict_name);
    for (const nn::InfoLine& l : nn::model_info_lines(info)) {
        std::vector<t_atom> av(l.values.size());
        for (size_t i = 0; i < l.values.size(); ++i) {
            if (l.values[i].is_symbol)
                atom_setsym(&av[i], gensym(l.values[i].symbol.c_str()));
            else
                atom_setfloat(&av[i], l.values[i].number);
        }
        outlet_anything(x->x_lines_out, gensym(l.key.c_str()), static_cast<short>(av.size()), av.data());
    }
    t_atom name;
    atom_setsym(&name, st->dict_name);
    outlet_anything(x->x_dict_out, gensym("dictionary"), 1, &name);
}

static void nn_info_bang(t_nn_info* x) {
    if (!x->x_state->info && x->x_file) {
        t_atom a;
        atom_setsym(&a, x->x_file);
        nn_info_read(x, gensym("read"), 1, &a);
        return;
    }
    if (systhread_ismainthread())
        nn_info_report(x);
    else
        qelem_set(x->x_qelem);
}

static void nn_info_assist(t_nn_info* x, void* b, long io, long index, char* s) {
    (void)x, (void)b;
    if (io == ASSIST_INLET)
        snprintf(s, NN_MAX_ASSIST_CHARS,
                 "read <model file>: report its methods, attributes, sample rate, latency, metadata; bang: again");
    else if (index == 0)
        snprintf(s, NN_MAX_ASSIST_CHARS,
                 "dictionary: the model's contract (methods, attributes, samplerate, metadata)");
    else
        snprintf(s, NN_MAX_ASSIST_CHARS,
                 "messages: path, samplerate, methods, method, inputs, outputs, latency, attribute, ...");
}

static void nn_info_free(t_nn_info* x) {
    NnInfoState* st = x->x_state;
    if (st && st->reader.joinable()) st->reader.join();  // before the qelem it may set is freed
    if (x->x_qelem) qelem_free(x->x_qelem);
    if (st && st->dict) dictobj_release(st->dict);
    delete st;
}

extern "C" C74_EXPORT void ext_main(void* r) {
    (void)r;
    t_class* c =
        class_new("nn.info", (method)nn_info_new, (method)nn_info_free, (long)sizeof(t_nn_info), nullptr, A_GIMME, 0);
    class_addmethod(c, (method)nn_info_read, "read", A_GIMME, 0);
    class_addmethod(c, (method)nn_info_bang, "bang", 0);
    class_addmethod(c, (method)nn_info_assist, "assist", A_CANT, 0);
    class_register(CLASS_BOX, c);
    nn_info_class = c;
}
