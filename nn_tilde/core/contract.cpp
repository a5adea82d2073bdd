// The model-file rules of contract.h.
#include "contract.h"

#include <algorithm>
#include <numeric>

namespace nn {

std::string check_method_params(const std::string& method, const std::vector<int64_t>& params) {
    const std::string& n = method;
    if (params.size() != kParamCount)
        return "method '" + n + "': `" + n + "_params` holds " + std::to_string(params.size()) +
               " values, expected 4 [in_channels, in_ratio, out_channels, out_ratio]";
    static const char* what[] = {"in_channels", "in_ratio", "out_channels", "out_ratio"};
    for (int i = 0; i < kParamCount; ++i)
        if (params[i] <= 0 || params[i] > kMaxParam)
            return "method '" + n + "': " + what[i] + " is " + std::to_string(params[i]) +
                   "; all four params must be positive integers (at most " + std::to_string(kMaxParam) + ")";
    for (int i : {0, 2})
        if (params[i] > kMaxChannels)
            return "method '" + n + "': " + what[i] + " is " + std::to_string(params[i]) + "; nn~ accepts at most " +
                   std::to_string(kMaxChannels) + " channels per method (check `" + n +
                   "_params`: [in_channels, in_ratio, out_channels, out_ratio])";
    return {};
}

MethodShape shape_from_params(const std::vector<int64_t>& params) {
    return MethodShape{int(params[0]), int(params[1]), int(params[2]), int(params[3])};
}

std::vector<std::string> ratio_warnings(const std::string& method, const MethodShape& shape) {
    std::vector<int> ratios{shape.in_ratio};
    if (shape.out_ratio != shape.in_ratio) ratios.push_back(shape.out_ratio);  // warn once per ratio
    std::vector<std::string> warnings;
    for (int r : ratios)
        if ((r & (r - 1)) != 0)
            warnings.push_back("method '" + method + "' has ratio " + std::to_string(r) +
                               ", not a power of two: nn~ adapts its buffer size, the reference nn~ cannot");
    return warnings;
}

std::string check_labels(const std::string& key, int channels, const std::optional<std::vector<std::string>>& labels) {
    if (labels && static_cast<int>(labels->size()) == channels) return {};
    return "`" + key + "` does not hold " + std::to_string(channels) + " labels; ignored";
}

const char* attribute_type_name(int type) {
    static const char* names[kAttributeTypeCount] = {"bool", "int", "float", "str", "tensor", "buffer"};
    return type >= 0 && type < kAttributeTypeCount ? names[type] : "unknown";
}

std::string check_attribute_types(const std::string& attribute, const std::vector<int64_t>& types) {
    for (int64_t t : types)
        if (t < 0 || t >= kAttributeTypeCount)
            return "attribute '" + attribute + "' has an unknown type code (0.." +
                   std::to_string(kAttributeTypeCount - 1) + " expected); ignored";
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
        error = "the model's ratios need a buffer of " + std::to_string(multiple) + " samples, more than nn~ allows (" +
                std::to_string(kMaxBufferSize) + ")";
        return 0;
    }
    int b = requested > 0 ? requested : std::max(kDefaultBufferSize, multiple);
    if (b % multiple != 0) b = (b / multiple + 1) * multiple;
    if (b != (requested > 0 ? requested : kDefaultBufferSize))
        note = std::string(requested > 0 ? "buffer size " : "the default buffer size ") +
               std::to_string(requested > 0 ? requested : kDefaultBufferSize) +
               " is not a multiple of the model's ratios (" + std::to_string(multiple) + "): using " +
               std::to_string(b);
    return b;
}

}  // namespace nn
