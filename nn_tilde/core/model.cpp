// Torch side of the core: loading a model file (read, discover what it declares, validate that against
// the rules of contract.h), the processor and attribute access.
#include "model.h"

#include "exit_guard.h"

#include <ATen/Parallel.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

namespace nn {

// The state of a module as freshly loaded: every attribute of every submodule, deep-copied, so that
// nn~'s load-time calls (test vectors, warm-up) leave no trace (docs/MODEL_FORMAT.md, "How nn~ calls a
// method"). Submodules are walked, not copied: the methods nn~ binds belong to these very objects.
struct StateSnapshot {
    struct Slot {
        c10::intrusive_ptr<c10::ivalue::Object> owner;
        size_t index;
        std::string name;  // dotted path, for the message when a restore does not hold
        c10::IValue value;
    };
    std::vector<Slot> slots;
};

class LoadedModel {
public:
    explicit LoadedModel(torch::jit::Module m) : module(std::move(m)) {}
    torch::jit::Module module;
    std::optional<StateSnapshot> fresh;  // taken before the first call; dropped once restored
};

namespace {

// The first line of a torch error, without the C++ backtrace libtorch appends. `where`: for an error
// raised in TorchScript, add where the model's source raised it; rule messages leave it out, so their
// words are the checker's (its `error_line` is the message's last line).
std::string short_error(const std::exception& e, bool where_too = true) {
    std::string msg;
    if (auto* ce = dynamic_cast<const c10::Error*>(&e))
        msg = ce->what_without_backtrace();
    else
        msg = e.what();
    std::istringstream lines(msg);
    std::string line, out;
    // An exception raised inside TorchScript code comes after two tracebacks, on the last line
    // ("builtins.RuntimeError: <message>"): show that line and where the model's source raised it,
    // not the first 300 characters of the traceback (which never reach the message).
    if (msg.rfind("The following operation failed in the TorchScript interpreter", 0) == 0) {
        std::string last, where;
        while (std::getline(lines, line)) {
            const size_t b = line.find_first_not_of(" \t");
            if (b == std::string::npos) continue;
            last = line.substr(b);
            if (last.rfind("File \"", 0) == 0) where = last;
        }
        if (last.size() > 300) last = last.substr(0, 300) + "...";
        return !where_too || where.empty() || where == last ? last : last + " (" + where + ")";
    }
    while (std::getline(lines, line)) {
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        if (line.rfind("Exception raised from", 0) == 0) break;
        if (!out.empty()) out += " ";
        out += line.substr(line.find_first_not_of(" \t"));
        if (out.size() > 300) break;
    }
    return out.empty() ? std::string("unknown error") : out;
}

std::string shape_str(const at::Tensor& t) {
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
}

bool has_method(const torch::jit::Module& m, const std::string& name) { return m.find_method(name).has_value(); }

// A list or tuple of str returned by a method or stored as an attribute; nullopt for any other value
// (as the kit's nn_tilde.contract.names_list reads it).
std::optional<std::vector<std::string>> string_list(const c10::IValue& v) {
    std::vector<c10::IValue> elems;
    if (v.isList())
        for (const c10::IValue& e : v.toListRef()) elems.push_back(e);
    else if (v.isTuple())
        for (const c10::IValue& e : v.toTupleRef().elements()) elems.push_back(e);
    else
        return std::nullopt;
    std::vector<std::string> out;
    for (const c10::IValue& e : elems) {
        if (!e.isString()) return std::nullopt;
        out.push_back(e.toStringRef());
    }
    return out;
}

// A value of the wrong type as messages show it (as nn_tilde.contract.describe does): its type and a short
// repr, e.g. "str 'forward'".
std::string describe(const c10::IValue& v) {
    std::ostringstream text;
    if (v.isString())
        text << "'" << v.toStringRef() << "'";
    else
        text << v;
    std::string repr = text.str();
    if (repr.size() > 40) repr = repr.substr(0, 37) + "...";
    return value_type_name(v.tagKind()) + " " + repr;
}

// "[a, b]": names in a message, as Python prints a list of str through contract._text.
std::string name_list(const std::vector<std::string>& names) {
    std::string s = "[";
    for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
    return s + "]";
}

std::optional<std::vector<std::string>> call_string_list(torch::jit::Module& m, const std::string& name) {
    auto meth = m.find_method(name);
    if (!meth) return std::nullopt;
    return string_list((*meth)(std::vector<c10::IValue>{}));
}

// A `<name>_params` attribute as found, before the rules look at it.
struct ParamsRead {
    bool present = false;        // the module has the attribute
    bool tensor = false;         // and it is a tensor
    std::vector<double> values;  // its flattened values (a complex tensor reads as one NaN: not whole)
    std::string dtype;           // its dtype as messages name it
};

ParamsRead read_params(torch::jit::Module& m, const std::string& name) {
    ParamsRead r;
    const std::string key = name + "_params";
    r.present = m.hasattr(key);
    if (!r.present) return r;
    c10::IValue v = m.attr(key);
    r.tensor = v.isTensor();
    if (!r.tensor) return r;
    const at::Tensor& t = v.toTensor();
    r.dtype = dtype_name(c10::toString(t.scalar_type()));
    if (t.is_complex()) {
        r.values = {std::nan("")};
        return r;
    }
    // float64 holds every value a valid entry can have (at most 2^20) exactly
    at::Tensor d = t.flatten().to(at::kDouble).contiguous();
    r.values.assign(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
    return r;
}

std::once_flag g_threads_once;

// "2.13.0+cpu" -> {2, 13, 0}; missing parts are 0.
std::array<int, 3> version_triple(const std::string& v) {
    std::array<int, 3> out{0, 0, 0};
    std::istringstream in(v);
    for (int& x : out) {
        std::string part;
        if (!std::getline(in, part, '.')) break;
        x = std::atoi(part.c_str());
    }
    return out;
}

// Optional extensions written by the nn_tilde kit (docs/MODEL_FORMAT.md, "Optional extensions"):
// declared latency, metadata and the torch version that wrote the file.
void read_extensions(torch::jit::Module& module, ModelInfo& info) {
    for (MethodInfo& mi : info.methods) {
        const std::string key = mi.name + "_latency";
        if (module.hasattr(key) && module.attr(key).isTensor()) {
            at::Tensor t = module.attr(key).toTensor();
            if (t.numel() == 1 && !t.is_floating_point() && t.item<int64_t>() >= 0) mi.latency = int(t.item<int64_t>());
        }
    }
    if (auto m = module.find_method("get_metadata")) {
        c10::IValue v = (*m)(std::vector<c10::IValue>{});
        if (v.isGenericDict()) {
            for (const auto& kv : v.toGenericDict())
                if (kv.key().isString() && kv.value().isString()) {
                    info.metadata.emplace_back(kv.key().toStringRef(), kv.value().toStringRef());
                    if (kv.key().toStringRef() == "torch_version") info.torch_version = kv.value().toStringRef();
                }
        }
    }
    std::sort(info.metadata.begin(), info.metadata.end());  // a Dict's order is not the file's
    if (!info.torch_version.empty() && version_triple(info.torch_version) > version_triple(TORCH_VERSION))
        info.warnings.push_back(
            rule_message("torch.newer", {{"file_torch", info.torch_version}, {"host_torch", TORCH_VERSION}}));
}

bool restore_snapshot(LoadedModel& model, std::string& error);

// The embedded test vectors (kit extension), each run once with seed 0 on a fresh state, as they were
// recorded (the state is put back before each; the warm-up puts it back after the last).
void verify_test_vectors(LoadedModel& model, ModelInfo& info) {
    torch::jit::Module& module = model.module;
    for (const MethodInfo& mi : info.methods) {
        const std::string in_key = mi.name + "_test_input", out_key = mi.name + "_test_output";
        if (!module.hasattr(in_key) || !module.hasattr(out_key)) continue;
        if (!module.attr(in_key).isTensor() || !module.attr(out_key).isTensor()) continue;  // not a test vector
        std::string ignored;  // a restore that fails is reported by the warm-up, which restores again
        restore_snapshot(model, ignored);
        try {
            at::Tensor x = module.attr(in_key).toTensor(), want = module.attr(out_key).toTensor();
            torch::manual_seed(0);
            at::Tensor got = module.get_method(mi.name)(std::vector<c10::IValue>{x}).toTensor();
            if (!got.sizes().equals(want.sizes())) {
                const std::string error = "returned " + shape_str(got) + ", the file says " + shape_str(want);
                info.warnings.push_back(rule_message("test_vector.error", {{"method", mi.name}, {"error", error}}));
                continue;
            }
            const double diff = (got.to(at::kFloat) - want.to(at::kFloat)).abs().max().item<double>();
            const double tol = 1e-4 + 1e-3 * want.abs().max().item<double>();
            if (diff <= tol)
                info.verified.push_back(mi.name);
            else
                info.warnings.push_back(
                    rule_message("test_vector.mismatch", {{"method", mi.name}, {"diff", format_diff(diff)}}));
        } catch (const std::exception& e) {
            info.warnings.push_back(
                rule_message("test_vector.error", {{"method", mi.name}, {"error", short_error(e, false)}}));
        }
    }
}

}  // namespace

void init_torch_threads() {
    std::call_once(g_threads_once, [] {
        at::set_num_threads(1);
        try {
            at::set_num_interop_threads(1);
        } catch (const std::exception&) {
            // already fixed by another library in this process: nothing to do
        }
    });
}

namespace {

// ---- load_model, step 1: read the file ---------------------------------------------------------------

// The whole file first: a file being rewritten while we load gives either its old or its new bytes
// or a clean error, never a half-read archive inside torch. Rules file.folder, file.missing, file.empty,
// in the checker's order.
bool read_file(const std::string& path, std::string& data, std::string& error) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        error = rule_message("file.folder", {{"path", path}});
        return false;
    }
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        error = rule_message("file.missing", {{"path", path}, {"reason", std::strerror(errno)}});
        return false;
    }
    std::stringstream bytes;
    bytes << f.rdbuf();
    data = bytes.str();
    if (data.empty()) {
        error = rule_message("file.empty", {{"path", path}});
        return false;
    }
    return true;
}

bool deserialise(const std::string& path, const std::string& data, torch::jit::Module& module, std::string& error) {
    try {
        std::istringstream in(data);
        module = torch::jit::load(in, torch::kCPU);
        module.eval();
    } catch (const std::exception& e) {
        error = rule_message("file.torchscript", {{"path", path}, {"error", short_error(e, false)}});
        return false;
    }
    return true;
}

// ---- step 2: the model's fresh state -------------------------------------------------------------------

void snapshot_object(const c10::intrusive_ptr<c10::ivalue::Object>& obj, const std::string& prefix,
                     c10::IValue::HashIdentityIValueMap& memo, StateSnapshot& out) {
    const size_t n = obj->slots().size();
    for (size_t i = 0; i < n; ++i) {
        const c10::IValue& v = obj->getSlot(i);
        const std::string name = prefix + obj->type()->getAttributeName(i);
        if (v.isObject() && v.toObjectRef().type()->is_module()) {
            snapshot_object(v.toObject(), name + ".", memo, out);
            continue;
        }
        // One memo for the whole model: attributes that share a tensor still share its copy.
        out.slots.push_back({obj, i, name, v.deepcopy(memo)});
    }
}

// Every attribute of every submodule, copied before the first call. nullopt when some value cannot be
// copied (a C++ class without __getstate__): the warm-up then falls back to the model's reset().
std::optional<StateSnapshot> take_snapshot(torch::jit::Module& module) {
    // Not in InferenceMode: copies made there would be inference tensors, which the model could not
    // update in place outside it. No grad: a copied parameter must not carry a graph.
    c10::InferenceMode normal(false);
    torch::NoGradGuard no_grad;
    try {
        StateSnapshot snap;
        c10::IValue::HashIdentityIValueMap memo;
        snapshot_object(module._ivalue(), "", memo, snap);
        return snap;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Byte for byte, so NaNs saved in a state compare equal to themselves.
bool same_value(const c10::IValue& a, const c10::IValue& b) {
    if (a.isTensor() && b.isTensor()) {
        const at::Tensor &x = a.toTensor(), &y = b.toTensor();
        if (x.scalar_type() != y.scalar_type() || !x.sizes().equals(y.sizes())) return false;
        if (x.is_sparse() || x.is_quantized() || x.is_mkldnn()) return true;  // no plain bytes to compare
        const at::Tensor xc = x.contiguous(), yc = y.contiguous();
        return std::memcmp(xc.const_data_ptr(), yc.const_data_ptr(), xc.nbytes()) == 0;
    }
    if (a.isList() && b.isList()) {
        const auto &x = a.toListRef(), &y = b.toListRef();
        if (x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i)
            if (!same_value(x[i], y[i])) return false;
        return true;
    }
    if (a.isTuple() && b.isTuple()) {
        const auto &x = a.toTupleRef().elements(), &y = b.toTupleRef().elements();
        if (x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i)
            if (!same_value(x[i], y[i])) return false;
        return true;
    }
    return true;  // other values are replaced whole; nothing can differ
}

// Puts the fresh state back (copies of the snapshot, which stays as taken) and checks that every tensor
// now equals the saved one. false names the first attribute that does not in `error`.
bool restore_snapshot(LoadedModel& model, std::string& error) {
    if (!model.fresh) return true;
    c10::InferenceMode normal(false);  // as take_snapshot: plain tensors, no graph
    torch::NoGradGuard no_grad;
    try {
        c10::IValue::HashIdentityIValueMap memo;
        for (const StateSnapshot::Slot& s : model.fresh->slots) s.owner->setSlot(s.index, s.value.deepcopy(memo));
        for (const StateSnapshot::Slot& s : model.fresh->slots)
            if (!same_value(s.owner->getSlot(s.index), s.value)) {
                error = "attribute '" + s.name + "' differs from the saved one";
                return false;
            }
    } catch (const std::exception& e) {
        error = short_error(e);
        return false;
    }
    return true;
}

// ---- step 3: the methods, by the rules in the checker's order (contract.h) --------------------------

// Every `m` with a `<m>_params` buffer and a TorchScript method `m`, in the file's buffer order
// (attribute params have getters and setters, not a method of their own name).
std::vector<std::string> discovered_methods(torch::jit::Module& module) {
    std::vector<std::string> names;
    for (const auto& b : module.named_buffers(/*recurse=*/false)) {
        const std::string& n = b.name;
        if (n.size() > 7 && n.compare(n.size() - 7, 7, "_params") == 0) {
            std::string m = n.substr(0, n.size() - 7);
            if (has_method(module, m)) names.push_back(m);
        }
    }
    return names;
}

// The methods nn~ plays: get_methods()'s list (methods.list: not a list of names, then the discovered
// ones), each with acceptable params (method.missing, params.*, channels.limit), labels (labels.invalid),
// and a buffer size that fits all (buffer.limit). The first refusal refuses the whole file.
bool read_methods(torch::jit::Module& module, ModelInfo& info, std::string& error) {
    std::vector<std::string> names;
    if (auto get = module.find_method("get_methods")) {
        const c10::IValue listed = (*get)(std::vector<c10::IValue>{});
        if (auto list = string_list(listed)) {
            names = *list;
        } else {
            names = discovered_methods(module);
            info.warnings.push_back(
                rule_message("methods.list", {{"got", describe(listed)}, {"methods", name_list(names)}}));
        }
    } else {
        names = discovered_methods(module);  // the checker's hint methods.discovered; nn~ plays quietly
    }
    if (names.empty()) {
        error = rule_message("methods.none", {});
        return false;
    }
    for (const std::string& n : names) {
        if (!has_method(module, n)) {
            error = rule_message("method.missing", {{"method", n}});
            return false;
        }
        const ParamsRead p = read_params(module, n);
        if (!p.present) {
            error = rule_message("params.missing", {{"method", n}});
            return false;
        }
        if (!p.tensor) {
            error = rule_message("params.type", {{"method", n}});
            return false;
        }
        error = check_method_params(n, p.values, p.dtype, info.warnings);
        if (!error.empty()) return false;
        MethodInfo mi;
        mi.name = n;
        mi.shape = shape_from_params(p.values);
        auto labels = [&](const char* suffix, int count, std::vector<std::string>& dst) {
            const std::string key = n + suffix;
            if (!module.hasattr(key) || module.attr(key).isNone()) return;  // optional
            const auto list = string_list(module.attr(key));
            if (std::string w = check_labels(key, count, list); !w.empty())
                info.warnings.push_back(w);
            else
                dst = *list;
        };
        labels("_input_labels", mi.shape.in_channels, mi.input_labels);
        labels("_output_labels", mi.shape.out_channels, mi.output_labels);
        info.methods.push_back(std::move(mi));
    }
    if (const int multiple = info.buffer_multiple(); multiple > kMaxBufferSize) {
        error = rule_message("buffer.limit", {{"multiple", format_value(int64_t(multiple))}});
        return false;
    }
    return true;
}

// ---- step 4: attributes and sample rate ------------------------------------------------------------

// Attributes get_attributes() lists; one that breaks a rule is skipped with a warning (attributes.list,
// attribute.params, attribute.accessor, attribute.code, in the checker's order).
void read_attributes(torch::jit::Module& module, ModelInfo& info) {
    auto get = module.find_method("get_attributes");
    if (!get) return;
    const c10::IValue listed = (*get)(std::vector<c10::IValue>{});
    const auto attrs = string_list(listed);
    if (!attrs) {
        info.warnings.push_back(rule_message("attributes.list", {{"got", describe(listed)}}));
        return;
    }
    for (const std::string& a : *attrs) {
        if (a == "none" || a.empty()) continue;
        const ParamsRead p = read_params(module, a);
        bool whole = p.tensor && !p.values.empty();
        for (double v : p.values) whole = whole && v == std::floor(v);
        if (!whole) {
            info.warnings.push_back(rule_message("attribute.params", {{"attribute", a}}));
            continue;
        }
        if (!has_method(module, "get_" + a) || !has_method(module, "set_" + a)) {
            info.warnings.push_back(rule_message("attribute.accessor", {{"attribute", a}}));
            continue;
        }
        const std::vector<int64_t> types(p.values.begin(), p.values.end());
        if (std::string w = check_attribute_types(a, types); !w.empty()) {
            info.warnings.push_back(w);
            continue;
        }
        info.attributes.push_back(AttributeInfo{a, std::vector<int>(types.begin(), types.end())});
    }
}

// The model's own rate (get_model_sample_rate(), else get_sample_rate() read before the host sets its
// rate) and whether the host can set it.
void discover_sample_rate(torch::jit::Module& module, ModelInfo& info) {
    for (const char* getter : {"get_model_sample_rate", "get_sample_rate"}) {
        auto m = module.find_method(getter);
        if (!m) continue;
        c10::IValue v = (*m)(std::vector<c10::IValue>{});
        if (v.isInt() && v.toInt() > 0) {
            info.model_sample_rate = int(v.toInt());
            break;
        }
    }
    info.has_set_sample_rate = has_method(module, "set_sample_rate");
}

// A getter that throws costs the model that feature, not its load (the checker warns about it too).
template <class F>
void guarded(ModelInfo& info, const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        info.warnings.push_back(std::string("reading the model's ") + what + " failed: " + short_error(e) +
                                "; ignored");
    }
}

}  // namespace

LoadResult load_model(const std::string& path) {
    LoadResult r;
    init_torch_threads();
    std::string data;
    if (!read_file(path, data, r.error)) return r;
    torch::jit::Module module;
    if (!deserialise(path, data, module, r.error)) return r;
    auto model = std::make_shared<LoadedModel>(std::move(module));
    model->fresh = take_snapshot(model->module);  // before the first call of any of its methods

    auto info = std::make_shared<ModelInfo>();
    info->path = path;
    torch::jit::Module& m = model->module;
    c10::InferenceMode inference;  // no autograd bookkeeping; every call of the model runs in this mode
    try {
        if (!read_methods(m, *info, r.error)) {
            r.info = info;  // the file's other problems, named with the refusal (as the checker does)
            return r;
        }
    } catch (const std::exception& e) {
        r.error = rule_message("contract.read", {{"error", short_error(e, false)}});
        r.info = info;
        return r;
    }
    guarded(*info, "metadata", [&] { read_extensions(m, *info); });
    guarded(*info, "attributes", [&] { read_attributes(m, *info); });
    guarded(*info, "buffer attributes", [&] {
        if (auto bufs = call_string_list(m, "get_buffer_attributes")) info->buffer_attributes = *bufs;
    });
    guarded(*info, "sample rate", [&] { discover_sample_rate(m, *info); });
    verify_test_vectors(*model, *info);
    r.info = info;
    r.model = std::move(model);
    return r;
}

namespace {

// Calls `name` on x and checks it returns [batch, out_channels, frames], by rules call.throws (`at_load`:
// the buffer of zeros of the warm-up), call.type and call.shape. worker/loader thread.
bool call_checked(torch::jit::Method& m, const MethodInfo& mi, const at::Tensor& x, int64_t out_frames, at::Tensor& y,
                  std::string& error, bool at_load = false) {
    c10::IValue r;
    try {
        r = m(std::vector<c10::IValue>{x});
    } catch (const std::exception& e) {
        error = at_load ? rule_message("call.throws", {{"method", mi.name}, {"error", short_error(e, false)}})
                        : "method '" + mi.name + "' threw: " + short_error(e);
        return false;
    }
    if (!r.isTensor()) {
        error = rule_message("call.type", {{"method", mi.name}, {"type", value_type_name(r.tagKind())}});
        return false;
    }
    y = r.toTensor();
    if (y.dim() != 3 || y.size(0) != x.size(0) || y.size(1) != mi.shape.out_channels || y.size(2) != out_frames) {
        const std::string want = format_list(std::vector<int64_t>{x.size(0), mi.shape.out_channels, out_frames});
        error = rule_message("call.shape",
                             {{"method", mi.name}, {"got", shape_str(y)}, {"input", shape_str(x)}, {"want", want}});
        return false;
    }
    return true;
}

class TorchProcessor final : public Processor {
public:
    TorchProcessor(std::shared_ptr<LoadedModel> model, MethodInfo mi)
        : model_(std::move(model)), mi_(std::move(mi)), method_(model_->module.get_method(mi_.name)) {}
    MethodShape shape() const override { return mi_.shape; }
    bool process(const float* in, int batch, int in_frames, float* out, int out_frames, std::string& error) override {
        c10::InferenceMode inference;  // no autograd bookkeeping; every call of the model runs in this mode
        // The input tensor wraps the engine's scratch buffer; it is rebuilt only when that buffer
        // moves or changes size (saves a TensorImpl allocation per call).
        if (in != in_ptr_ || batch != in_batch_ || in_frames != in_frames_) {
            in_tensor_ =
                torch::from_blob(const_cast<float*>(in), {batch, mi_.shape.in_channels, in_frames}, torch::kFloat);
            in_ptr_ = in;
            in_batch_ = batch;
            in_frames_ = in_frames;
        }
        const at::Tensor& x = in_tensor_;
        at::Tensor y;
        if (!call_checked(method_, mi_, x, out_frames, y, error)) {
            error = append_to_message(error, "; the model is stopped (fix it, then send `reload`)");
            return false;
        }
        if (y.scalar_type() != torch::kFloat) y = y.to(torch::kFloat);
        if (!y.is_contiguous()) y = y.contiguous();
        std::memcpy(out, y.const_data_ptr<float>(), sizeof(float) * static_cast<size_t>(y.numel()));
        if (!guarded_) {  // the first call at this size may have built new libtorch statics
            arm_exit_guard();
            guarded_ = true;
        }
        return true;
    }
    std::shared_ptr<LoadedModel> model() const { return model_; }

private:
    std::shared_ptr<LoadedModel> model_;
    MethodInfo mi_;
    torch::jit::Method method_;
    at::Tensor in_tensor_;
    bool guarded_ = false;
    const float* in_ptr_ = nullptr;
    int in_batch_ = 0, in_frames_ = 0;
};

}  // namespace

bool warm_up(LoadedModel& model, const ModelInfo& info, const std::string& method, int batch, int buffer_size,
             std::string& error, std::vector<std::string>& warnings) {
    {
        c10::InferenceMode inference;  // no autograd bookkeeping; every call of the model runs in this mode
        for (const MethodInfo& mi : info.methods) {
            if (buffer_size % mi.shape.in_ratio || buffer_size % mi.shape.out_ratio) continue;
            torch::jit::Method m = model.module.get_method(mi.name);
            const int calls = mi.name == method ? 3 : 1;
            for (int i = 0; i < calls; ++i) {
                at::Tensor x, y;
                try {  // a bad_alloc must become an error here: on the loader thread it would abort Pd
                    x = torch::zeros({batch, mi.shape.in_channels, buffer_size / mi.shape.in_ratio});
                } catch (const std::exception& e) {
                    error = rule_message("call.throws", {{"method", mi.name}, {"error", short_error(e, false)}});
                    return false;
                }
                if (!call_checked(m, mi, x, buffer_size / mi.shape.out_ratio, y, error, /*at_load=*/true)) return false;
                if (i > 0) continue;  // the chosen method's later calls only prove it keeps working
                const std::string dtype = dtype_name(c10::toString(y.scalar_type()));
                if (dtype != "float32")
                    warnings.push_back(rule_message("call.dtype", {{"method", mi.name}, {"dtype", dtype}}));
                bool finite = true;
                try {  // isfinite is not defined for every dtype the model may return
                    finite = torch::isfinite(y).all().item<bool>();
                } catch (const std::exception&) {
                }
                if (!finite) warnings.push_back(rule_message("call.nonfinite", {{"method", mi.name}}));
            }
        }
    }
    // Leave no trace: the model plays from the state it was loaded with.
    if (model.fresh) {
        std::string why;
        if (restore_snapshot(model, why)) {
            model.fresh.reset();  // its memory (a copy of every weight) is not needed any more
            return true;
        }
        warnings.push_back("nn~ could not put back the model's state after its load-time calls (" + why +
                           "); its first buffers may differ from a fresh load");
    }
    // No snapshot (a state nn~ cannot copy), or it did not hold: the model's own reset() is the next best.
    if (auto reset = model.module.find_method("reset")) {
        c10::InferenceMode inference;
        try {
            (*reset)(std::vector<c10::IValue>{});
        } catch (const std::exception& e) {
            warnings.push_back(std::string("reset() threw: ") + short_error(e));
        }
    }
    return true;
}

bool set_model_sample_rate(LoadedModel& model, int rate, std::string& error) {
    auto m = model.module.find_method("set_sample_rate");
    if (!m) return true;
    const std::string hz = format_value(int64_t(rate));
    try {
        c10::IValue r = (*m)(std::vector<c10::IValue>{c10::IValue(int64_t(rate))});
        if (r.isInt() && r.toInt() != 0) {
            error = rule_message("rate.refused", {{"rate", hz}, {"value", format_value(r.toInt())}});
            return false;
        }
    } catch (const std::exception& e) {
        error = rule_message("rate.error", {{"rate", hz}, {"error", short_error(e, false)}});
        return false;
    }
    return true;
}

std::unique_ptr<Processor> make_processor(std::shared_ptr<LoadedModel> model, const MethodInfo& method) {
    return std::make_unique<TorchProcessor>(std::move(model), method);
}

std::shared_ptr<LoadedModel> processor_model(Processor* p) {
    auto* tp = dynamic_cast<TorchProcessor*>(p);
    return tp ? tp->model() : nullptr;
}

bool set_attribute_value(LoadedModel& model, const AttributeInfo& attr, const std::vector<AttributeValue>& values,
                         int sample_rate, std::string& error) {
    c10::InferenceMode inference;  // no autograd bookkeeping; every call of the model runs in this mode
    try {
        bool any_buffer = false, all_buffer = true;
        for (int t : attr.types) {
            any_buffer = any_buffer || t == kBuffer;
            all_buffer = all_buffer && t == kBuffer;
        }
        if (any_buffer) {
            if (!all_buffer) {
                error = "attribute '" + attr.name + "' mixes buffer and plain values, which nn~ cannot set";
                return false;
            }
            auto m = model.module.find_method("set_buffer_attribute");
            if (!m) {
                error = "the model has buffer attribute '" + attr.name + "' but no set_buffer_attribute()";
                return false;
            }
            for (size_t i = 0; i < values.size(); ++i) {
                const auto& s = values[i].samples;
                at::Tensor t =
                    torch::from_blob(const_cast<float*>(s.data()), {1, static_cast<int64_t>(s.size())}, torch::kFloat)
                        .clone();
                c10::IValue r =
                    (*m)(std::vector<c10::IValue>{attr.name + "#" + std::to_string(i), t, int64_t(sample_rate)});
                if (r.isInt() && r.toInt() != 0) {
                    error = "the model refused buffer " + attr.name + "#" + std::to_string(i) + " (" +
                            std::to_string(s.size()) + " samples; set_buffer_attribute returned " +
                            std::to_string(r.toInt()) + ")";
                    return false;
                }
            }
            return true;
        }
        std::vector<c10::IValue> args;
        for (size_t i = 0; i < values.size(); ++i) {
            const AttributeValue& v = values[i];
            switch (attr.types[i]) {
                case kBool: args.emplace_back(v.atom.number != 0.0); break;
                case kInt: args.emplace_back(static_cast<int64_t>(v.atom.number)); break;
                case kFloat: args.emplace_back(v.atom.number); break;
                case kStr: args.emplace_back(v.atom.symbol); break;
                case kTensor:
                    args.emplace_back(torch::from_blob(const_cast<float*>(v.samples.data()),
                                                       {static_cast<int64_t>(v.samples.size())}, torch::kFloat)
                                          .clone());
                    break;
                default: break;
            }
        }
        c10::IValue r = model.module.get_method("set_" + attr.name)(args);
        if (r.isInt() && r.toInt() != 0) {
            error = "the model refused the value for '" + attr.name + "' (set_" + attr.name + " returned " +
                    std::to_string(r.toInt()) + ")";
            return false;
        }
    } catch (const std::exception& e) {
        error = "set_" + attr.name + "() threw: " + short_error(e);
        return false;
    }
    return true;
}

bool get_attribute_value(LoadedModel& model, const std::string& name, std::vector<Atom>& out, std::string& error) {
    c10::InferenceMode inference;  // no autograd bookkeeping; every call of the model runs in this mode
    try {
        c10::IValue r = model.module.get_method("get_" + name)(std::vector<c10::IValue>{});
        std::vector<c10::IValue> elems;
        if (r.isList())
            for (const auto& e : r.toListRef()) elems.push_back(e);
        else if (r.isTuple())
            for (const auto& e : r.toTupleRef().elements()) elems.push_back(e);
        else
            elems.push_back(r);
        for (const c10::IValue& e : elems) {
            if (e.isBool())
                out.push_back(Atom::num(e.toBool() ? 1 : 0));
            else if (e.isInt())
                out.push_back(Atom::num(double(e.toInt())));
            else if (e.isDouble())
                out.push_back(Atom::num(e.toDouble()));
            else if (e.isString())
                out.push_back(Atom::sym(e.toStringRef()));
            else if (e.isTensor())
                out.push_back(Atom::sym("tensor" + shape_str(e.toTensor())));
            else
                out.push_back(Atom::sym(e.tagKind()));
        }
    } catch (const std::exception& e) {
        error = "get_" + name + "() threw: " + short_error(e);
        return false;
    }
    return true;
}

}  // namespace nn
