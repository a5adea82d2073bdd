// Host-neutral helpers of the Pd and Max adapters (see host.h). torch-free: the model facts are
// model_info.h's plain data, and the model-file rules come from contract.h.
#include "host.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace nn {

namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

// ---- arguments -----------------------------------------------------------------------------------

size_t positional_count(const std::vector<Atom>& args) {
    for (size_t i = 0; i < args.size(); ++i)
        if (args[i].is_symbol && args[i].symbol.size() > 1 && args[i].symbol[0] == '@') return i;
    return args.size();
}

bool parse_buffer_size(double value, int& out, std::string& error) {
    if (!std::isfinite(value) || value != std::floor(value)) {
        error = "buffer size must be a whole number of samples, got " + format_number(value);
        return false;
    }
    if (value <= 0) {  // whole here: printed in full, as typed (not 1e+10)
        char b[96];
        std::snprintf(b, sizeof b, "buffer size must be a positive number of samples, got %.0f", value);
        error = b;
        return false;
    }
    if (value > kMaxBufferSize) {
        char b[96];
        std::snprintf(b, sizeof b, "buffer size %.0f is too large (at most %d)", value, kMaxBufferSize);
        error = b;
        return false;
    }
    out = static_cast<int>(value);
    return true;
}

ObjectArgs parse_object_args(const std::vector<Atom>& args) {
    ObjectArgs r;
    bool have_model = false, have_method = false, have_size = false;
    std::vector<Atom> extra;
    const size_t n = positional_count(args);
    for (size_t i = 0; i < n; ++i) {
        const Atom& a = args[i];
        if (a.is_symbol) {
            if (!have_model) {
                r.model = a.symbol;
                have_model = true;
            } else if (!have_method) {
                r.method = a.symbol;
                have_method = true;
            } else {
                extra.push_back(a);
            }
        } else if (!have_size) {
            have_size = true;
            std::string e;
            if (!parse_buffer_size(a.number, r.buffer_size, e)) r.errors.push_back(e + "; using the default");
        } else {
            extra.push_back(a);
        }
    }
    // One message for all of them, in the same words in Pd and Max (`nn~ m forward 2048 4096`).
    if (!extra.empty())
        r.errors.push_back("extra creation arguments ignored: " + atoms_to_text(extra) +
                           " (usage: nn~ <model> [<method>] [<buffer size>])");
    return r;
}

bool parse_headroom(double value, int& out, std::string& error) {
    if (!std::isfinite(value) || value != std::floor(value) || value < 0 || value > StreamEngine::kMaxHeadroom) {
        error = "headroom must be a whole number of buffers from 0 to " + std::to_string(StreamEngine::kMaxHeadroom) +
                " (extra latency for a model slower than real time), got " + format_number(value);
        return false;
    }
    out = static_cast<int>(value);
    return true;
}

// ---- policy --------------------------------------------------------------------------------------

bool parse_policy(const Atom& value, LatePolicy& out, std::string& error) {
    static const char* names[] = {"wait", "silence", "hold"};
    if (value.is_symbol) {
        for (int i = 0; i < 3; ++i)
            if (value.symbol == names[i]) {
                out = static_cast<LatePolicy>(i);
                return true;
            }
        error = "unknown policy '" + value.symbol + "': use wait, silence or hold";
        return false;
    }
    if (value.number == 0 || value.number == 1 || value.number == 2) {
        out = static_cast<LatePolicy>(static_cast<int>(value.number));
        return true;
    }
    error = "unknown policy " + format_number(value.number) + ": use wait, silence or hold (or 0, 1, 2)";
    return false;
}

const char* policy_name(LatePolicy p) {
    switch (p) {
        case LatePolicy::Wait: return "wait";
        case LatePolicy::Silence: return "silence";
        case LatePolicy::Hold: return "hold";
    }
    return "wait";
}

// ---- files ---------------------------------------------------------------------------------------

std::vector<std::string> model_file_candidates(const std::string& name) {
    std::vector<std::string> c;
    if (name.size() < 3 || name.compare(name.size() - 3, 3, ".ts") != 0) c.push_back(name + ".ts");
    c.push_back(name);
    return c;
}

bool is_absolute_path(const std::string& p) {
    if (p.empty()) return false;
    if (p[0] == '/' || starts_with(p, "\\\\")) return true;
    return p.size() > 2 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':' &&
           (p[2] == '/' || p[2] == '\\');
}

bool is_folder(const std::string& path) {
    std::error_code ec;  // a path we cannot stat is not a folder: the caller reports "not found"
    return !path.empty() && std::filesystem::is_directory(path, ec);
}

std::string folder_error(const std::string& path) { return rule_message("file.folder", {{"path", path}}); }

std::string package_model_file(const std::string& package_dir, const std::string& name) {
    if (package_dir.empty() || name.empty() || is_absolute_path(name)) return "";
    for (const std::string& c : model_file_candidates(name)) {
        const std::string p = package_dir + "/models/" + c;
        std::error_code ec;  // unreadable counts as absent: the caller reports "not found"
        if (std::filesystem::is_regular_file(p, ec)) return p;
    }
    return "";
}

// ---- channel routing -----------------------------------------------------------------------------

int ChannelRouter::prepare(int batch, int model_inputs, int model_outputs, const std::vector<int>& inlet_channels,
                           int max_block) {
    batch_ = std::max(1, batch);
    ins_ = std::max(0, model_inputs);
    outs_ = std::max(0, model_outputs);
    max_block_ = std::max(1, max_block);
    // First host channel of each inlet in the host's flat list (inlet-major, as Max orders `ins`).
    std::vector<int> first(static_cast<size_t>(ins_)), width(static_cast<size_t>(ins_));
    total_in_ = 0;
    for (int i = 0; i < ins_; ++i) {
        const int w =
            i < static_cast<int>(inlet_channels.size()) ? std::max(1, inlet_channels[static_cast<size_t>(i)]) : 1;
        first[static_cast<size_t>(i)] = total_in_;
        width[static_cast<size_t>(i)] = w;
        total_in_ += w;
    }
    source_.assign(static_cast<size_t>(batch_ * ins_), 0);
    for (int b = 0; b < batch_; ++b)
        for (int c = 0; c < ins_; ++c)
            source_[static_cast<size_t>(b * ins_ + c)] =
                first[static_cast<size_t>(c)] + b % width[static_cast<size_t>(c)];
    in_store_.assign(static_cast<size_t>(batch_ * ins_) * max_block_, 0.0f);
    out_store_.assign(static_cast<size_t>(batch_ * outs_) * max_block_, 0.0f);
    in_ptrs_.resize(static_cast<size_t>(batch_ * ins_));
    out_ptrs_.resize(static_cast<size_t>(batch_ * outs_));
    for (size_t k = 0; k < in_ptrs_.size(); ++k) in_ptrs_[k] = in_store_.data() + k * max_block_;
    for (size_t k = 0; k < out_ptrs_.size(); ++k) out_ptrs_[k] = out_store_.data() + k * max_block_;
    return total_in_;
}

int ChannelRouter::source_of(int item, int channel) const noexcept {
    if (item < 0 || item >= batch_ || channel < 0 || channel >= ins_) return -1;
    return source_[static_cast<size_t>(item * ins_ + channel)];
}

// ---- gate ----------------------------------------------------------------------------------------

void PerformGate::close() noexcept {
    // acq_rel: a perform that enters after this sees the closed bit and backs out without touching
    // the engine; one that entered before is waited for below (its leave() is a release).
    state_.fetch_or(kClosed, std::memory_order_acq_rel);
    auto inside = [this] { return (state_.load(std::memory_order_acquire) & ~kClosed) != 0; };
    if (!inside()) return;
    if (spin_until([&] { return !inside(); }, 200000)) return;  // 0.2 ms: most blocks end by then
    while (inside()) std::this_thread::yield();
}

// ---- attributes ----------------------------------------------------------------------------------

bool wants_array(const AttributeInfo* attr, size_t i) {
    return attr && i < attr->types.size() && (attr->types[i] == kBuffer || attr->types[i] == kTensor);
}

std::vector<AttributeValue> attribute_values(const AttributeInfo* attr, const std::vector<Atom>& atoms) {
    std::vector<AttributeValue> out(atoms.size());
    for (size_t i = 0; i < atoms.size(); ++i) {
        Atom a = atoms[i];
        const int t = attr && i < attr->types.size() ? attr->types[i] : -1;
        if (t == kBool && a.is_symbol) {
            if (a.symbol == "true" || a.symbol == "on")
                a = Atom::num(1);
            else if (a.symbol == "false" || a.symbol == "off")
                a = Atom::num(0);
        } else if (t == kStr && !a.is_symbol) {
            a = Atom::sym(format_number(a.number));
        }
        out[i].atom = std::move(a);
    }
    return out;
}

// ---- text ----------------------------------------------------------------------------------------

std::string format_number(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}

std::string atoms_to_text(const std::vector<Atom>& a) {
    std::string s;
    for (const Atom& x : a) {
        if (!s.empty()) s += ' ';
        s += x.is_symbol ? x.symbol : format_number(x.number);
    }
    return s;
}

std::string info_text(const InfoLine& line) {
    return line.values.empty() ? line.key : line.key + " " + atoms_to_text(line.values);
}

std::string inlet_assist(const MethodInfo* m, int index, bool mc) {
    std::string s;
    if (m && index < static_cast<int>(m->input_labels.size()))
        s = m->input_labels[static_cast<size_t>(index)];
    else
        s = "(signal) input " + std::to_string(index + 1);
    if (mc) s += " [multichannel: one channel per voice]";
    if (index == 0) s += "; messages (load, method, reload, set, get, bufsize, headroom, info, stats, enable, policy)";
    return s;
}

std::string outlet_assist(const MethodInfo* m, int index, int signal_outlets, bool mc) {
    if (index >= signal_outlets) return "messages: loaded, info lines, stats, attribute values";
    std::string s;
    if (m && index < static_cast<int>(m->output_labels.size()))
        s = m->output_labels[static_cast<size_t>(index)];
    else
        s = "(signal) output " + std::to_string(index + 1);
    if (mc) s += " [multichannel: one channel per voice]";
    return s;
}

// ---- dictionaries --------------------------------------------------------------------------------

Dict& Dict::set(const std::string& key, Atom value) {
    entries.push_back(Entry{key, {std::move(value)}, nullptr, false});
    return *this;
}

Dict& Dict::set_array(const std::string& key, std::vector<Atom> values) {
    entries.push_back(Entry{key, std::move(values), nullptr, true});
    return *this;
}

Dict& Dict::child(const std::string& key) {
    entries.push_back(Entry{key, {}, std::make_shared<Dict>(), false});
    return *entries.back().child;
}

const Dict::Entry* Dict::find(const std::string& key) const {
    for (const auto& e : entries)
        if (e.key == key) return &e;
    return nullptr;
}

// ---- model info ----------------------------------------------------------------------------------

std::vector<InfoLine> model_info_lines(const ModelInfo& info) {
    std::vector<InfoLine> out;
    out.push_back({"path", {Atom::sym(info.path)}});
    out.push_back({"samplerate", {Atom::num(info.model_sample_rate)}});
    out.push_back(methods_line(info));
    for (const auto& m : info.methods) {
        out.push_back(method_line(m));
        if (!m.input_labels.empty()) {
            std::vector<Atom> v{Atom::sym(m.name)};
            for (const auto& l : m.input_labels) v.push_back(Atom::sym(l));
            out.push_back({"inputs", v});
        }
        if (!m.output_labels.empty()) {
            std::vector<Atom> v{Atom::sym(m.name)};
            for (const auto& l : m.output_labels) v.push_back(Atom::sym(l));
            out.push_back({"outputs", v});
        }
        if (m.latency >= 0) out.push_back({"latency", {Atom::sym(m.name), Atom::num(m.latency)}});
    }
    for (const auto& a : info.attributes) out.push_back(attribute_line(a));
    if (!info.buffer_attributes.empty()) out.push_back({"buffers", symbols(info.buffer_attributes)});
    for (const auto& [key, value] : info.metadata) out.push_back({"metadata", {Atom::sym(key), Atom::sym(value)}});
    if (info.metadata.empty() && !info.torch_version.empty())
        out.push_back({"metadata", {Atom::sym("torch_version"), Atom::sym(info.torch_version)}});
    if (!info.verified.empty()) out.push_back({"verified", symbols(info.verified)});
    for (const auto& w : info.warnings) out.push_back({"warning", {Atom::sym(w)}});
    return out;
}

Dict model_info_dict(const ModelInfo& info) {
    Dict d;
    d.set("path", Atom::sym(info.path));
    d.set("samplerate", Atom::num(info.model_sample_rate));
    Dict& methods = d.child("methods");
    for (const auto& m : info.methods) {
        Dict& md = methods.child(m.name);
        auto side = [&](const char* key, int channels, int ratio, const std::vector<std::string>& labels) {
            Dict& s = md.child(key);
            s.set("channels", Atom::num(channels));
            s.set("ratio", Atom::num(ratio));
            s.set_array("labels", symbols(labels));
        };
        side("inputs", m.shape.in_channels, m.shape.in_ratio, m.input_labels);
        side("outputs", m.shape.out_channels, m.shape.out_ratio, m.output_labels);
        if (m.latency >= 0) md.set("latency", Atom::num(m.latency));
    }
    Dict& attrs = d.child("attributes");
    for (const auto& a : info.attributes) {
        std::vector<Atom> types;
        for (int t : a.types) types.push_back(Atom::sym(attribute_type_name(t)));
        attrs.child(a.name).set_array("types", std::move(types));
    }
    d.set_array("buffers", symbols(info.buffer_attributes));
    Dict& meta = d.child("metadata");
    for (const auto& [key, value] : info.metadata) meta.set(key, Atom::sym(value));
    if (info.metadata.empty() && !info.torch_version.empty()) meta.set("torch_version", Atom::sym(info.torch_version));
    d.set_array("verified", symbols(info.verified));
    d.set_array("warnings", symbols(info.warnings));
    return d;
}

}  // namespace nn
