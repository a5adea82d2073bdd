// The rules of the nn~ model file (docs/MODEL_FORMAT.md) for the C++ side: the four
// `<method>_params` entries and their limits, the attribute type codes and their names, the ratio and
// buffer-size rules. model.cpp reads a file with libtorch and asks these functions whether what it read
// is acceptable; the engine and the host adapters take their limits and names from here.
// The rule table, the limits and the attribute type names are not written here: they are generated from
// python_tools/nn_tilde/rules.json at build time (cmake/contract_rules.cmake), the one file that defines
// them for nn~, the kit and the spec. torch-free and host-free: tests/cpp/test_contract.cpp covers it in every build.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

// ---- the rules ---------------------------------------------------------------------------------------

// What nn~ does when a file breaks a rule (docs/MODEL_FORMAT.md, "What nn~ does with a file").
enum class Verdict {
    Refuse,  // nn~ does not load the file; the checker fails it
    Warn,    // nn~ plays it and prints the warning
    Hint,    // only the checker reports it; nn~ plays without a word
};

// One rule of rules.json: its id, verdict and message, `{name}` marking a value.
struct Rule {
    const char* id;
    Verdict verdict;
    const char* message;
};

// The rules of rules.json in its order, generated from it (the `model_contract_rules` test compares
// this table, as nn~ holds it, with the file).
extern const Rule kRules[];
extern const int kRuleCount;

// One limit of rules.json ("max_channels", 1024). A message's `{max_channels}` is filled from here.
struct Limit {
    const char* name;
    int64_t value;
};
inline constexpr Limit kLimits[] = {
#include "contract_limits.inc"
};
// The limit `name` at compile time; 0 when rules.json has none of that name (the static_assert
// below names the file to fix).
constexpr int64_t limit(std::string_view name) {
    for (const Limit& l : kLimits)
        if (name == l.name) return l.value;
    return 0;
}

// The rule `id`; nullptr for an id that is not in the table.
const Rule* find_rule(const char* id);

// A rule's message with its `{name}` fields replaced by `fields` (values already formatted by the
// helpers below) or, for a name `fields` lacks, by the limit of that name (kLimits) or, for
// `{attribute_types}`, by the type codes and names ("0 bool, 1 int, ..."), followed by " [<id>]" so
// a user (and the agreement test) can look the rule up. A field the message names but none of these
// holds is left as `{name}`: a bug that shows, not a crash.
using RuleFields = std::initializer_list<std::pair<const char*, std::string>>;
std::string rule_message(const char* id, RuleFields fields);
// `message` with `more` added before its " [<rule id>]" suffix (at its end when it has none): the id stays
// last, where users and the agreement test look for it.
std::string append_to_message(std::string message, const std::string& more);

// How messages print values, as the kit (nn_tilde/contract.py, `_text`) does: integers plainly,
// a whole float as an integer, any other float as Python's repr, lists as "[1, 2, 3]".
std::string format_value(int64_t v);
std::string format_value(double v);
std::string format_list(const std::vector<int64_t>& values);
std::string format_list(const std::vector<double>& values);
// A difference as Python's f"{diff:.3g}" prints it ("0.000123", "1.5e+03").
std::string format_diff(double v);
// A dtype as messages name it, from libtorch's name for it (c10::toString: "Float", "Long", "Half")
// to Python's without "torch." ("float32", "int64", "float16").
std::string dtype_name(const std::string& c10_name);
// True for integer dtypes and bool, by their message name ("int64", "uint8", "bool").
bool dtype_is_integer(const std::string& name);
// The type of a value returned instead of a tensor, named as Python names it (`value_type_name`), from
// libtorch's IValue tag ("Tuple" -> "tuple", "GenericList" -> "list", "String" -> "str", "None" -> "None").
std::string value_type_name(const std::string& ivalue_tag);

// ---- method params ---------------------------------------------------------------------------------

constexpr int kParamCount = 4;
// Largest value of any param: a bound that names a corrupt file as such (channels have a tighter one).
constexpr int64_t kMaxParam = limit("max_param");
// One Pd inlet/outlet per channel and rings of channels x buffer samples: a file declaring a million
// channels (or params in the wrong order) would exhaust memory and abort the host.
constexpr int kMaxChannels = int(limit("max_channels"));

// The refusal of `method`'s params (empty: acceptable), by rules params.fraction, params.count,
// params.range and channels.limit in that order (the kit's `read_params`). `values` are the
// flattened values of the `<method>_params` tensor, `dtype` its message name; warnings (params.float,
// ratio.pow2) are appended to `warnings` when the params are acceptable.
std::string check_method_params(const std::string& method, const std::vector<double>& values, const std::string& dtype,
                                std::vector<std::string>& warnings);
// The shape of params that check_method_params accepted.
MethodShape shape_from_params(const std::vector<double>& values);
// ratio.pow2 warnings about an acceptable shape: a ratio that is not a power of two (once per distinct ratio).
std::vector<std::string> ratio_warnings(const std::string& method, const MethodShape& shape);
// labels.invalid when the optional labels `key` (`<method>_input_labels` or `_output_labels`) are ignored
// (empty: they are used): they must be a List[str] (`labels` is nullopt when they are not) of one label
// per channel.
std::string check_labels(const std::string& key, int channels, const std::optional<std::vector<std::string>>& labels);

// ---- attributes ------------------------------------------------------------------------------------

// The attribute type names of rules.json, a type code being the index of its name.
inline constexpr const char* kAttributeTypeNames[] = {
#include "contract_types.inc"
};
constexpr int kAttributeTypeCount = int(sizeof kAttributeTypeNames / sizeof kAttributeTypeNames[0]);
// One type code per element of an attribute (`<attribute>_params`); the code names the codes it acts on.
enum AttributeType : int { kBool = 0, kInt = 1, kFloat = 2, kStr = 3, kTensor = 4, kBuffer = 5 };
static_assert(kAttributeTypeCount == 6 && std::string_view(kAttributeTypeNames[kBool]) == "bool" &&
                  std::string_view(kAttributeTypeNames[kInt]) == "int" &&
                  std::string_view(kAttributeTypeNames[kFloat]) == "float" &&
                  std::string_view(kAttributeTypeNames[kStr]) == "str" &&
                  std::string_view(kAttributeTypeNames[kTensor]) == "tensor" &&
                  std::string_view(kAttributeTypeNames[kBuffer]) == "buffer",
              "python_tools/nn_tilde/rules.json's attribute_types differ from the codes nn~ acts on");
// "bool", "int", "float", "str", "tensor", "buffer"; "unknown" for any other code.
const char* attribute_type_name(int type);
// attribute.code when an attribute with these type codes is ignored (empty: it is usable). A known
// attribute with an unknown code is skipped with a warning, not refused: the rest of the model still works.
std::string check_attribute_types(const std::string& attribute, const std::vector<int64_t>& types);

// ---- buffer size -----------------------------------------------------------------------------------

constexpr int kDefaultBufferSize = int(limit("default_buffer"));
constexpr int kMaxBufferSize = int(limit("max_buffer"));  // about 3 s at 44.1 kHz

static_assert(kMaxParam > 0 && kMaxChannels > 0 && kDefaultBufferSize > 0 && kMaxBufferSize > 0,
              "python_tools/nn_tilde/rules.json lacks one of the limits max_param, max_channels, default_buffer, "
              "max_buffer");

// The smallest buffer size every method accepts: the lcm of all ratios (their maximum when they are
// powers of two, as in every known model), capped at 2^30.
int buffer_multiple(const std::vector<MethodShape>& shapes);
// Buffer size actually used for a request (0: default) and a model's ratio multiple. Sets `note` when
// a request is rounded, or the default 2048 is (the multiple itself, when larger, is the default and
// needs none). Returns 0 and sets `error` when the request is invalid.
int choose_buffer_size(int requested, int multiple, std::string& note, std::string& error);

}  // namespace nn
