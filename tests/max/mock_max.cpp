// The mock Max API (see mock_max.h). Compiled against the real SDK headers, so every function has the
// exact signature the externals were compiled against; the test executable exports these symbols
// (ENABLE_EXPORTS) and the dlopen'ed externals resolve their undefined Max symbols to them.
#include "mock_max.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "ext.h"
#include "ext_buffer.h"
#include "ext_dictobj.h"
#include "ext_obex.h"
#include "z_dsp.h"

namespace {

enum Magic : uint32_t { kAttr = 0x6d61a001, kClock, kQelem, kOutlet, kBufRef, kBuffer, kDict, kArray, kDsp };

struct Header {
    uint32_t magic;
};

struct MockAttr : Header {
    std::string name, type;
    long offset = 0;
    method get = nullptr, set = nullptr;
};

struct MockMethod {
    method fn = nullptr;
    long type = 0;  // first argument type: A_GIMME, A_CANT or 0 (none)
};

struct MockClass {
    std::string name;
    method mnew = nullptr, mfree = nullptr;
    long size = 0;
    std::map<std::string, MockMethod> methods;
    std::map<std::string, MockAttr*> attrs;
    short home = 0;  // class_getpath: the folder of the module that registered the class
};

struct MockOutlet : Header {
    std::string type;
    std::vector<mock::Message> log;
};

struct MockQelem : Header {
    void* obj;
    method fn;
    std::atomic<bool> set{false};
};

struct MockClock : Header {
    void* obj;
    method fn;
    bool armed = false;
};

struct MockBuffer : Header {
    std::vector<float> samples;
    long channels = 1;
};

struct MockBufRef : Header {
    std::string name;
};

struct MockArray : Header {
    std::vector<t_atom> atoms;
};

struct MockDict : Header {
    struct Value {
        std::vector<t_atom> atoms;
        MockArray* array = nullptr;
        MockDict* dict = nullptr;
    };
    std::vector<std::pair<std::string, Value>> entries;
};

struct MockDsp : Header {
    void* obj = nullptr;
    t_perfroutine64 perform = nullptr;
    void* userparam = nullptr;
    std::vector<long> inlet_channels;
};

struct Instance {
    MockClass* cls = nullptr;
    long signal_inlets = 0;
    std::vector<MockOutlet*> outlets;  // creation order: the last created is the leftmost
    MockDsp dsp;
};

struct Deferred {
    void* obj;
    method fn;
    t_symbol* sym;
    std::vector<t_atom> atoms;
};

struct State {
    std::mutex mutex;  // guards everything below against the externals' helper threads
    std::map<std::string, std::unique_ptr<t_symbol>> symbols;
    std::map<std::string, MockClass*> classes;
    std::map<void*, Instance> instances;
    std::vector<MockQelem*> qelems;
    std::vector<MockClock*> clocks;
    std::deque<Deferred> deferred;
    std::vector<std::string> console;
    std::map<std::string, MockBuffer*> buffers;
    std::map<std::string, MockDict*> dicts;
    std::vector<std::string> search_path;  // path ids 1..n
    std::vector<std::string> module_dirs;  // path ids 1000..: folders externals were loaded from
    short loading_home = 0;
    std::thread::id main_thread;
    double sample_rate = 44100;
    int dict_counter = 0;
};

State& st() {
    static State s;
    return s;
}

std::string vformat(const char* fmt, va_list ap) {
    char buf[4096];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    return buf;
}

void log_console(const char* level, const std::string& text) {
    std::lock_guard<std::mutex> lock(st().mutex);
    st().console.push_back(std::string(level) + ": " + text);
}

std::string atom_text(const t_atom& a) {
    if (a.a_type == A_SYM) return a.a_w.w_sym->s_name;
    char b[64];
    if (a.a_type == A_LONG)
        std::snprintf(b, sizeof b, "%lld", static_cast<long long>(a.a_w.w_long));
    else
        std::snprintf(b, sizeof b, "%g", static_cast<double>(a.a_w.w_float));
    return b;
}

std::vector<t_atom> parse(const std::string& text) {
    std::vector<t_atom> out;
    std::istringstream in(text);
    std::string w;
    while (in >> w) {
        t_atom a{};
        char* end = nullptr;
        const double v = std::strtod(w.c_str(), &end);
        if (end && *end == '\0' && !w.empty()) {
            if (w.find_first_of(".eE") == std::string::npos) {
                a.a_type = A_LONG;
                a.a_w.w_long = static_cast<t_atom_long>(v);
            } else {
                a.a_type = A_FLOAT;
                a.a_w.w_float = v;
            }
        } else {
            a.a_type = A_SYM;
            a.a_w.w_sym = gensym(w.c_str());
        }
        out.push_back(a);
    }
    return out;
}

Instance* instance(void* obj) {
    auto it = st().instances.find(obj);
    return it == st().instances.end() ? nullptr : &it->second;
}

void set_attribute(void* obj, MockAttr* attr, long argc, t_atom* argv) {
    if (attr->set) {
        reinterpret_cast<t_max_err (*)(void*, void*, long, t_atom*)>(attr->set)(obj, attr, argc, argv);
        return;
    }
    if (argc < 1) return;
    char* base = static_cast<char*>(obj) + attr->offset;
    if (attr->type == "long")
        *reinterpret_cast<long*>(base) = static_cast<long>(atom_getlong(argv));
    else if (attr->type == "symbol")
        *reinterpret_cast<t_symbol**>(base) = atom_getsym(argv);
}

void dispatch(void* obj, t_symbol* sel, long argc, t_atom* argv) {
    Instance* in = instance(obj);
    if (!in) return;
    const std::string name = sel->s_name;
    auto m = in->cls->methods.find(name);
    if (m != in->cls->methods.end()) {
        if (m->second.type == A_GIMME)
            reinterpret_cast<void (*)(void*, t_symbol*, long, t_atom*)>(m->second.fn)(obj, sel, argc, argv);
        else
            reinterpret_cast<void (*)(void*)>(m->second.fn)(obj);
        return;
    }
    auto a = in->cls->attrs.find(name);
    if (a != in->cls->attrs.end()) {
        set_attribute(obj, a->second, argc, argv);
        return;
    }
    log_console("error", in->cls->name + " doesn't understand \"" + name + "\"");
}

void free_dict(MockDict* d) {
    for (auto& e : d->entries) {
        delete e.second.array;
        if (e.second.dict) free_dict(e.second.dict);
    }
    delete d;
}

void json_atoms(const std::vector<t_atom>& atoms, bool array, std::string& o) {
    auto one = [](const t_atom& a) {
        return a.a_type == A_SYM ? "\"" + std::string(a.a_w.w_sym->s_name) + "\"" : atom_text(a);
    };
    if (!array && atoms.size() == 1) {
        o += one(atoms[0]);
        return;
    }
    o += "[";
    for (size_t i = 0; i < atoms.size(); ++i) o += (i ? ", " : "") + one(atoms[i]);
    o += "]";
}

void json_dict(const MockDict* d, std::string& o) {
    o += "{";
    for (size_t i = 0; i < d->entries.size(); ++i) {
        const auto& [key, v] = d->entries[i];
        o += (i ? ", " : "") + std::string("\"") + key + "\": ";
        if (v.dict)
            json_dict(v.dict, o);
        else if (v.array)
            json_atoms(v.array->atoms, true, o);
        else
            json_atoms(v.atoms, false, o);
    }
    o += "}";
}

}  // namespace

// ---- the Max API (C linkage, as declared by the SDK headers) --------------------------------------

BEGIN_USING_C_LINKAGE

t_symbol* gensym(C74_CONST char* s) {
    std::lock_guard<std::mutex> lock(st().mutex);
    auto& slot = st().symbols[s];
    if (!slot) {
        slot = std::make_unique<t_symbol>();
        slot->s_name = strdup(s);
        slot->s_thing = nullptr;
    }
    return slot.get();
}
t_symbol* gensym_tr(const char* s) { return gensym(s); }

t_atom_float atom_getfloat(const t_atom* a) {
    return a->a_type == A_FLOAT ? a->a_w.w_float : a->a_type == A_LONG ? static_cast<t_atom_float>(a->a_w.w_long) : 0;
}
t_atom_long atom_getlong(const t_atom* a) {
    return a->a_type == A_LONG ? a->a_w.w_long : a->a_type == A_FLOAT ? static_cast<t_atom_long>(a->a_w.w_float) : 0;
}
t_symbol* atom_getsym(const t_atom* a) { return a->a_type == A_SYM ? a->a_w.w_sym : gensym(""); }
long atom_gettype(const t_atom* a) { return a->a_type; }
t_max_err atom_setfloat(t_atom* a, double b) {
    a->a_type = A_FLOAT;
    a->a_w.w_float = b;
    return MAX_ERR_NONE;
}
t_max_err atom_setsym(t_atom* a, t_symbol* b) {
    a->a_type = A_SYM;
    a->a_w.w_sym = b;
    return MAX_ERR_NONE;
}

t_class* class_new(C74_CONST char* name, C74_CONST method mnew, C74_CONST method mfree, long size, C74_CONST method,
                   short, ...) {
    auto* c = new MockClass;
    c->name = name;
    c->mnew = mnew;
    c->mfree = mfree;
    c->size = size;
    c->home = st().loading_home;
    return reinterpret_cast<t_class*>(c);
}
t_max_err class_addmethod(t_class* c, C74_CONST method m, C74_CONST char* name, ...) {
    va_list ap;
    va_start(ap, name);
    const int type = va_arg(ap, int);
    va_end(ap);
    reinterpret_cast<MockClass*>(c)->methods[name] = MockMethod{m, type};
    return MAX_ERR_NONE;
}
t_max_err class_register(t_symbol*, t_class* c) {
    auto* mc = reinterpret_cast<MockClass*>(c);
    std::lock_guard<std::mutex> lock(st().mutex);
    st().classes[mc->name] = mc;
    return MAX_ERR_NONE;
}
void class_dspinit(t_class*) {}
t_object* attr_offset_new(C74_CONST char* name, C74_CONST t_symbol* type, long, C74_CONST method mget,
                          C74_CONST method mset, long offset) {
    auto* a = new MockAttr;
    a->magic = kAttr;
    a->name = name;
    a->type = type->s_name;
    a->offset = offset;
    a->get = mget;
    a->set = mset;
    return reinterpret_cast<t_object*>(a);
}
t_max_err class_addattr(t_class* c, t_object* attr) {
    auto* a = reinterpret_cast<MockAttr*>(attr);
    reinterpret_cast<MockClass*>(c)->attrs[a->name] = a;
    return MAX_ERR_NONE;
}
void* class_attr_get(t_class* c, t_symbol* name) {
    auto& attrs = reinterpret_cast<MockClass*>(c)->attrs;
    auto it = attrs.find(name->s_name);
    return it == attrs.end() ? nullptr : it->second;
}
t_max_err class_attr_addattr_format(t_class*, C74_CONST char*, C74_CONST char*, C74_CONST t_symbol*, long,
                                    C74_CONST char*, ...) {
    return MAX_ERR_NONE;  // inspector styles, labels, save flags: nothing to run
}
t_max_err class_attr_addattr_parse(t_class*, C74_CONST char*, C74_CONST char*, t_symbol*, long, C74_CONST char*) {
    return MAX_ERR_NONE;
}

void* object_alloc(t_class* c) {
    auto* mc = reinterpret_cast<MockClass*>(c);
    void* x = std::calloc(1, static_cast<size_t>(mc->size));
    std::lock_guard<std::mutex> lock(st().mutex);
    st().instances[x].cls = mc;
    return x;
}

t_max_err object_free(void* x) {
    if (!x) return MAX_ERR_NONE;
    switch (static_cast<Header*>(x)->magic) {
        case kClock: {
            std::lock_guard<std::mutex> lock(st().mutex);
            auto& v = st().clocks;
            v.erase(std::remove(v.begin(), v.end(), static_cast<MockClock*>(x)), v.end());
            delete static_cast<MockClock*>(x);
            return MAX_ERR_NONE;
        }
        case kBufRef: delete static_cast<MockBufRef*>(x); return MAX_ERR_NONE;
        default: return MAX_ERR_GENERIC;
    }
}

void* object_method_imp(void* x, void* sym, void* p1, void* p2, void* p3, void* p4, void*, void*, void*, void*) {
    const std::string s = static_cast<t_symbol*>(sym)->s_name;
    auto* h = static_cast<Header*>(x);
    if (h->magic == kAttr && s == "setmethod") {
        auto* a = static_cast<MockAttr*>(h);
        const std::string which = static_cast<t_symbol*>(p1)->s_name;
        (which == "get" ? a->get : a->set) = reinterpret_cast<method>(p2);
        return nullptr;
    }
    if (h->magic == kDsp) {
        auto* d = static_cast<MockDsp*>(h);
        if (s == "dsp_add64") {
            d->obj = p1;
            d->perform = reinterpret_cast<t_perfroutine64>(p2);
            d->userparam = p4;
            (void)p3;
            return nullptr;
        }
        if (s == "getnuminputchannels") {
            const auto i = static_cast<size_t>(reinterpret_cast<t_ptr_int>(p2));
            return reinterpret_cast<void*>(
                static_cast<t_ptr_int>(i < d->inlet_channels.size() ? d->inlet_channels[i] : 1));
        }
    }
    return nullptr;
}

long attr_args_offset(short ac, t_atom* av) {
    for (short i = 0; i < ac; ++i)
        if (av[i].a_type == A_SYM && av[i].a_w.w_sym->s_name[0] == '@') return i;
    return ac;
}

void attr_args_process(void* x, short ac, t_atom* av) {
    Instance* in = instance(x);
    for (long i = attr_args_offset(ac, av); i < ac;) {
        const std::string name = av[i].a_w.w_sym->s_name + 1;
        long j = i + 1;
        while (j < ac && !(av[j].a_type == A_SYM && av[j].a_w.w_sym->s_name[0] == '@')) ++j;
        auto a = in->cls->attrs.find(name);
        if (a != in->cls->attrs.end())
            set_attribute(x, a->second, j - i - 1, av + i + 1);
        else
            log_console("error", in->cls->name + ": no attribute " + name);
        i = j;
    }
}

void* outlet_new(void* x, C74_CONST char* s) {
    auto* o = new MockOutlet;
    o->magic = kOutlet;
    o->type = s ? s : "";
    std::lock_guard<std::mutex> lock(st().mutex);
    st().instances[x].outlets.push_back(o);
    return o;
}

void* outlet_anything(t_outlet* x, t_symbol* s, short ac, t_atom* av) {
    auto* o = reinterpret_cast<MockOutlet*>(x);
    mock::Message m;
    m.atoms.push_back(s->s_name);
    for (short i = 0; i < ac; ++i) m.atoms.push_back(atom_text(av[i]));
    std::lock_guard<std::mutex> lock(st().mutex);
    o->log.push_back(std::move(m));
    return nullptr;
}

void post(C74_CONST char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_console("post", vformat(fmt, ap));
    va_end(ap);
}
void object_post(t_object*, C74_CONST char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_console("post", vformat(fmt, ap));
    va_end(ap);
}
void object_warn(t_object*, C74_CONST char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_console("warn", vformat(fmt, ap));
    va_end(ap);
}
void object_error(t_object*, C74_CONST char* fmt, ...) {
    // Max may only print from the main thread; the externals promise to: check it.
    if (std::this_thread::get_id() != st().main_thread) log_console("error", "object_error called off the main thread");
    va_list ap;
    va_start(ap, fmt);
    log_console("error", vformat(fmt, ap));
    va_end(ap);
}

void* qelem_new(void* obj, method fn) {
    auto* q = new MockQelem;
    q->magic = kQelem;
    q->obj = obj;
    q->fn = fn;
    std::lock_guard<std::mutex> lock(st().mutex);
    st().qelems.push_back(q);
    return q;
}
void qelem_set(t_qelem* x) { reinterpret_cast<MockQelem*>(x)->set.store(true); }  // any thread
void qelem_free(t_qelem* x) {
    std::lock_guard<std::mutex> lock(st().mutex);
    auto& v = st().qelems;
    v.erase(std::remove(v.begin(), v.end(), reinterpret_cast<MockQelem*>(x)), v.end());
    delete reinterpret_cast<MockQelem*>(x);
}

t_clock* clock_new(void* obj, method fn) {
    auto* c = new MockClock;
    c->magic = kClock;
    c->obj = obj;
    c->fn = fn;
    std::lock_guard<std::mutex> lock(st().mutex);
    st().clocks.push_back(c);
    return reinterpret_cast<t_clock*>(c);
}
void clock_delay(t_clock* x, long) {
    std::lock_guard<std::mutex> lock(st().mutex);
    reinterpret_cast<MockClock*>(x)->armed = true;
}

void* defer_low(void* ob, method fn, t_symbol* sym, short argc, t_atom* argv) {
    Deferred d{ob, fn, sym, std::vector<t_atom>(argv, argv + argc)};
    std::lock_guard<std::mutex> lock(st().mutex);
    st().deferred.push_back(std::move(d));
    return nullptr;
}

short systhread_ismainthread(void) { return std::this_thread::get_id() == st().main_thread; }
float sys_getsr(void) { return static_cast<float>(st().sample_rate); }

char* strncpy_zero(char* dst, const char* src, long size) {
    std::strncpy(dst, src, static_cast<size_t>(size));
    if (size > 0) dst[size - 1] = 0;
    return dst;
}

short locatefile_extended(char* name, short* outvol, t_fourcc* outtype, C74_CONST t_fourcc*, short) {
    const auto& dirs = st().search_path;
    for (size_t i = 0; i < dirs.size(); ++i)
        if (std::ifstream(dirs[i] + "/" + name).good()) {
            *outvol = static_cast<short>(i + 1);
            *outtype = 0;
            return 0;
        }
    return 1;
}
short class_getpath(t_class* c) { return reinterpret_cast<MockClass*>(c)->home; }

t_max_err path_toabsolutesystempath(const short in_path, const char* in_filename, char* out_filepath) {
    if (in_path >= 1000 && static_cast<size_t>(in_path - 1000) < st().module_dirs.size()) {
        const std::string& d = st().module_dirs[static_cast<size_t>(in_path - 1000)];
        std::snprintf(out_filepath, MAX_PATH_CHARS, "%s%s%s", d.c_str(), *in_filename ? "/" : "", in_filename);
        return MAX_ERR_NONE;
    }
    const auto& dirs = st().search_path;
    if (in_path < 1 || static_cast<size_t>(in_path) > dirs.size()) return MAX_ERR_GENERIC;
    std::snprintf(out_filepath, MAX_PATH_CHARS, "%s/%s", dirs[static_cast<size_t>(in_path - 1)].c_str(), in_filename);
    return MAX_ERR_NONE;
}
short path_nameconform(C74_CONST char* src, char* dst, long, long) {
    strncpy_zero(dst, src, MAX_PATH_CHARS);
    return 0;
}

void z_dsp_setup(t_pxobject* x, long nsignals) {
    std::lock_guard<std::mutex> lock(st().mutex);
    st().instances[x].signal_inlets = nsignals;
}
void z_dsp_free(t_pxobject*) {}

t_buffer_ref* buffer_ref_new(t_object*, t_symbol* name) {
    auto* r = new MockBufRef;
    r->magic = kBufRef;
    r->name = name->s_name;
    return reinterpret_cast<t_buffer_ref*>(r);
}
t_buffer_obj* buffer_ref_getobject(t_buffer_ref* x) {
    auto it = st().buffers.find(reinterpret_cast<MockBufRef*>(x)->name);
    return it == st().buffers.end() ? nullptr : reinterpret_cast<t_buffer_obj*>(it->second);
}
float* buffer_locksamples(t_buffer_obj* b) { return reinterpret_cast<MockBuffer*>(b)->samples.data(); }
void buffer_unlocksamples(t_buffer_obj*) {}
t_atom_long buffer_getchannelcount(t_buffer_obj* b) { return reinterpret_cast<MockBuffer*>(b)->channels; }
t_atom_long buffer_getframecount(t_buffer_obj* b) {
    auto* m = reinterpret_cast<MockBuffer*>(b);
    return static_cast<t_atom_long>(m->samples.size()) / m->channels;
}

t_dictionary* dictionary_new(void) {
    auto* d = new MockDict;
    d->magic = kDict;
    return reinterpret_cast<t_dictionary*>(d);
}
t_max_err dictionary_appendatoms(t_dictionary* d, t_symbol* key, long argc, t_atom* argv) {
    MockDict::Value v;
    v.atoms.assign(argv, argv + argc);
    reinterpret_cast<MockDict*>(d)->entries.emplace_back(key->s_name, std::move(v));
    return MAX_ERR_NONE;
}
t_max_err dictionary_appendatomarray(t_dictionary* d, t_symbol* key, t_object* value) {
    MockDict::Value v;
    v.array = reinterpret_cast<MockArray*>(value);
    reinterpret_cast<MockDict*>(d)->entries.emplace_back(key->s_name, std::move(v));
    return MAX_ERR_NONE;
}
t_max_err dictionary_appenddictionary(t_dictionary* d, t_symbol* key, t_object* value) {
    MockDict::Value v;
    v.dict = reinterpret_cast<MockDict*>(value);
    reinterpret_cast<MockDict*>(d)->entries.emplace_back(key->s_name, std::move(v));
    return MAX_ERR_NONE;
}
t_atomarray* atomarray_new(long ac, t_atom* av) {
    auto* a = new MockArray;
    a->magic = kArray;
    if (ac > 0) a->atoms.assign(av, av + ac);
    return reinterpret_cast<t_atomarray*>(a);
}
t_dictionary* dictobj_register(t_dictionary* d, t_symbol** name) {
    std::lock_guard<std::mutex> lock(st().mutex);
    if (!*name) {
        const std::string n = "mock-dict-" + std::to_string(++st().dict_counter);
        auto& slot = st().symbols[n];
        if (!slot) slot.reset(new t_symbol{strdup(n.c_str()), nullptr});
        *name = slot.get();
    }
    st().dicts[(*name)->s_name] = reinterpret_cast<MockDict*>(d);
    return d;
}
t_max_err dictobj_release(t_dictionary* d) {
    std::lock_guard<std::mutex> lock(st().mutex);
    for (auto it = st().dicts.begin(); it != st().dicts.end(); ++it)
        if (it->second == reinterpret_cast<MockDict*>(d)) {
            free_dict(it->second);
            st().dicts.erase(it);
            break;
        }
    return MAX_ERR_NONE;
}

END_USING_C_LINKAGE

// ---- the test harness -------------------------------------------------------------------------------

namespace mock {

std::string Message::text() const {
    std::string s;
    for (const auto& a : atoms) s += (s.empty() ? "" : " ") + a;
    return s;
}

void init(const std::vector<std::string>& search_path, double sample_rate) {
    st().search_path = search_path;
    st().sample_rate = sample_rate;
    st().main_thread = std::this_thread::get_id();
}

bool load_external(const std::string& path, std::string& error) {
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        error = dlerror();
        return false;
    }
    auto entry = reinterpret_cast<void (*)(void*)>(dlsym(h, "ext_main"));
    if (!entry) {
        error = "no ext_main in " + path;
        return false;
    }
    const size_t slash = path.find_last_of('/');
    st().module_dirs.push_back(slash == std::string::npos ? "." : path.substr(0, slash));
    st().loading_home = static_cast<short>(1000 + st().module_dirs.size() - 1);
    entry(nullptr);
    st().loading_home = 0;
    return true;
}

void* create(const std::string& cls, const std::string& args) {
    MockClass* c = nullptr;
    {
        std::lock_guard<std::mutex> lock(st().mutex);
        auto it = st().classes.find(cls);
        if (it == st().classes.end()) return nullptr;
        c = it->second;
    }
    std::vector<t_atom> av = parse(args);
    return reinterpret_cast<void* (*)(t_symbol*, long, t_atom*)>(c->mnew)(gensym(cls.c_str()),
                                                                          static_cast<long>(av.size()), av.data());
}

void free_object(void* obj) {
    Instance* in = instance(obj);
    if (!in) return;
    if (in->cls->mfree) reinterpret_cast<void (*)(void*)>(in->cls->mfree)(obj);
    for (MockOutlet* o : in->outlets) delete o;
    std::lock_guard<std::mutex> lock(st().mutex);
    st().instances.erase(obj);
    std::free(obj);
}

void send(void* obj, const std::string& message) {
    std::vector<t_atom> av = parse(message);
    if (av.empty()) return;
    dispatch(obj, av[0].a_w.w_sym, static_cast<long>(av.size() - 1), av.data() + 1);
}

void send_from_other_thread(void* obj, const std::string& message) {
    std::thread([obj, message] { send(obj, message); }).join();
}

void pump() {
    for (int round = 0; round < 8; ++round) {
        std::deque<Deferred> deferred;
        std::vector<MockClock*> clocks;
        std::vector<MockQelem*> qelems;
        {
            std::lock_guard<std::mutex> lock(st().mutex);
            deferred.swap(st().deferred);
            for (MockClock* c : st().clocks)
                if (c->armed) {
                    c->armed = false;
                    clocks.push_back(c);
                }
            qelems = st().qelems;
        }
        for (Deferred& d : deferred)
            reinterpret_cast<void (*)(void*, t_symbol*, short, t_atom*)>(d.fn)(
                d.obj, d.sym, static_cast<short>(d.atoms.size()), d.atoms.data());
        for (MockClock* c : clocks) reinterpret_cast<void (*)(void*)>(c->fn)(c->obj);
        bool ran = !deferred.empty() || !clocks.empty();
        for (MockQelem* q : qelems)
            if (q->set.exchange(false)) {
                reinterpret_cast<void (*)(void*)>(q->fn)(q->obj);
                ran = true;
            }
        if (!ran) break;
    }
}

bool pump_until(const std::function<bool()>& done, int timeout_ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < end) {
        pump();
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pump();
    return done();
}

long signal_inlets(void* obj) {
    Instance* in = instance(obj);
    return in ? in->signal_inlets : -1;
}

std::vector<std::string> outlet_types(void* obj) {
    std::vector<std::string> t;
    Instance* in = instance(obj);
    if (!in) return t;
    for (auto it = in->outlets.rbegin(); it != in->outlets.rend(); ++it) t.push_back((*it)->type);
    return t;
}

std::vector<Message> outlet_log(void* obj, int outlet) {
    Instance* in = instance(obj);
    if (!in || outlet < 0 || outlet >= static_cast<int>(in->outlets.size())) return {};
    std::lock_guard<std::mutex> lock(st().mutex);
    return in->outlets[in->outlets.size() - 1 - static_cast<size_t>(outlet)]->log;
}

bool outlet_has(void* obj, int outlet, const std::string& prefix) {
    for (const Message& m : outlet_log(obj, outlet))
        if (m.text().rfind(prefix, 0) == 0) return true;
    return false;
}

std::vector<std::string> console() {
    std::lock_guard<std::mutex> lock(st().mutex);
    return st().console;
}

bool console_has(const std::string& level, const std::string& fragment) {
    for (const std::string& l : console())
        if (l.rfind(level + ": ", 0) == 0 && l.find(fragment) != std::string::npos) return true;
    return false;
}

void clear_console() {
    std::lock_guard<std::mutex> lock(st().mutex);
    st().console.clear();
}

std::string assist(void* obj, bool inlet, long index) {
    Instance* in = instance(obj);
    auto m = in->cls->methods.find("assist");
    if (m == in->cls->methods.end()) return "";
    char s[512] = {0};
    reinterpret_cast<void (*)(void*, void*, long, long, char*)>(m->second.fn)(
        obj, nullptr, inlet ? ASSIST_INLET : ASSIST_OUTLET, index, s);
    return s;
}

bool dsp(void* obj, double sample_rate, long max_block, const std::vector<long>& inlet_channels) {
    Instance* in = instance(obj);
    auto m = in->cls->methods.find("dsp64");
    if (m == in->cls->methods.end()) return false;
    in->dsp.magic = kDsp;
    in->dsp.inlet_channels = inlet_channels;
    in->dsp.perform = nullptr;
    // As Max does while compiling the chain: report each inlet's cable width to an object that asks
    // (inputchanged), before its outlets' widths and its dsp64 method.
    auto changed = in->cls->methods.find("inputchanged");
    if (changed != in->cls->methods.end())
        for (size_t i = 0; i < inlet_channels.size(); ++i)
            reinterpret_cast<long (*)(void*, long, long)>(changed->second.fn)(obj, static_cast<long>(i),
                                                                              inlet_channels[i]);
    std::vector<short> count(static_cast<size_t>(in->signal_inlets + 16), 1);
    reinterpret_cast<void (*)(void*, t_object*, short*, double, long, long)>(m->second.fn)(
        obj, reinterpret_cast<t_object*>(&in->dsp), count.data(), sample_rate, max_block, 0);
    return in->dsp.perform != nullptr;
}

long multichannel_outputs(void* obj, long outlet) {
    Instance* in = instance(obj);
    auto m = in->cls->methods.find("multichanneloutputs");
    if (m == in->cls->methods.end()) return -1;
    return reinterpret_cast<long (*)(void*, long)>(m->second.fn)(obj, outlet);
}

void perform(void* obj, std::vector<double*> ins, std::vector<double*> outs, long n) {
    Instance* in = instance(obj);
    in->dsp.perform(static_cast<t_object*>(obj), reinterpret_cast<t_object*>(&in->dsp), ins.data(),
                    static_cast<long>(ins.size()), outs.data(), static_cast<long>(outs.size()), n, 0,
                    in->dsp.userparam);
}

void add_buffer(const std::string& name, const std::vector<float>& interleaved, long channels) {
    auto* b = new MockBuffer;
    b->magic = kBuffer;
    b->samples = interleaved;
    b->channels = channels;
    std::lock_guard<std::mutex> lock(st().mutex);
    st().buffers[name] = b;
}

std::string dictionary_json(const std::string& name) {
    std::lock_guard<std::mutex> lock(st().mutex);
    auto it = st().dicts.find(name);
    if (it == st().dicts.end()) return "";
    std::string o;
    json_dict(it->second, o);
    return o;
}

}  // namespace mock
