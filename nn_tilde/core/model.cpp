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
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

namespace nn {

class LoadedModel {
public:
    explicit LoadedModel(torch::jit::Module m) : module(std::move(m)) {}
    torch::jit::Module module;
};

namespace {

// The first line of a torch error, without the C++ backtrace libtorch appends.
std::string short_error(const std::exception& e) {
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
        return where.empty() || where == last ? last : last + " (" + where + ")";
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

// A List[str] returned by a method or stored as an attribute; nullopt when absent or of another type.
std::optional<std::vector<std::string>> string_list(const c10::IValue& v) {
    if (!v.isList()) return std::nullopt;
    std::vector<std::string> out;
    for (const c10::IValue& e : v.toListRef()) {
        if (!e.isString()) return std::nullopt;
        out.push_back(e.toStringRef());
    }
    return out;
}

std::optional<std::vector<std::string>> call_string_list(torch::jit::Module& m, const std::string& name) {
    auto meth = m.find_method(name);
    if (!meth) return std::nullopt;
    return string_list((*meth)(std::vector<c10::IValue>{}));
}

// A `<name>_params` buffer as integers, or an error naming what is wrong with it.
bool read_params(torch::jit::Module& m, const std::string& name, std::vector<int64_t>& out, std::string& error) {
    const std::string key = name + "_params";
    if (!m.hasattr(key)) {
        error = "has no `" + key + "` buffer";
        return false;
    }
    c10::IValue v = m.attr(key);
    if (!v.isTensor()) {
        error = "`" + key + "` is not a tensor";
        return false;
    }
    at::Tensor t = v.toTensor().flatten();
    if (t.is_floating_point()) {
        at::Tensor r = t.round();
        if (!at::equal(r, t)) {
            error = "`" + key + "` holds non-integer values";
            return false;
        }
    }
    t = t.to(at::kLong).contiguous();
    out.assign(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
    return true;
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

// Optional extensions written by the nn_tilde kit (python_tools/FORMAT_EXTENSIONS.md): declared
// latency, the torch version that wrote the file and embedded test vectors, checked here on the
// fresh load (before any warm-up call changes a streaming state).
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
        info.warnings.push_back("the file was written by torch " + info.torch_version +
                                ", newer than this nn~'s libtorch " + TORCH_VERSION +
                                ": it may load and compute wrong results; re-export it with torch " + TORCH_VERSION +
                                " or use an nn~ built against a newer libtorch");
    for (const MethodInfo& mi : info.methods) {
        const std::string in_key = mi.name + "_test_input", out_key = mi.name + "_test_output";
        if (!module.hasattr(in_key) || !module.hasattr(out_key)) continue;
        try {
            at::Tensor x = module.attr(in_key).toTensor(), want = module.attr(out_key).toTensor();
            torch::manual_seed(0);
            at::Tensor got = module.get_method(mi.name)(std::vector<c10::IValue>{x}).toTensor();
            if (!got.sizes().equals(want.sizes())) {
                info.warnings.push_back("method '" + mi.name + "' returns shape " + shape_str(got) +
                                        " on its embedded test input, the file says " + shape_str(want));
                continue;
            }
            const double diff = (got.to(at::kFloat) - want.to(at::kFloat)).abs().max().item<double>();
            const double tol = 1e-4 + 1e-3 * want.abs().max().item<double>();
            if (diff <= tol)
                info.verified.push_back(mi.name);
            else
                info.warnings.push_back("method '" + mi.name +
                                        "' does not compute what its author saw (embedded test vector: max "
                                        "difference " +
                                        std::to_string(diff) + "); check the file with `nn-tilde check`");
        } catch (const std::exception& e) {
            info.warnings.push_back("the embedded test vector of '" + mi.name +
                                    "' could not be run: " + short_error(e));
        }
    }
}

}  // namespace

const MethodInfo* ModelInfo::method(const std::string& name) const {
    for (const auto& m : methods)
        if (m.name == name) return &m;
    return nullptr;
}

const AttributeInfo* ModelInfo::attribute(const std::string& name) const {
    for (const auto& a : attributes)
        if (a.name == name) return &a;
    return nullptr;
}

std::string ModelInfo::method_names() const {
    std::string s;
    for (const auto& m : methods) s += (s.empty() ? "" : ", ") + m.name;
    return s.empty() ? "(none)" : s;
}

std::string ModelInfo::attribute_names() const {
    std::string s;
    for (const auto& a : attributes) s += (s.empty() ? "" : ", ") + a.name;
    return s.empty() ? "(none)" : s;
}

int ModelInfo::buffer_multiple() const {
    std::vector<MethodShape> shapes;
    for (const auto& m : methods) shapes.push_back(m.shape);
    return nn::buffer_multiple(shapes);
}

std::string ModelInfo::default_method() const {
    if (method("forward")) return "forward";
    return methods.empty() ? std::string() : methods.front().name;
}

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
// or a clean error, never a half-read archive inside torch.
bool read_file(const std::string& path, std::string& data, std::string& error) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        error = "cannot open model file '" + path + "': " + std::strerror(errno) +
                " (check the name; paths are relative to the patch, then Pd's search path)";
        return false;
    }
    std::stringstream bytes;
    bytes << f.rdbuf();
    data = bytes.str();
    if (data.empty()) {
        error =
            "model file '" + path + "' is empty (0 bytes): export the model again (torch.jit.save or nn-tilde export)";
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
        error = "'" + path + "' is not a loadable TorchScript model (" + short_error(e) +
                "); export it with torch.jit.save or nn-tilde export, and check it with `nn-tilde check`";
        return false;
    }
    return true;
}

// ---- step 2: discover what the module declares ----------------------------------------------------

// Optional per-channel labels as found in the module, before the rules are applied.
struct DeclaredLabels {
    bool present = false;                          // the module has the attribute
    std::optional<std::vector<std::string>> list;  // nullopt: not a List[str]
};

// One method as the module declares it, before the rules are applied.
struct DeclaredMethod {
    std::string name;
    std::vector<int64_t> params;  // the `<name>_params` buffer
    std::string params_error;     // non-empty: that buffer is missing or does not hold integers
    bool callable = false;        // the module has a TorchScript method of that name
    DeclaredLabels input_labels, output_labels;
};

DeclaredLabels read_labels(torch::jit::Module& module, const std::string& key) {
    DeclaredLabels l;
    l.present = module.hasattr(key);
    if (l.present) l.list = string_list(module.attr(key));
    return l;
}

// The methods get_methods() lists; without it, every `<m>_params` buffer with a callable `m` (attribute
// params have getters/setters, not a method of their own name).
std::vector<DeclaredMethod> discover_methods(torch::jit::Module& module) {
    std::vector<std::string> names;
    if (auto listed = call_string_list(module, "get_methods")) {
        names = *listed;
    } else {
        for (const auto& b : module.named_buffers(/*recurse=*/false)) {
            const std::string& n = b.name;
            if (n.size() > 7 && n.compare(n.size() - 7, 7, "_params") == 0) {
                std::string m = n.substr(0, n.size() - 7);
                if (has_method(module, m)) names.push_back(m);
            }
        }
    }
    std::vector<DeclaredMethod> out;
    for (const std::string& n : names) {
        DeclaredMethod d;
        d.name = n;
        read_params(module, n, d.params, d.params_error);
        d.callable = has_method(module, n);
        d.input_labels = read_labels(module, n + "_input_labels");
        d.output_labels = read_labels(module, n + "_output_labels");
        out.push_back(std::move(d));
    }
    return out;
}

// Attributes get_attributes() lists; an attribute that breaks a rule is skipped with a warning.
void discover_attributes(torch::jit::Module& module, ModelInfo& info) {
    auto attrs = call_string_list(module, "get_attributes");
    if (!attrs) return;
    for (const std::string& a : *attrs) {
        if (a == "none" || a.empty()) continue;
        std::vector<int64_t> types;
        std::string err;
        if (!read_params(module, a, types, err) || types.empty()) {
            info.warnings.push_back("attribute '" + a + "' " + (err.empty() ? "has no type codes" : err) + "; ignored");
            continue;
        }
        if (!has_method(module, "get_" + a) || !has_method(module, "set_" + a)) {
            info.warnings.push_back("attribute '" + a + "' lacks get_" + a + "() or set_" + a + "(); ignored");
            continue;
        }
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

// ---- step 3: validate the methods (rules: contract.h) ----------------------------------------------

// In the file's order; the first method that breaks a rule refuses the whole file.
bool validate_methods(const std::string& path, const std::vector<DeclaredMethod>& declared, ModelInfo& info,
                      std::string& error) {
    if (declared.empty()) {
        error = "'" + path +
                "' declares no method: an nn~ model needs `<method>_params` buffers "
                "(export it with nn_tilde.Module.register_method)";
        return false;
    }
    for (const DeclaredMethod& d : declared) {
        const std::string& n = d.name;
        if (!d.params_error.empty()) {
            error = "method '" + n + "' " + d.params_error + ": every method needs a `" + n +
                    "_params` buffer [in_channels, in_ratio, out_channels, out_ratio]";
            return false;
        }
        error = check_method_params(n, d.params);
        if (!error.empty()) return false;
        if (!d.callable) {
            error = "method '" + n + "' is listed but the model has no such TorchScript method";
            return false;
        }
        MethodInfo mi;
        mi.name = n;
        mi.shape = shape_from_params(d.params);
        for (std::string& w : ratio_warnings(n, mi.shape)) info.warnings.push_back(std::move(w));
        auto labels = [&](const DeclaredLabels& l, const char* suffix, int count, std::vector<std::string>& dst) {
            if (!l.present) return;
            if (std::string w = check_labels(n + suffix, count, l.list); !w.empty())
                info.warnings.push_back(w);
            else
                dst = *l.list;
        };
        labels(d.input_labels, "_input_labels", mi.shape.in_channels, mi.input_labels);
        labels(d.output_labels, "_output_labels", mi.shape.out_channels, mi.output_labels);
        info.methods.push_back(std::move(mi));
    }
    return true;
}

}  // namespace

LoadResult load_model(const std::string& path) {
    LoadResult r;
    init_torch_threads();
    std::string data;
    if (!read_file(path, data, r.error)) return r;
    torch::jit::Module module;
    if (!deserialise(path, data, module, r.error)) return r;

    auto info = std::make_shared<ModelInfo>();
    info->path = path;
    try {
        c10::InferenceMode inference;  // no autograd bookkeeping; every call of the model runs in this mode
        if (!validate_methods(path, discover_methods(module), *info, r.error)) return r;
        discover_attributes(module, *info);
        if (auto bufs = call_string_list(module, "get_buffer_attributes")) info->buffer_attributes = *bufs;
        discover_sample_rate(module, *info);
        read_extensions(module, *info);
    } catch (const std::exception& e) {
        r.error = "reading the contract of '" + path + "' failed: " + short_error(e);
        return r;
    }
    r.info = info;
    r.model = std::make_shared<LoadedModel>(std::move(module));
    return r;
}

namespace {

// Calls `name` on x and checks it returns [batch, out_channels, frames]. worker/loader thread.
bool call_checked(torch::jit::Method& m, const MethodInfo& mi, const at::Tensor& x, int64_t out_frames, at::Tensor& y,
                  std::string& error) {
    c10::IValue r;
    try {
        r = m(std::vector<c10::IValue>{x});
    } catch (const std::exception& e) {
        error = "method '" + mi.name + "' threw: " + short_error(e);
        return false;
    }
    if (!r.isTensor()) {
        error = "method '" + mi.name + "' returned a " + r.tagKind() + ", expected a tensor [batch, channels, frames]";
        return false;
    }
    y = r.toTensor();
    if (y.dim() != 3 || y.size(0) != x.size(0) || y.size(1) != mi.shape.out_channels || y.size(2) != out_frames) {
        error = "method '" + mi.name + "' returned shape " + shape_str(y) + " for input " + shape_str(x) +
                ", expected [" + std::to_string(x.size(0)) + ", " + std::to_string(mi.shape.out_channels) + ", " +
                std::to_string(out_frames) + "] as its `" + mi.name + "_params` declare";
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
            error += "; the model is stopped (fix it, then send `reload`)";
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
    c10::InferenceMode inference;  // no autograd bookkeeping; every call of the model runs in this mode
    for (const MethodInfo& mi : info.methods) {
        if (buffer_size % mi.shape.in_ratio || buffer_size % mi.shape.out_ratio) continue;
        torch::jit::Method m = model.module.get_method(mi.name);
        const int calls = mi.name == method ? 3 : 1;
        for (int i = 0; i < calls; ++i) {
            at::Tensor x;
            try {  // a bad_alloc must become an error here: on the loader thread it would abort Pd
                x = torch::zeros({batch, mi.shape.in_channels, buffer_size / mi.shape.in_ratio});
            } catch (const std::exception& e) {
                error = "cannot allocate the input of method '" + mi.name + "' (" + short_error(e) + ")";
                return false;
            }
            at::Tensor y;
            if (!call_checked(m, mi, x, buffer_size / mi.shape.out_ratio, y, error)) {
                error += " (on a buffer of zeros at load time)";
                return false;
            }
            if (i == 0 && !torch::isfinite(y).all().item<bool>())
                warnings.push_back("method '" + mi.name +
                                   "' outputs NaN or Inf on silence; nn~ will replace them by 0");
        }
    }
    if (auto reset = model.module.find_method("reset")) {
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
    try {
        c10::IValue r = (*m)(std::vector<c10::IValue>{c10::IValue(int64_t(rate))});
        if (r.isInt() && r.toInt() != 0) {
            error = "the model refuses the host sample rate " + std::to_string(rate) +
                    " Hz (set_sample_rate returned " + std::to_string(r.toInt()) + "); it will play at its own rate";
            return false;
        }
    } catch (const std::exception& e) {
        error = "set_sample_rate(" + std::to_string(rate) + ") threw: " + short_error(e);
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
