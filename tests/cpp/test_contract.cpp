// The model-file rules of nn_tilde/core/contract.* (docs/MODEL_FORMAT.md): the limits, the four
// `<method>_params` entries, ratio warnings, labels, attribute type codes and names, the buffer
// multiple and the buffer size chosen for a request. Every check names an exact value or message,
// so a changed rule fails here. torch-free: runs in every build.
#include <cstdint>
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

static void test_method_params() {
    EXPECT(check_method_params("forward", {1, 1, 1, 1}).empty());
    EXPECT(check_method_params("encode", {1, 1, 16, 2048}).empty());
    EXPECT(check_method_params("m", {kMaxChannels, kMaxParam, kMaxChannels, kMaxParam}).empty());

    // Four entries, counted before their values are looked at.
    EXPECT(
        check_method_params("decode", {16, 2048, 1}) ==
        "method 'decode': `decode_params` holds 3 values, expected 4 [in_channels, in_ratio, out_channels, out_ratio]");
    EXPECT(
        check_method_params("decode", {0, 0, 0, 0, 0}) ==
        "method 'decode': `decode_params` holds 5 values, expected 4 [in_channels, in_ratio, out_channels, out_ratio]");
    EXPECT(!check_method_params("m", {}).empty());

    // Positive integers up to kMaxParam, the first bad entry named.
    EXPECT(check_method_params("m", {1, 0, 1, 1}) ==
           "method 'm': in_ratio is 0; all four params must be positive integers (at most 1048576)");
    EXPECT(check_method_params("m", {-2, 1, 1, 1}) ==
           "method 'm': in_channels is -2; all four params must be positive integers (at most 1048576)");
    EXPECT(check_method_params("m", {1, 1, 1, kMaxParam + 1}) ==
           "method 'm': out_ratio is 1048577; all four params must be positive integers (at most 1048576)");
    EXPECT(check_method_params("m", {1, 1, 0, 1}).find("out_channels is 0") != std::string::npos);

    // At most kMaxChannels channels on either side.
    EXPECT(check_method_params("m", {kMaxChannels + 1, 1, 1, 1}) ==
           "method 'm': in_channels is 1025; nn~ accepts at most 1024 channels per method (check `m_params`: "
           "[in_channels, in_ratio, out_channels, out_ratio])");
    EXPECT(check_method_params("m", {1, 1, 5000, 1})
               .rfind("method 'm': out_channels is 5000; nn~ accepts at most 1024", 0) == 0);

    const MethodShape s = shape_from_params({3, 4, 5, 6});
    EXPECT(s.in_channels == 3 && s.in_ratio == 4 && s.out_channels == 5 && s.out_ratio == 6);
}

static void test_ratio_warnings() {
    EXPECT(ratio_warnings("m", MethodShape{1, 1, 1, 2048}).empty());
    EXPECT(ratio_warnings("m", MethodShape{1, 1024, 1, 1}).empty());
    const std::vector<std::string> one = ratio_warnings("m", MethodShape{1, 3, 1, 3});  // once per ratio
    EXPECT(one.size() == 1 &&
           one[0] ==
               "method 'm' has ratio 3, not a power of two: nn~ adapts its buffer size, the reference nn~ cannot");
    const std::vector<std::string> two = ratio_warnings("m", MethodShape{1, 3, 1, 5});
    EXPECT(two.size() == 2 && two[0].find("ratio 3,") != std::string::npos &&
           two[1].find("ratio 5,") != std::string::npos);
    EXPECT(ratio_warnings("m", MethodShape{1, 2, 1, 6}).size() == 1);
}

static void test_labels() {
    using Labels = std::optional<std::vector<std::string>>;
    EXPECT(check_labels("m_input_labels", 2, Labels{{"a", "b"}}).empty());
    EXPECT(check_labels("m_input_labels", 3, Labels{{"a", "b"}}) == "`m_input_labels` does not hold 3 labels; ignored");
    EXPECT(check_labels("m_output_labels", 1, std::nullopt) == "`m_output_labels` does not hold 1 labels; ignored");
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
    EXPECT(check_attribute_types("gain", {kFloat, 6}) ==
           "attribute 'gain' has an unknown type code (0..5 expected); ignored");
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
    EXPECT(choose(0, 4096) == 4096 &&
           note == "the default buffer size 2048 is not a multiple of the model's ratios (4096): using 4096");
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
           error == "the model's ratios need a buffer of 262144 samples, more than nn~ allows (131072)");
}

int main() {
    test_limits();
    test_method_params();
    test_ratio_warnings();
    test_labels();
    test_attribute_types();
    test_buffer_multiple();
    test_choose_buffer_size();
    TEST_MAIN_END();
}
