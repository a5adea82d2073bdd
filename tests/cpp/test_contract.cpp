// The model-file rules of nn_tilde/core/contract.* (docs/MODEL_FORMAT.md): the rule table and its
// message formatter (values printed as the Python copy prints them), the limits, the four
// `<method>_params` entries, ratio warnings, labels, attribute type codes and names, the buffer
// multiple and the buffer size chosen for a request. Every check names an exact value or message,
// so a changed rule fails here. torch-free: runs in every build.
// `test_contract --dump-rules` prints the generated table and limits as nn~ holds them, as JSON: the
// `model_contract_rules` test (tests/cpp/compare_rules.cmake) compares them with rules.json.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "check.h"
#include "contract.h"

using namespace nn;

static void test_limits() {
    EXPECT(kParamCount == 4);
    EXPECT(kMaxParam == 1048576);
    EXPECT(kMaxChannels == 1024);
    EXPECT(kDefaultBufferSize == 2048);
    EXPECT(kMaxBufferSize == 131072);
}

static void test_rule_table() {
    EXPECT(kRuleCount >= 30);
    // Every id nn~ reports is in the table, with the spec's verdict.
    const std::pair<const char*, Verdict> used[] = {
        {"file.missing", Verdict::Refuse},     {"file.folder", Verdict::Refuse},
        {"file.empty", Verdict::Refuse},       {"file.torchscript", Verdict::Refuse},
        {"contract.read", Verdict::Refuse},    {"methods.none", Verdict::Refuse},
        {"methods.list", Verdict::Warn},       {"methods.discovered", Verdict::Hint},
        {"method.missing", Verdict::Refuse},   {"params.missing", Verdict::Refuse},
        {"params.type", Verdict::Refuse},      {"params.count", Verdict::Refuse},
        {"params.fraction", Verdict::Refuse},  {"params.range", Verdict::Refuse},
        {"params.float", Verdict::Warn},       {"channels.limit", Verdict::Refuse},
        {"ratio.pow2", Verdict::Warn},         {"buffer.limit", Verdict::Refuse},
        {"labels.invalid", Verdict::Warn},     {"attributes.list", Verdict::Warn},
        {"attribute.params", Verdict::Warn},   {"attribute.code", Verdict::Warn},
        {"attribute.accessor", Verdict::Warn}, {"attribute.behaviour", Verdict::Hint},
        {"call.throws", Verdict::Refuse},      {"call.type", Verdict::Refuse},
        {"call.shape", Verdict::Refuse},       {"call.dtype", Verdict::Warn},
        {"call.nonfinite", Verdict::Warn},     {"rate.refused", Verdict::Warn},
        {"rate.error", Verdict::Warn},         {"rate.mismatch", Verdict::Warn},
        {"torch.newer", Verdict::Warn},        {"test_vector.mismatch", Verdict::Warn},
        {"test_vector.error", Verdict::Warn},
    };
    EXPECT(kRuleCount == int(sizeof used / sizeof used[0]));
    for (const auto& [id, verdict] : used) {
        const Rule* r = find_rule(id);
        EXPECT_MSG(r != nullptr && r->verdict == verdict, "rule %s", id);
    }
    EXPECT(find_rule("no.such.rule") == nullptr);
    // Ids are unique.
    for (int i = 0; i < kRuleCount; ++i)
        for (int j = i + 1; j < kRuleCount; ++j) EXPECT(std::string(kRules[i].id) != kRules[j].id);
}

static void test_rule_message() {
    // Fields filled in, the id appended.
    EXPECT(rule_message("call.throws", {{"method", "forward"}, {"error", "boom"}}) ==
           "method 'forward' threw on a buffer of zeros: boom [call.throws]");
    // A field named twice is filled twice.
    EXPECT(rule_message("attribute.accessor", {{"attribute", "gain"}}) ==
           "attribute 'gain' lacks get_gain() or set_gain(); ignored [attribute.accessor]");
    EXPECT(rule_message("methods.none", {}) ==
           "the model declares no method: each method needs a <method>_params buffer [methods.none]");
    // Limits fill their fields without the caller naming them; a field the caller gives comes first.
    EXPECT(rule_message("buffer.limit", {{"multiple", "262144"}}) ==
           "the model's ratios need a buffer of 262144 samples, more than nn~ allows (131072) [buffer.limit]");
    EXPECT(rule_message("buffer.limit", {{"multiple", "1"}, {"max_buffer", "7"}}).find("allows (7)") !=
           std::string::npos);
    EXPECT(limit("max_channels") == kMaxChannels && limit("max_param") == kMaxParam && limit("no_such_limit") == 0);
    // A missing field shows as itself; an unknown id says so.
    EXPECT(rule_message("call.dtype", {{"method", "m"}}) ==
           "method 'm' returns {dtype}; nn~ converts it to float32 [call.dtype]");
    EXPECT(rule_message("no.such", {}) == "(unknown rule) [no.such]");
    // More words go before the id, which stays last; a message without an id just grows.
    EXPECT(append_to_message("method 'm' returned a tuple [call.type]", "; stopped") ==
           "method 'm' returned a tuple; stopped [call.type]");
    EXPECT(append_to_message("no model loaded", "; keeps") == "no model loaded; keeps");
    EXPECT(append_to_message("holds [1, 2]", "; x") == "holds [1, 2]; x");
}

static void test_formatting() {
    // As Python's contract._text and f-strings print them.
    EXPECT(format_value(int64_t(2048)) == "2048");
    EXPECT(format_value(int64_t(-2)) == "-2");
    EXPECT(format_value(1.0) == "1");
    EXPECT(format_value(-3.0) == "-3");
    EXPECT(format_value(1.5) == "1.5");
    EXPECT(format_value(0.1) == "0.1");
    EXPECT(format_value(2.25e-05) == "2.25e-05");
    EXPECT(format_value(std::nan("")) == "nan");
    EXPECT(format_list(std::vector<double>{1.5, 1.0, 1.0, 1.0}) == "[1.5, 1, 1, 1]");
    EXPECT(format_list(std::vector<int64_t>{1, 1, 2048}) == "[1, 1, 2048]");
    EXPECT(format_list(std::vector<int64_t>{}) == "[]");
    EXPECT(format_diff(0.5) == "0.5");
    EXPECT(format_diff(0.000123456) == "0.000123");
    EXPECT(format_diff(1234.5) == "1.23e+03");
    EXPECT(format_diff(2.0) == "2");

    EXPECT(dtype_name("Float") == "float32");
    EXPECT(dtype_name("Long") == "int64");
    EXPECT(dtype_name("Half") == "float16");
    EXPECT(dtype_name("Double") == "float64");
    EXPECT(dtype_name("Int") == "int32");
    EXPECT(dtype_name("Bool") == "bool");
    EXPECT(dtype_name("BFloat16") == "bfloat16");
    EXPECT(dtype_is_integer("int64") && dtype_is_integer("uint8") && dtype_is_integer("bool"));
    EXPECT(!dtype_is_integer("float32") && !dtype_is_integer("float64") && !dtype_is_integer("complex64"));

    EXPECT(value_type_name("Tuple") == "tuple");
    EXPECT(value_type_name("GenericList") == "list");
    EXPECT(value_type_name("TensorList") == "list");
    EXPECT(value_type_name("IntList") == "list");
    EXPECT(value_type_name("GenericDict") == "dict");
    EXPECT(value_type_name("String") == "str");
    EXPECT(value_type_name("Int") == "int");
    EXPECT(value_type_name("Double") == "float");
    EXPECT(value_type_name("Bool") == "bool");
    EXPECT(value_type_name("None") == "None");
}

static void test_method_params() {
    std::vector<std::string> w;
    auto check = [&](std::vector<double> v, const std::string& dtype = "int64") {
        w.clear();
        return check_method_params("m", v, dtype, w);
    };
    EXPECT(check({1, 1, 1, 1}).empty() && w.empty());
    EXPECT(check({1, 1, 16, 2048}).empty() && w.empty());
    EXPECT(check({kMaxChannels, kMaxParam, kMaxChannels, kMaxParam}).empty());

    // Whole numbers first, then four of them, as the Python copy's read_params.
    EXPECT(check({1.5, 1, 1, 1}, "float32") ==
           "m_params holds [1.5, 1, 1, 1]: channels and ratios must be whole numbers [params.fraction]");
    EXPECT(check({1.5, 1, 1}, "float32").find("[params.fraction]") != std::string::npos);
    EXPECT(check({std::nan(""), 1, 1, 1}, "float32").find("[params.fraction]") != std::string::npos);
    EXPECT(check({16, 2048, 1}) ==
           "m_params holds 3 values, expected 4: [in_channels, in_ratio, out_channels, out_ratio] [params.count]");
    EXPECT(check({0, 0, 0, 0, 0}).find("holds 5 values") != std::string::npos);
    EXPECT(check({}).find("holds 0 values") != std::string::npos);

    // 1..kMaxParam, the first bad entry named.
    EXPECT(check({1, 0, 1, 1}) ==
           "m_params: in_ratio is 0; each entry must be a whole number from 1 to 1048576 [params.range]");
    EXPECT(check({-2, 1, 1, 1}).rfind("m_params: in_channels is -2;", 0) == 0);
    EXPECT(check({1, 1, 1, kMaxParam + 1}).rfind("m_params: out_ratio is 1048577;", 0) == 0);

    // At most kMaxChannels channels on either side.
    EXPECT(check({kMaxChannels + 1, 1, 1, 1}) ==
           "method 'm': in_channels is 1025; nn~ accepts at most 1024 channels per method [channels.limit]");
    EXPECT(check({1, 1, 5000, 1}).rfind("method 'm': out_channels is 5000;", 0) == 0);

    // Whole values stored as floats play, with a warning, before the ratio warnings.
    EXPECT(check({1, 3, 1, 1}, "float32").empty() && w.size() == 2 &&
           w[0] == "m_params is stored as float32; nn~ reads its whole values, but store integers [params.float]" &&
           w[1].find("[ratio.pow2]") != std::string::npos);
    EXPECT(check({1, 1, 1, 1}, "int32").empty() && w.empty());

    const MethodShape s = shape_from_params({3, 4, 5, 6});
    EXPECT(s.in_channels == 3 && s.in_ratio == 4 && s.out_channels == 5 && s.out_ratio == 6);
}

static void test_ratio_warnings() {
    EXPECT(ratio_warnings("m", MethodShape{1, 1, 1, 2048}).empty());
    EXPECT(ratio_warnings("m", MethodShape{1, 1024, 1, 1}).empty());
    const std::vector<std::string> one = ratio_warnings("m", MethodShape{1, 3, 1, 3});  // once per ratio
    EXPECT(one.size() == 1 && one[0] ==
                                  "method 'm' has ratio 3, not a power of two: nn~ plays it at a buffer size that is "
                                  "a multiple of 3, the reference nn~ cannot play it [ratio.pow2]");
    const std::vector<std::string> two = ratio_warnings("m", MethodShape{1, 3, 1, 5});
    EXPECT(two.size() == 2 && two[0].find("ratio 3,") != std::string::npos &&
           two[1].find("ratio 5,") != std::string::npos);
    EXPECT(ratio_warnings("m", MethodShape{1, 2, 1, 6}).size() == 1);
}

static void test_labels() {
    using Labels = std::optional<std::vector<std::string>>;
    EXPECT(check_labels("m_input_labels", 2, Labels{{"a", "b"}}).empty());
    EXPECT(check_labels("m_input_labels", 3, Labels{{"a", "b"}}) ==
           "m_input_labels is not a list of 3 strings (one per channel); ignored [labels.invalid]");
    EXPECT(check_labels("m_output_labels", 1, std::nullopt) ==
           "m_output_labels is not a list of 1 strings (one per channel); ignored [labels.invalid]");
}

static void test_attribute_types() {
    EXPECT(kBool == 0 && kInt == 1 && kFloat == 2 && kStr == 3 && kTensor == 4 && kBuffer == 5);
    EXPECT(kAttributeTypeCount == 6);
    const char* names[] = {"bool", "int", "float", "str", "tensor", "buffer"};
    for (int t = 0; t < 6; ++t) EXPECT_MSG(std::string(attribute_type_name(t)) == names[t], "type %d", t);
    EXPECT(std::string(attribute_type_name(-1)) == "unknown");
    EXPECT(std::string(attribute_type_name(6)) == "unknown");

    EXPECT(check_attribute_types("gain", {kFloat}).empty());
    EXPECT(check_attribute_types("mix", {0, 1, 2, 3, 4, 5}).empty());
    EXPECT(check_attribute_types("gain", {kFloat, 6, 7}) ==
           "attribute 'gain' has type code 6, not one of 0 bool, 1 int, 2 float, 3 str, 4 tensor, 5 buffer; ignored "
           "[attribute.code]");
    EXPECT(!check_attribute_types("gain", {-1}).empty());
}

static void test_buffer_multiple() {
    EXPECT(buffer_multiple({}) == 1);
    EXPECT(buffer_multiple({MethodShape{1, 1, 1, 1}}) == 1);
    // A RAVE-like model: the largest ratio, as all are powers of two.
    EXPECT(buffer_multiple({MethodShape{1, 1, 16, 2048}, MethodShape{16, 2048, 1, 1}, MethodShape{1, 1, 1, 1}}) ==
           2048);
    EXPECT(buffer_multiple({MethodShape{1, 3, 1, 1}, MethodShape{1, 4, 1, 1}}) == 12);  // the lcm, not the maximum
    EXPECT(buffer_multiple({MethodShape{1, 6, 1, 4}}) == 12);
    EXPECT(buffer_multiple({MethodShape{1, 1 << 20, 1, (1 << 20) - 1}}) == 1 << 30);  // capped
}

static void test_choose_buffer_size() {
    std::string note, error;
    auto choose = [&](int requested, int multiple) {
        note.clear();
        error.clear();
        return choose_buffer_size(requested, multiple, note, error);
    };
    EXPECT(choose(0, 1) == kDefaultBufferSize && note.empty() && error.empty());
    EXPECT(choose(0, 0) == kDefaultBufferSize && note.empty());  // a multiple below 1 counts as 1
    EXPECT(choose(0, 2048) == 2048 && note.empty());
    EXPECT(choose(0, 4096) == 4096 && note.empty());  // the multiple is the default: nothing to say
    EXPECT(choose(0, 3) == 2049 &&
           note == "the default buffer size 2048 is not a multiple of the model's ratios (3): using 2049");
    EXPECT(choose(512, 1) == 512 && note.empty());
    EXPECT(choose(1000, 3) == 1002 &&
           note == "buffer size 1000 is not a multiple of the model's ratios (3): using 1002");
    EXPECT(choose(100, 2048) == 2048 &&
           note == "buffer size 100 is not a multiple of the model's ratios (2048): using 2048");
    EXPECT(choose(kMaxBufferSize, 1) == kMaxBufferSize && error.empty());

    EXPECT(choose(-1, 1) == 0 && error == "buffer size must be a positive number of samples, got -1");
    EXPECT(choose(kMaxBufferSize + 1, 1) == 0 && error == "buffer size 131073 is too large (at most 131072)");
    EXPECT(choose(0, kMaxBufferSize * 2) == 0 &&
           error == "the model's ratios need a buffer of 262144 samples, more than nn~ allows (131072) [buffer.limit]");
}

// `text` as a JSON string.
static std::string json_string(const char* text) {
    std::string out = "\"";
    for (const char* p = text; *p; ++p) {
        const unsigned char c = static_cast<unsigned char>(*p);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += *p;
        } else if (c < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", c);
            out += b;
        } else {
            out += *p;
        }
    }
    return out + "\"";
}

static int dump_rules() {
    const char* verdicts[] = {"refuse", "warn", "hint"};
    std::string out = "{\"limits\": {";
    for (size_t i = 0; i < std::size(kLimits); ++i)
        out += (i ? ", " : "") + json_string(kLimits[i].name) + ": " + std::to_string(kLimits[i].value);
    out += "}, \"attribute_types\": [";
    for (int t = 0; t < kAttributeTypeCount; ++t) out += (t ? ", " : "") + json_string(kAttributeTypeNames[t]);
    out += "], \"rules\": [";
    for (int i = 0; i < kRuleCount; ++i)
        out += std::string(i ? ",\n" : "\n") + "{\"id\": " + json_string(kRules[i].id) +
               ", \"verdict\": " + json_string(verdicts[int(kRules[i].verdict)]) +
               ", \"message\": " + json_string(kRules[i].message) + "}";
    std::printf("%s]}\n", out.c_str());
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--dump-rules") == 0) return dump_rules();
    // `--choose-buffer-size <requested> <multiple>`: size, note and error on three lines, for
    // tests/kit/test_contract_spec.py to compare with the kit's choose_buffer_size.
    if (argc == 4 && std::strcmp(argv[1], "--choose-buffer-size") == 0) {
        std::string note, error;
        const int size = choose_buffer_size(std::atoi(argv[2]), std::atoi(argv[3]), note, error);
        std::printf("%d\n%s\n%s\n", size, note.c_str(), error.c_str());
        return 0;
    }
    test_limits();
    test_rule_table();
    test_rule_message();
    test_formatting();
    test_method_params();
    test_ratio_warnings();
    test_labels();
    test_attribute_types();
    test_buffer_multiple();
    test_choose_buffer_size();
    TEST_MAIN_END();
}
