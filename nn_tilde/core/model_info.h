// What nn~ knows about a model file once it has read it: plain data, torch-free and host-free, so the
// engine, the host helpers and every adapter share one description (filled by load_model, model.h),
// and the one formatter of those facts as host messages (used by `info` and by nn.info alike).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "contract.h"  // MethodShape, attribute type codes

namespace nn {

// A host-neutral message value: a number or a symbol. Adapters convert to t_atom (Pd) or atom (Max).
struct Atom {
    bool is_symbol = false;
    double number = 0.0;
    std::string symbol;
    static Atom num(double v) { return Atom{false, v, {}}; }
    static Atom sym(std::string s) { return Atom{true, 0.0, std::move(s)}; }
};

// One line of a report (`info`, `stats`, nn.info): a key and its values, as hosts print and output it.
struct InfoLine {
    std::string key;
    std::vector<Atom> values;
};

struct MethodInfo {
    std::string name;
    MethodShape shape;
    std::vector<std::string> input_labels, output_labels;
    int latency = -1;  // the model's own delay in samples (kit extension `<m>_latency`); -1: not declared
};

struct AttributeInfo {
    std::string name;
    std::vector<int> types;  // one AttributeType code per element
};

struct ModelInfo {
    std::string path;
    std::vector<MethodInfo> methods;
    std::vector<AttributeInfo> attributes;
    std::vector<std::string> buffer_attributes;
    bool has_set_sample_rate = false;
    int model_sample_rate = 0;  // the model's own rate (get_model_sample_rate(), else get_sample_rate()
                                // read before the host sets its rate); 0: unknown
    std::string torch_version;  // torch that wrote the file (kit metadata), empty: unknown
    std::vector<std::pair<std::string, std::string>> metadata;  // get_metadata()'s string entries, sorted by key
    std::vector<std::string> verified;                          // methods whose embedded test vector matched at load
    std::vector<std::string> warnings;

    const MethodInfo* method(const std::string& name) const;
    const AttributeInfo* attribute(const std::string& name) const;
    std::string method_names() const;  // "a, b, c" for messages
    std::string attribute_names() const;
    // The smallest buffer size every method accepts: nn::buffer_multiple (contract.h) of all methods.
    int buffer_multiple() const;
    std::string default_method() const;  // "forward" when present, else the first method
};

// ---- the facts as report lines: one formatter for nn~'s `info` (Engine::describe) and nn.info
// (model_info_lines in host.h), so the two say a fact in the same words.

std::vector<Atom> symbols(const std::vector<std::string>& names);
InfoLine methods_line(const ModelInfo& info);     // methods <names...>
InfoLine method_line(const MethodInfo& m);        // method <name> <in ch> <in ratio> <out ch> <out ratio>
InfoLine attribute_line(const AttributeInfo& a);  // attribute <name> <types...>

}  // namespace nn
