// The Linux builds of the real Max externals (nn~, mc.nn~, nn.info), loaded with dlopen into a mock
// of the Max API (mock_max.*) and driven as Max would: creation with arguments and @attributes,
// messages, dsp64 and perform64 with double vectors, multichannel inlet counts, assistance, the
// console and dictionaries. Audio is compared with models/demo.ts's forward method computed here
// (tanh(drive * x) / tanh(drive)), shifted by the latency the object reports.
//
//   test_max_mock <nn~ module> <mc.nn~ module> <nn.info module> <models dir> [<test models dir>]
//
// This exercises our adapter code on the SDK's declared API; it is not Max (docs/MAX.md).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../cpp/check.h"
#include "mock_max.h"

static double saturate(double x, double drive) { return std::tanh(float(x) * drive) / std::tanh(drive); }

// Renders `blocks` blocks of `n` samples through obj: ins[c] is a function of (channel, time).
template <class F>
static std::vector<std::vector<double>> render(void* obj, int in_channels, int out_channels, int n, int blocks,
                                               F signal, long t0 = 0) {
    std::vector<std::vector<double>> in(static_cast<size_t>(in_channels), std::vector<double>(static_cast<size_t>(n))),
        out(static_cast<size_t>(out_channels), std::vector<double>(static_cast<size_t>(n * blocks)));
    for (int b = 0; b < blocks; ++b) {
        for (int c = 0; c < in_channels; ++c)
            for (int i = 0; i < n; ++i) in[static_cast<size_t>(c)][static_cast<size_t>(i)] = signal(c, t0 + b * n + i);
        std::vector<double*> ip, op;
        for (auto& v : in) ip.push_back(v.data());
        std::vector<std::vector<double>> blk(static_cast<size_t>(out_channels),
                                             std::vector<double>(static_cast<size_t>(n)));
        for (auto& v : blk) op.push_back(v.data());
        mock::perform(obj, ip, op, n);
        for (int c = 0; c < out_channels; ++c)
            std::copy(blk[static_cast<size_t>(c)].begin(), blk[static_cast<size_t>(c)].end(),
                      out[static_cast<size_t>(c)].begin() + b * n);
    }
    return out;
}

static int latency_of(void* obj) {
    for (const auto& m : mock::outlet_log(obj, static_cast<int>(mock::outlet_types(obj).size()) - 1))
        if (m.atoms.size() == 2 && m.atoms[0] == "latency") return std::stoi(m.atoms[1]);
    return -1;
}

static double sine(int c, long t) { return 0.8 * std::sin(0.013 * double(t) * (c + 1) + c); }

static void test_nn_tilde() {
    void* x = mock::create("nn~", "demo forward 512 @policy wait");
    EXPECT(x != nullptr);
    if (!x) return;
    EXPECT(!mock::console_has("error", ""));
    EXPECT(mock::signal_inlets(x) == 1);
    EXPECT((mock::outlet_types(x) == std::vector<std::string>{"signal", ""}));
    EXPECT(mock::multichannel_outputs(x, 0) == -1);  // plain nn~ has no multichannel outlets
    EXPECT(mock::assist(x, true, 0).rfind("(signal) input; messages (load", 0) == 0);
    EXPECT(mock::assist(x, false, 0) == "(signal) saturated");
    EXPECT(mock::assist(x, false, 1).rfind("messages", 0) == 0);

    EXPECT(mock::dsp(x, 44100, 64, {1}));
    mock::send(x, "info");
    EXPECT(mock::outlet_has(x, 1, "buffer 512") && mock::outlet_has(x, 1, "policy wait"));
    const int L = latency_of(x);
    EXPECT_MSG(L == 1024, "latency %d", L);

    const int n = 64, blocks = 64;
    auto y = render(x, 1, 1, n, blocks, sine);
    double worst = 0;
    for (int t = 0; t < n * blocks; ++t) {
        const double want = t < L ? 0.0 : saturate(sine(0, t - L), 4.0);
        worst = std::max(worst, std::abs(y[0][static_cast<size_t>(t)] - want));
    }
    EXPECT_MSG(worst < 1e-5, "nn~ forward differs from tanh(4x)/tanh(4) by %g", worst);

    // An attribute of the model, set from another thread (Max's scheduler): deferred to the main thread.
    mock::send_from_other_thread(x, "set drive 8");
    EXPECT(!mock::console_has("error", ""));
    mock::pump();  // the main thread runs the deferred `set`
    // `get` runs on the worker after `set`: once its answer is out, the new drive is in place.
    mock::send(x, "get drive");
    EXPECT(mock::pump_until([&] { return mock::outlet_has(x, 1, "drive 8"); }, 5000));
    auto y2 = render(x, 1, 1, n, blocks, sine, long(n) * blocks);
    worst = 0;
    for (int t = n * blocks / 2; t < n * blocks; ++t) {  // after the buffers in flight
        const double want = saturate(sine(0, long(n) * blocks + t - L), 8.0);
        worst = std::max(worst, std::abs(y2[0][static_cast<size_t>(t)] - want));
    }
    EXPECT_MSG(worst < 1e-5, "after set drive 8 the output differs by %g", worst);

    // Max attributes: @policy through its message, bad values named in the console.
    mock::send(x, "policy hold");
    mock::send(x, "policy bogus");
    EXPECT(mock::console_has("error", "unknown policy 'bogus'"));
    mock::send(x, "enable 0");
    mock::send(x, "info");
    EXPECT(mock::outlet_has(x, 1, "policy hold") && mock::outlet_has(x, 1, "state disabled"));
    mock::send(x, "enable 1");

    // bufsize while DSP runs: re-prepared between two blocks (no DSP chain rebuild in Max).
    mock::send(x, "bufsize 1024");
    mock::send(x, "info");
    EXPECT(mock::outlet_has(x, 1, "buffer 1024") && mock::outlet_has(x, 1, "latency 2048"));
    mock::send(x, "bufsize -3");
    EXPECT(mock::console_has("error", "buffer size must be a positive number of samples, got -3"));
    // headroom: one more buffer of latency, applied the same way; out-of-range values are named.
    mock::send(x, "headroom 1");
    mock::send(x, "info");
    EXPECT(mock::outlet_has(x, 1, "headroom 1") && mock::outlet_has(x, 1, "latency 3072"));
    mock::send(x, "headroom 9");
    EXPECT(mock::console_has("error", "headroom must be a whole number of buffers from 0 to 8"));
    mock::send(x, "headroom 0");

    // Errors in the console, from the main thread (the mock checks object_error's thread).
    mock::send(x, "load nosuchmodel");
    EXPECT(mock::console_has("error", "model file 'nosuchmodel' not found"));
    mock::send(x, "set nosuch 1");
    EXPECT(mock::console_has("error", "unknown attribute 'nosuch'"));
    mock::send(x, "method encode");  // 2 outputs for 1 outlet: warned, extra output dropped
    EXPECT(mock::console_has("warn", "recreate the object"));
    mock::send(x, "stats");
    EXPECT(mock::outlet_has(x, 1, "stats blocks"));

    // load off the audio thread: the old model keeps playing until the new one is ready.
    mock::send(x, "load demo.ts decode");
    render(x, 1, 1, n, 4, sine);
    EXPECT(mock::pump_until([&] { return mock::outlet_has(x, 1, "loaded"); }, 20000));
    mock::send(x, "reload");
    EXPECT(mock::pump_until(
        [&] {
            int loaded = 0;
            for (const auto& m : mock::outlet_log(x, 1)) loaded += m.atoms[0] == "loaded";
            return loaded >= 2;
        },
        20000));
    EXPECT(!mock::console_has("error", "off the main thread"));
    mock::free_object(x);

    // A model that cannot be found still makes an object (1 in, 1 out), as in Pd.
    mock::clear_console();
    void* empty = mock::create("nn~", "missing");
    EXPECT(empty && mock::signal_inlets(empty) == 1 && mock::console_has("error", "'missing' not found"));
    if (empty) {
        EXPECT(mock::dsp(empty, 48000, 128, {1}));
        auto z = render(empty, 1, 1, 128, 4, sine);
        double peak = 0;
        for (double v : z[0]) peak = std::max(peak, std::abs(v));
        EXPECT(peak == 0.0);
        mock::free_object(empty);
    }
}

static void test_mc() {
    mock::clear_console();
    void* x = mock::create("mc.nn~", "demo forward 512 @chans 3");
    EXPECT(x != nullptr);
    if (!x) return;
    EXPECT(!mock::console_has("error", ""));
    EXPECT(mock::signal_inlets(x) == 1);
    EXPECT((mock::outlet_types(x) == std::vector<std::string>{"multichannelsignal", ""}));
    EXPECT(mock::multichannel_outputs(x, 0) == 3);
    EXPECT(mock::assist(x, true, 0).find("one channel per voice") != std::string::npos);

    // Three voices in a 3-channel cable: each is its own batch item.
    EXPECT(mock::dsp(x, 44100, 64, {3}));
    mock::send(x, "info");
    const int L = latency_of(x);
    EXPECT(L == 1024);
    EXPECT(mock::outlet_has(x, 1, "channels 1 1"));
    const int n = 64, blocks = 48;
    auto y = render(x, 3, 3, n, blocks, sine);
    double worst = 0;
    for (int v = 0; v < 3; ++v)
        for (int t = 0; t < n * blocks; ++t) {
            const double want = t < L ? 0.0 : saturate(sine(v, t - L), 4.0);
            worst = std::max(worst, std::abs(y[static_cast<size_t>(v)][static_cast<size_t>(t)] - want));
        }
    EXPECT_MSG(worst < 1e-5, "mc.nn~ voices differ by %g", worst);

    // A mono cable feeds every voice (wrapped); a stale 3-channel perform is refused with silence.
    EXPECT(mock::dsp(x, 44100, 64, {1}));
    auto stale = render(x, 3, 3, n, 2, sine);
    double peak = 0;
    for (auto& c : stale)
        for (double s : c) peak = std::max(peak, std::abs(s));
    EXPECT(peak == 0.0);
    auto z = render(x, 1, 3, n, blocks, sine, 100000);
    worst = 0;
    for (int v = 0; v < 3; ++v)
        for (int t = 3 * L; t < n * blocks; ++t)
            worst = std::max(worst, std::abs(z[static_cast<size_t>(v)][static_cast<size_t>(t)] -
                                             saturate(sine(0, 100000 + t - L), 4.0)));
    EXPECT_MSG(worst < 1e-5, "mono cable into mc.nn~ differs by %g", worst);

    mock::send(x, "chans 4");
    EXPECT(mock::console_has("error", "@chans is fixed when the object is created"));
    EXPECT(mock::multichannel_outputs(x, 0) == 3);
    mock::free_object(x);
}

// Without @chans, mc.nn~'s voices follow the widest incoming cable at each DSP start (as Pd's nn~ -v):
// 2 voices, then 4, each voice its own batch item, without retyping the box.
static void test_mc_follows_cables() {
    mock::clear_console();
    void* x = mock::create("mc.nn~", "demo forward 512");
    EXPECT(x != nullptr);
    if (!x) return;
    EXPECT(!mock::console_has("error", ""));
    for (int voices : {2, 4}) {
        EXPECT(mock::dsp(x, 44100, 64, {voices}));
        EXPECT(mock::multichannel_outputs(x, 0) == voices);
        mock::send(x, "info");
        const int L = latency_of(x);
        const int n = 64, blocks = 48;
        auto y = render(x, voices, voices, n, blocks, sine);
        double worst = 0;
        for (int v = 0; v < voices; ++v)
            for (int t = 0; t < n * blocks; ++t) {
                const double want = t < L ? 0.0 : saturate(sine(v, t - L), 4.0);
                worst = std::max(worst, std::abs(y[static_cast<size_t>(v)][static_cast<size_t>(t)] - want));
            }
        EXPECT_MSG(worst < 1e-5, "mc.nn~ following a %d-channel cable differs by %g", voices, worst);
    }
    EXPECT(!mock::console_has("error", ""));
    mock::free_object(x);
}

// A buffer-typed model attribute takes a buffer~'s first channel (bufattr in tests/support/plain_models.py).
static void test_buffer_attribute() {
    mock::clear_console();
    void* x = mock::create("nn~", "bufattr 256");
    EXPECT(x != nullptr);
    if (!x) return;
    EXPECT(!mock::console_has("error", ""));
    EXPECT(mock::dsp(x, 44100, 64, {1}));
    // Two interleaved channels: the first has mean |x| = 0.375, the second (ignored) 9.
    mock::add_buffer("ir", {0.5f, 9.0f, -0.5f, 9.0f, 0.25f, 9.0f, -0.25f, 9.0f}, 2);
    mock::send(x, "set impulse ir");
    mock::send(x, "get impulse");  // answered after the setter ran on the worker
    // the model reports the length and rate of what it received: the first channel's 4 samples
    EXPECT(mock::pump_until([&] { return mock::outlet_has(x, 1, "impulse samples=4,sr=44100"); }, 5000));
    const int n = 64, blocks = 32, L = 512;
    auto y = render(x, 1, 1, n, blocks, sine);
    double worst = 0;
    for (int t = 3 * L; t < n * blocks; ++t)
        worst = std::max(worst, std::abs(y[0][static_cast<size_t>(t)] - 0.375 * float(sine(0, t - L))));
    EXPECT_MSG(worst < 1e-6, "buffer attribute: output differs from 0.375 x by %g", worst);
    mock::send(x, "set impulse nosuch");
    EXPECT(mock::console_has("error", "no buffer~ named 'nosuch'"));
    mock::free_object(x);
}

static void test_info() {
    mock::clear_console();
    void* x = mock::create("nn.info", "demo");
    EXPECT(x != nullptr);
    if (!x) return;
    EXPECT((mock::outlet_types(x) == std::vector<std::string>{"dictionary", ""}));
    mock::send(x, "bang");  // reads the creation argument on a helper thread
    EXPECT(mock::pump_until([&] { return !mock::outlet_log(x, 0).empty(); }, 20000));
    EXPECT(mock::outlet_has(x, 1, "samplerate 44100"));
    EXPECT(mock::outlet_has(x, 1, "methods forward encode decode"));
    EXPECT(mock::outlet_has(x, 1, "method forward 1 1 1 1"));
    EXPECT(mock::outlet_has(x, 1, "method encode 1 1 2 512"));
    EXPECT(mock::outlet_has(x, 1, "outputs encode (signal) loudness (rms)"));
    EXPECT(mock::outlet_has(x, 1, "latency forward 0"));
    EXPECT(mock::outlet_has(x, 1, "attribute drive float"));
    EXPECT(mock::outlet_has(x, 1, "metadata name demo"));  // models/make_demo.py's metadata
    const auto dict_msgs = mock::outlet_log(x, 0);
    EXPECT(!dict_msgs.empty() && dict_msgs.back().atoms.size() == 2 && dict_msgs.back().atoms[0] == "dictionary");
    if (!dict_msgs.empty() && dict_msgs.back().atoms.size() == 2) {
        const std::string json = mock::dictionary_json(dict_msgs.back().atoms[1]);
        EXPECT_MSG(
            json.find("\"forward\": {\"inputs\": {\"channels\": 1, \"ratio\": 1, \"labels\": [\"(signal) input\"]}") !=
                std::string::npos,
            "dictionary: %s", json.c_str());
        EXPECT(json.find("\"attributes\": {\"drive\": {\"types\": [\"float\"]}}") != std::string::npos);
        EXPECT(json.find("\"samplerate\": 44100") != std::string::npos);
        EXPECT(json.find("\"licence\": \"CC0-1.0\"") != std::string::npos);
    }
    mock::send(x, "read nosuch");
    EXPECT(mock::console_has("error", "'nosuch' not found"));
    mock::send(x, "read demo.ts");
    EXPECT(mock::pump_until([&] { return mock::outlet_log(x, 0).size() >= 2; }, 20000));
    EXPECT(!mock::console_has("error", "off the main thread"));
    mock::free_object(x);
}

int main(int argc, char** argv) {
    if (argc != 5 && argc != 6) {
        std::fprintf(stderr, "usage: test_max_mock <nn~> <mc.nn~> <nn.info> <models dir> [<test models dir>]\n");
        return 2;
    }
    std::vector<std::string> search{argv[4]};
    if (argc == 6) search.push_back(argv[5]);
    mock::init(search, 44100);
    for (int i = 1; i <= 3; ++i) {
        std::string error;
        if (!mock::load_external(argv[i], error)) {
            std::fprintf(stderr, "cannot load %s: %s\n", argv[i], error.c_str());
            return 1;
        }
    }
    EXPECT(mock::console_has("post", "nn~ " NN_VERSION ": neural audio models in Max"));  // the VERSION file
    test_nn_tilde();
    test_mc();
    test_mc_follows_cables();
    if (argc == 6) test_buffer_attribute();
    test_info();
    if (g_failures)
        for (const std::string& l : mock::console()) std::fprintf(stderr, "  console: %s\n", l.c_str());
    TEST_MAIN_END();
}
