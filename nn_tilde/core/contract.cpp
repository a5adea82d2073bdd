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

// The rules of python_tools/nn_tilde/rules.json, in its order; edit that file, the build regenerates
// the rows (cmake/contract_rules.cmake).
const Rule kRules[] = {
#include "contract_rules.inc"
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
        if (it != fields.end())
            out += it->second;
        else if (const int64_t value = limit(name); value > 0)
            out += format_value(value);
        else if (name == "attribute_types")
            for (int t = 0; t < kAttributeTypeCount; ++t)
                out += (t ? ", " : "") + std::to_string(t) + " " + kAttributeTypeNames[t];
        else
            out += "{" + name + "}";
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
    return type >= 0 && type < kAttributeTypeCount ? kAttributeTypeNames[type] : "unknown";
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
