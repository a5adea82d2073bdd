// The rules of the nn~ model file (docs/MODEL_FORMAT.md), defined once for the C++ side: the
// four `<method>_params` entries and their limits, the attribute type codes and their names, the
// ratio and buffer-size rules. model.cpp reads a file with libtorch and asks these functions whether
// what it read is acceptable; the engine and the host adapters take their limits and names from here.
// torch-free and host-free: tests/cpp/test_contract.cpp covers it in every build.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nn {

// What one method consumes and produces, per batch item: the four entries of `<method>_params`,
// [in_channels, in_ratio, out_channels, out_ratio].
struct MethodShape {
    int in_channels = 0;
    int in_ratio = 1;
    int out_channels = 0;
    int out_ratio = 1;
};

// ---- method params ---------------------------------------------------------------------------------

constexpr int kParamCount = 4;
// Largest value of any param: a bound that names a corrupt file as such (channels have a tighter one).
constexpr int64_t kMaxParam = int64_t(1) << 20;
// One Pd inlet/outlet per channel and rings of channels x buffer samples: a file declaring a million
// channels (or params in the wrong order) would exhaust memory and abort the host.
constexpr int kMaxChannels = 1024;

// The error that makes `method`'s params unacceptable (empty: acceptable). `params` are the values of
// the `<method>_params` buffer, already known to be integers.
std::string check_method_params(const std::string& method, const std::vector<int64_t>& params);
// The shape of params that check_method_params accepted.
MethodShape shape_from_params(const std::vector<int64_t>& params);
// Warnings about an acceptable shape: a ratio that is not a power of two (once per distinct ratio).
std::vector<std::string> ratio_warnings(const std::string& method, const MethodShape& shape);
// Why the optional labels `key` (`<method>_input_labels` or `_output_labels`) are ignored (empty: they
// are used): they must be a List[str] (`labels` is nullopt when they are not) of one label per channel.
std::string check_labels(const std::string& key, int channels, const std::optional<std::vector<std::string>>& labels);

// ---- attributes ------------------------------------------------------------------------------------

// One type code per element of an attribute (`<attribute>_params`).
enum AttributeType : int { kBool = 0, kInt = 1, kFloat = 2, kStr = 3, kTensor = 4, kBuffer = 5 };
constexpr int kAttributeTypeCount = 6;
// "bool", "int", "float", "str", "tensor", "buffer"; "unknown" for any other code.
const char* attribute_type_name(int type);
// Why an attribute with these type codes is ignored (empty: it is usable). A known attribute with an
// unknown code is skipped with a warning, not refused: the rest of the model still works.
std::string check_attribute_types(const std::string& attribute, const std::vector<int64_t>& types);

// ---- buffer size -----------------------------------------------------------------------------------

constexpr int kDefaultBufferSize = 2048;
constexpr int kMaxBufferSize = 1 << 17;  // 131072 samples (about 3 s at 44.1 kHz)

// The smallest buffer size every method accepts: the lcm of all ratios (their maximum when they are
// powers of two, as in every known model), capped at 2^30.
int buffer_multiple(const std::vector<MethodShape>& shapes);
// Buffer size actually used for a request (0: default) and a model's ratio multiple. Sets `note` when
// it differs from the request. Returns 0 and sets `error` when the request is invalid.
int choose_buffer_size(int requested, int multiple, std::string& note, std::string& error);

}  // namespace nn
