// The model-file rules of contract.h.
#include "contract.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>

namespace nn {

// The spec's rule table (docs/MODEL_FORMAT.md), in its order. Edit the spec first, then the Python copy
// (nn_tilde/contract.py) and this table: tests/kit/test_contract_spec.py holds all three equal.
const Rule kRules[] = {
    {"file.missing", Verdict::Refuse, "cannot open model file '{path}': {reason}"},
    {"file.folder", Verdict::Refuse, "'{path}' is a folder, not a model file: give the path of a .ts file"},
    {"file.empty", Verdict::Refuse, "model file '{path}' is empty (0 bytes): export the model again"},
    {"file.torchscript", Verdict::Refuse,
     "'{path}' is not a TorchScript model ({error}); save it with torch.jit.save or nn-tilde export"},
    {"contract.read", Verdict::Refuse, "reading the model's methods failed: {error}"},
    {"methods.none", Verdict::Refuse, "the model declares no method: each method needs a <method>_params buffer"},
    {"methods.list", Verdict::Warn,
     "get_methods() returned {got}, not a list of method names; using the methods found from their _params buffers: "
     "{methods}"},
    {"methods.discovered", Verdict::Hint, "no get_methods(); methods found from their _params buffers: {methods}"},
    {"method.missing", Verdict::Refuse, "method '{method}' is listed but the file has no such TorchScript method"},
    {"params.missing", Verdict::Refuse,
     "method '{method}' has no {method}_params buffer [in_channels, in_ratio, out_channels, out_ratio]"},
    {"params.type", Verdict::Refuse,
     "{method}_params is not a tensor of [in_channels, in_ratio, out_channels, out_ratio]"},
    {"params.count", Verdict::Refuse,
     "{method}_params holds {count} values, expected 4: [in_channels, in_ratio, out_channels, out_ratio]"},
    {"params.fraction", Verdict::Refuse, "{method}_params holds {values}: channels and ratios must be whole numbers"},
    {"params.range", Verdict::Refuse,
     "{method}_params: {field} is {value}; each entry must be a whole number from 1 to 1048576"},
    {"params.float", Verdict::Warn,
     "{method}_params is stored as {dtype}; nn~ reads its whole values, but store integers"},
    {"channels.limit", Verdict::Refuse,
     "method '{method}': {field} is {value}; nn~ accepts at most 1024 channels per method"},
    {"ratio.pow2", Verdict::Warn,
     "method '{method}' has ratio {ratio}, not a power of two: nn~ plays it at a buffer size that is a multiple of "
     "{ratio}, the reference nn~ cannot play it"},
    {"buffer.limit", Verdict::Refuse,
     "the model's ratios need a buffer of {multiple} samples, more than nn~ allows (131072)"},
    {"labels.invalid", Verdict::Warn, "{key} is not a list of {count} strings (one per channel); ignored"},
    {"attributes.list", Verdict::Warn, "get_attributes() returned {got}, not a list of names; attributes ignored"},
    {"attribute.params", Verdict::Warn, "attribute '{attribute}' has no valid {attribute}_params type codes; ignored"},
    {"attribute.code", Verdict::Warn,
     "attribute '{attribute}' has type code {code}, not one of 0 bool, 1 int, 2 float, 3 str, 4 tensor, 5 buffer; "
     "ignored"},
    {"attribute.accessor", Verdict::Warn,
     "attribute '{attribute}' lacks get_{attribute}() or set_{attribute}(); ignored"},
    {"attribute.behaviour", Verdict::Hint, "attribute '{attribute}': {problem}"},
    {"call.throws", Verdict::Refuse, "method '{method}' threw on a buffer of zeros: {error}"},
    {"call.type", Verdict::Refuse, "method '{method}' returned a {type}, expected a tensor [batch, channels, frames]"},
    {"call.shape", Verdict::Refuse,
     "method '{method}' returned shape {got} for input {input}, expected {want} as {method}_params declare"},
    {"call.dtype", Verdict::Warn, "method '{method}' returns {dtype}; nn~ converts it to float32"},
    {"call.nonfinite", Verdict::Warn, "method '{method}' outputs NaN or Inf on silence; nn~ replaces them by 0"},
    {"rate.refused", Verdict::Warn,
     "the model refuses the host sample rate {rate} Hz (set_sample_rate returned {value}); it plays at its own rate"},
    {"rate.error", Verdict::Warn, "set_sample_rate({rate}) threw: {error}; the model plays at its own rate"},
    {"rate.mismatch", Verdict::Warn,
     "the model was made for {model_rate} Hz but the host runs at {rate} Hz; nn~ does not resample"},
    {"torch.newer", Verdict::Warn,
     "the file was written by torch {file_torch}, newer than this libtorch {host_torch}: it may compute wrong results; "
     "export it again with torch {host_torch}"},
    {"test_vector.mismatch", Verdict::Warn,
     "method '{method}' does not compute what its author saw (test vector: max difference {diff})"},
    {"test_vector.error", Verdict::Warn, "the test vector of '{method}' could not be run: {error}"},
};
const int kRuleCount = int(sizeof kRules / sizeof kRules[0]);

const Rule* find_rule(const char* id) {
    for (const Rule& r : kRules)
        if (std::strcmp(r.id, id) == 0) return &r;
    return nullptr;
}

std::string rule_message(const char* id, RuleFields fields) {
    const Rule* rule = find_rule(id);
    if (!rule) return std::string("(unknown rule) [") + id + "]";
    std::string out;
    for (const char* p = rule->message; *p;) {
        const char* close = *p == '{' ? std::strchr(p, '}') : nullptr;
        if (!close) {
            out += *p++;
            continue;
        }
        const std::string name(p + 1, close);
        auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return name == f.first; });
        out += it != fields.end() ? it->second : "{" + name + "}";
        p = close + 1;
    }
    return out + " [" + id + "]";
}

std::string append_to_message(std::string message, const std::string& more) {
    const size_t open = message.rfind(" [");
    const bool rule = !message.empty() && message.back() == ']' && open != std::string::npos &&
                      find_rule(message.substr(open + 2, message.size() - open - 3).c_str()) != nullptr;
    message.insert(rule ? open : message.size(), more);
    return message;
}

std::string format_value(int64_t v) { return std::to_string(v); }

std::string format_value(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    // Python prints a whole float in a message as an int (contract._text): 1.0 -> "1".
    if (v == std::floor(v) && std::fabs(v) < 1e18) return std::to_string(static_cast<int64_t>(v));
    // Otherwise Python's repr: the shortest text that reads back as the same double.
    char b[40];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(b, sizeof b, "%.*g", precision, v);
        if (std::strtod(b, nullptr) == v) break;
    }
    return b;
}

std::string format_list(const std::vector<int64_t>& values) {
    std::string s = "[";
    for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + format_value(values[i]);
    return s + "]";
}

std::string format_list(const std::vector<double>& values) {
    std::string s = "[";
    for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + format_value(values[i]);
    return s + "]";
}

std::string format_diff(double v) {
    char b[40];
    std::snprintf(b, sizeof b, "%.3g", v);  // C's %g and Python's "g" agree (exponent form, zeros dropped)
    return b;
}

std::string dtype_name(const std::string& c10_name) {
    static const std::pair<const char*, const char*> names[] = {
        {"Float", "float32"},
        {"Double", "float64"},
        {"Half", "float16"},
        {"BFloat16", "bfloat16"},
        {"Long", "int64"},
        {"Int", "int32"},
        {"Short", "int16"},
        {"Char", "int8"},
        {"Byte", "uint8"},
        {"Bool", "bool"},
        {"ComplexFloat", "complex64"},
        {"ComplexDouble", "complex128"},
        {"ComplexHalf", "complex32"},
        {"UInt16", "uint16"},
        {"UInt32", "uint32"},
        {"UInt64", "uint64"},
    };
    for (const auto& n : names)
        if (c10_name == n.first) return n.second;
    std::string lower = c10_name;  // a dtype added later: its own name, lowercased, is the best guess
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
}

bool dtype_is_integer(const std::string& name) {
    return name.rfind("int", 0) == 0 || name.rfind("uint", 0) == 0 || name == "bool";
}

std::string value_type_name(const std::string& ivalue_tag) {
    static const std::pair<const char*, const char*> names[] = {
        {"Tuple", "tuple"},
        {"GenericList", "list"},
        {"TensorList", "list"},
        {"IntList", "list"},
        {"DoubleList", "list"},
        {"BoolList", "list"},
        {"ComplexDoubleList", "list"},
        {"GenericDict", "dict"},
        {"String", "str"},
        {"Int", "int"},
        {"SymInt", "int"},
        {"Double", "float"},
        {"SymFloat", "float"},
        {"Bool", "bool"},
        {"SymBool", "bool"},
        {"None", "None"},
        {"ComplexDouble", "complex"},
    };
    for (const auto& n : names)
        if (ivalue_tag == n.first) return n.second;
    return ivalue_tag;
}

std::string check_method_params(const std::string& method, const std::vector<double>& values, const std::string& dtype,
                                std::vector<std::string>& warnings) {
    for (double v : values)
        if (!(v == std::floor(v)))  // NaN too
            return rule_message("params.fraction", {{"method", method}, {"values", format_list(values)}});
    if (values.size() != kParamCount)
        return rule_message("params.count",
                            {{"method", method}, {"count", format_value(static_cast<int64_t>(values.size()))}});
    static const char* what[] = {"in_channels", "in_ratio", "out_channels", "out_ratio"};
    for (int i = 0; i < kParamCount; ++i)
        if (values[i] < 1 || values[i] > double(kMaxParam))
            return rule_message("params.range",
                                {{"method", method}, {"field", what[i]}, {"value", format_value(values[i])}});
    for (int i : {0, 2})
        if (values[i] > kMaxChannels)
            return rule_message("channels.limit",
                                {{"method", method}, {"field", what[i]}, {"value", format_value(values[i])}});
    if (!dtype_is_integer(dtype))
        warnings.push_back(rule_message("params.float", {{"method", method}, {"dtype", dtype}}));
    for (std::string& w : ratio_warnings(method, shape_from_params(values))) warnings.push_back(std::move(w));
    return {};
}

MethodShape shape_from_params(const std::vector<double>& values) {
    return MethodShape{int(values[0]), int(values[1]), int(values[2]), int(values[3])};
}

std::vector<std::string> ratio_warnings(const std::string& method, const MethodShape& shape) {
    std::vector<int> ratios{shape.in_ratio};
    if (shape.out_ratio != shape.in_ratio) ratios.push_back(shape.out_ratio);  // warn once per ratio
    std::vector<std::string> warnings;
    for (int r : ratios)
        if ((r & (r - 1)) != 0)
            warnings.push_back(rule_message("ratio.pow2", {{"method", method}, {"ratio", format_value(int64_t(r))}}));
    return warnings;
}

std::string check_labels(const std::string& key, int channels, const std::optional<std::vector<std::string>>& labels) {
    if (labels && static_cast<int>(labels->size()) == channels) return {};
    return rule_message("labels.invalid", {{"key", key}, {"count", format_value(int64_t(channels))}});
}

const char* attribute_type_name(int type) {
    static const char* names[kAttributeTypeCount] = {"bool", "int", "float", "str", "tensor", "buffer"};
    return type >= 0 && type < kAttributeTypeCount ? names[type] : "unknown";
}

std::string check_attribute_types(const std::string& attribute, const std::vector<int64_t>& types) {
    for (int64_t t : types)  // the first unknown code is named, as the checker names it
        if (t < 0 || t >= kAttributeTypeCount)
            return rule_message("attribute.code", {{"attribute", attribute}, {"code", format_value(t)}});
    return {};
}

int buffer_multiple(const std::vector<MethodShape>& shapes) {
    int64_t l = 1;
    for (const MethodShape& s : shapes)
        for (int r : {s.in_ratio, s.out_ratio}) l = std::lcm(l, static_cast<int64_t>(r));
    return static_cast<int>(std::min<int64_t>(l, 1 << 30));
}

int choose_buffer_size(int requested, int multiple, std::string& note, std::string& error) {
    multiple = std::max(1, multiple);
    if (requested < 0) {
        error = "buffer size must be a positive number of samples, got " + std::to_string(requested);
        return 0;
    }
    if (requested > kMaxBufferSize) {
        error = "buffer size " + std::to_string(requested) + " is too large (at most " +
                std::to_string(kMaxBufferSize) + ")";
        return 0;
    }
    if (multiple > kMaxBufferSize) {
        error = rule_message("buffer.limit", {{"multiple", format_value(int64_t(multiple))}});
        return 0;
    }
    int b = requested > 0 ? requested : std::max(kDefaultBufferSize, multiple);
    if (b % multiple != 0) b = (b / multiple + 1) * multiple;
    // The default is 2048 or the multiple when that is larger (docs/MODEL_FORMAT.md), so only a default
    // rounded up from 2048 (ratios that do not divide it) or a rounded request is worth a note.
    const bool rounded = requested > 0 ? b != requested : multiple < kDefaultBufferSize && b != kDefaultBufferSize;
    if (rounded)
        note = std::string(requested > 0 ? "buffer size " : "the default buffer size ") +
               std::to_string(requested > 0 ? requested : kDefaultBufferSize) +
               " is not a multiple of the model's ratios (" + std::to_string(multiple) + "): using " +
               std::to_string(b);
    return b;
}

}  // namespace nn
