// The host-neutral half of the Pd and Max adapters (nn_tilde/core/host.*): argument parsing, policy
// names, model file candidates and the package's models/ folder, attribute value conversion,
// assistance strings, model-info lines and dictionary, the mc.nn~ channel routing (also end to end through a StreamEngine with batch items),
// and the perform gate that keeps Max's audio thread out while dsp64 re-prepares (hammered from two
// threads; ThreadSanitizer checks it in the thread-sanitized build). torch-free: runs in every build.
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "host.h"

using namespace nn;

static std::vector<Atom> atoms(std::initializer_list<Atom> a) { return std::vector<Atom>(a); }

static void test_args() {
    ObjectArgs a = parse_object_args(atoms({Atom::sym("demo"), Atom::sym("encode"), Atom::num(4096)}));
    EXPECT(a.model == "demo" && a.method == "encode" && a.buffer_size == 4096 && a.errors.empty());

    a = parse_object_args(atoms({Atom::sym("demo.ts"), Atom::num(1024), Atom::sym("decode")}));
    EXPECT(a.model == "demo.ts" && a.method == "decode" && a.buffer_size == 1024 && a.errors.empty());

    a = parse_object_args({});
    EXPECT(a.model.empty() && a.method.empty() && a.buffer_size == 0 && a.errors.empty());

    // Max attribute arguments end the positional list: "@policy hold" is not a method.
    const auto with_attrs =
        atoms({Atom::sym("demo"), Atom::sym("@policy"), Atom::sym("hold"), Atom::sym("@chans"), Atom::num(4)});
    EXPECT(positional_count(with_attrs) == 1);
    a = parse_object_args(with_attrs);
    EXPECT(a.model == "demo" && a.method.empty() && a.buffer_size == 0 && a.errors.empty());
    EXPECT(positional_count(atoms({Atom::sym("@")})) == 1);  // a lone "@" is a symbol, not an attribute

    for (double bad : {-0.5, 0.0, -3.0, 1e10, 100.5, double(kMaxBufferSize) + 1, std::nan("")}) {
        a = parse_object_args(atoms({Atom::sym("demo"), Atom::num(bad)}));
        EXPECT_MSG(a.buffer_size == 0 && a.errors.size() == 1, "bad size %g", bad);
    }
    a = parse_object_args(atoms({Atom::sym("demo"), Atom::num(1e10)}));
    EXPECT(!a.errors.empty() &&
           a.errors[0] == "buffer size 10000000000 is too large (at most 131072); using the default");
    a = parse_object_args(atoms({Atom::sym("demo"), Atom::num(-0.5)}));
    EXPECT(!a.errors.empty() &&
           a.errors[0] == "buffer size must be a whole number of samples, got -0.5; using the default");

    a = parse_object_args(atoms({Atom::sym("m"), Atom::sym("f"), Atom::sym("x"), Atom::num(64), Atom::num(128)}));
    EXPECT(a.model == "m" && a.method == "f" && a.buffer_size == 64 && a.errors.size() == 1);
    EXPECT(a.errors[0] == "extra creation arguments ignored: x 128 (usage: nn~ <model> [<method>] [<buffer size>])");
    EXPECT(folder_error("/m") == "'/m' is a folder, not a model file: give the path of a .ts file [file.folder]");
    EXPECT(is_folder("/") && !is_folder("") && !is_folder("/no/such/dir/nn"));
    EXPECT(info_text({"methods", {Atom::sym("a"), Atom::num(0.5)}}) == "methods a 0.5");
    EXPECT(info_text({"busy", {}}) == "busy");

    int n = 0;
    std::string e;
    EXPECT(parse_buffer_size(2048, n, e) && n == 2048);
    EXPECT(parse_buffer_size(kMaxBufferSize, n, e) && n == kMaxBufferSize);
    EXPECT(!parse_buffer_size(0, n, e) && e == "buffer size must be a positive number of samples, got 0");
    EXPECT(!parse_buffer_size(-1e10, n, e) &&
           e == "buffer size must be a positive number of samples, got -10000000000");
}

static void test_policy_and_files() {
    LatePolicy p = LatePolicy::Wait;
    std::string e;
    EXPECT(parse_policy(Atom::sym("hold"), p, e) && p == LatePolicy::Hold);
    EXPECT(parse_policy(Atom::sym("silence"), p, e) && p == LatePolicy::Silence);
    EXPECT(parse_policy(Atom::num(0), p, e) && p == LatePolicy::Wait);
    EXPECT(parse_policy(Atom::num(2), p, e) && p == LatePolicy::Hold);
    EXPECT(!parse_policy(Atom::sym("drop"), p, e) && e == "unknown policy 'drop': use wait, silence or hold");
    EXPECT(!parse_policy(Atom::num(3), p, e));
    EXPECT(!parse_policy(Atom::num(0.5), p, e));
    for (LatePolicy q : {LatePolicy::Wait, LatePolicy::Silence, LatePolicy::Hold}) {
        EXPECT(parse_policy(Atom::sym(policy_name(q)), p, e) && p == q);
    }

    EXPECT((model_file_candidates("demo") == std::vector<std::string>{"demo.ts", "demo"}));
    EXPECT((model_file_candidates("demo.ts") == std::vector<std::string>{"demo.ts"}));
    EXPECT((model_file_candidates("a.pt") == std::vector<std::string>{"a.pt.ts", "a.pt"}));
    EXPECT(is_absolute_path("/home/x/demo.ts"));
    EXPECT(is_absolute_path("C:\\models\\demo.ts"));
    EXPECT(is_absolute_path("c:/models/demo.ts"));
    EXPECT(is_absolute_path("\\\\server\\share\\demo.ts"));
    EXPECT(!is_absolute_path("models/demo.ts"));
    EXPECT(!is_absolute_path("demo"));
    EXPECT(!is_absolute_path(""));
}

// The package's models/ folder (package_model_file): "<name>.ts" before "<name>", files only.
static void test_package_models() {
    namespace fs = std::filesystem;
    const fs::path pkg = fs::temp_directory_path() / ("nn_test_package_" + std::to_string(std::random_device{}()));
    fs::create_directories(pkg / "models" / "folder.ts");  // a folder is never a model file
    std::ofstream(pkg / "models" / "demo.ts") << "x";
    std::ofstream(pkg / "models" / "demo") << "x";
    std::ofstream(pkg / "models" / "plain") << "x";
    const std::string p = pkg.string();
    EXPECT(package_model_file(p, "demo") == p + "/models/demo.ts");
    EXPECT(package_model_file(p, "demo.ts") == p + "/models/demo.ts");
    EXPECT(package_model_file(p, "plain") == p + "/models/plain");
    EXPECT(package_model_file(p, "folder").empty());
    EXPECT(package_model_file(p, "missing").empty());
    EXPECT(package_model_file(p, (pkg / "models" / "demo.ts").string()).empty());  // absolute: not here
    EXPECT(package_model_file("", "demo").empty());
    fs::remove_all(pkg);
}

static void test_attributes() {
    AttributeInfo attr{"mix", {kBool, kInt, kFloat, kStr, kBuffer, kTensor}};
    EXPECT(!wants_array(&attr, 0) && !wants_array(&attr, 3));
    EXPECT(wants_array(&attr, 4) && wants_array(&attr, 5));
    EXPECT(!wants_array(&attr, 6) && !wants_array(nullptr, 0));

    auto v = attribute_values(&attr, atoms({Atom::sym("on"), Atom::num(3), Atom::num(0.25), Atom::num(2),
                                            Atom::sym("buf"), Atom::sym("arr"), Atom::num(9)}));
    EXPECT(v.size() == 7);
    EXPECT(!v[0].atom.is_symbol && v[0].atom.number == 1);
    EXPECT(!v[1].atom.is_symbol && v[1].atom.number == 3);
    EXPECT(v[2].atom.number == 0.25);
    EXPECT(v[3].atom.is_symbol && v[3].atom.symbol == "2");  // a number typed for a str element
    EXPECT(v[4].atom.is_symbol && v[4].atom.symbol == "buf" && v[4].samples.empty());
    EXPECT(!v[6].atom.is_symbol && v[6].atom.number == 9);  // extra values pass through: the engine names the count
    AttributeInfo flag{"flag", {kBool}};
    EXPECT(attribute_values(&flag, atoms({Atom::sym("false")}))[0].atom.number == 0);
    EXPECT(attribute_values(&flag, atoms({Atom::sym("true")}))[0].atom.number == 1);
    EXPECT(attribute_values(&flag, atoms({Atom::sym("maybe")}))[0].atom.is_symbol);  // left for the engine's error
    EXPECT(attribute_values(nullptr, atoms({Atom::num(1), Atom::sym("x")})).size() == 2);
}

static ModelInfo demo_info() {
    ModelInfo info;
    info.path = "/models/demo.ts";
    info.model_sample_rate = 44100;
    MethodInfo f{"forward", MethodShape{1, 1, 1, 1}, {"(signal) input"}, {"(signal) saturated"}};
    f.latency = 0;
    MethodInfo enc{
        "encode", MethodShape{1, 1, 2, 512}, {"(signal) input"}, {"(signal) loudness", "(signal) brightness"}};
    MethodInfo dec{"decode", MethodShape{2, 512, 1, 1}, {}, {}};
    info.methods = {f, enc, dec};
    info.attributes = {AttributeInfo{"drive", {kFloat}}, AttributeInfo{"pair", {kInt, kStr}}};
    info.torch_version = "2.13.0";
    info.metadata = {{"author", "nn~ project"}, {"torch_version", "2.13.0"}};
    info.verified = {"forward"};
    info.warnings = {"a \"quoted\" warning"};
    return info;
}

// The tree as compact JSON, to compare a whole Dict with one expected string (what Max's dictionary
// would hold). Strings escape only the quote and the backslash: the test's values need no more.
static std::string compact_json(const Dict& d) {
    auto str = [](const std::string& s) {
        std::string o = "\"";
        for (char c : s) o += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
        return o + "\"";
    };
    auto atom = [&](const Atom& a) { return a.is_symbol ? str(a.symbol) : format_number(a.number); };
    std::string o = "{";
    for (size_t i = 0; i < d.entries.size(); ++i) {
        const Dict::Entry& e = d.entries[i];
        o += (i ? "," : "") + str(e.key) + ":";
        if (e.child) {
            o += compact_json(*e.child);
        } else if (e.array || e.atoms.size() != 1) {
            o += "[";
            for (size_t k = 0; k < e.atoms.size(); ++k) o += (k ? "," : "") + atom(e.atoms[k]);
            o += "]";
        } else {
            o += atom(e.atoms[0]);
        }
    }
    return o + "}";
}

static void test_info() {
    const ModelInfo info = demo_info();
    const auto lines = model_info_lines(info);
    std::vector<std::string> text;
    for (const auto& l : lines) text.push_back(l.key + (l.values.empty() ? "" : " " + atoms_to_text(l.values)));
    const std::vector<std::string> want{
        "path /models/demo.ts",
        "samplerate 44100",
        "methods forward encode decode",
        "method forward 1 1 1 1",
        "inputs forward (signal) input",
        "outputs forward (signal) saturated",
        "latency forward 0",
        "method encode 1 1 2 512",
        "inputs encode (signal) input",
        "outputs encode (signal) loudness (signal) brightness",
        "method decode 2 512 1 1",
        "attribute drive float",
        "attribute pair int str",
        "metadata author nn~ project",
        "metadata torch_version 2.13.0",
        "verified forward",
        "warning a \"quoted\" warning",
    };
    EXPECT_MSG(text == want, "got %zu lines", text.size());
    for (size_t i = 0; i < std::min(text.size(), want.size()); ++i)
        EXPECT_MSG(text[i] == want[i], "line %zu: '%s'", i, text[i].c_str());
    // Labels stay one atom each (they contain spaces): a host outputs them as symbols.
    EXPECT(lines[4].values.size() == 2 && lines[4].values[1].symbol == "(signal) input");

    const Dict d = model_info_dict(info);
    const Dict::Entry* methods = d.find("methods");
    EXPECT(methods && methods->child && methods->child->entries.size() == 3);
    const std::string json = compact_json(d);
    const std::string want_json =
        "{\"path\":\"/models/demo.ts\",\"samplerate\":44100,\"methods\":{"
        "\"forward\":{\"inputs\":{\"channels\":1,\"ratio\":1,\"labels\":[\"(signal) input\"]},"
        "\"outputs\":{\"channels\":1,\"ratio\":1,\"labels\":[\"(signal) saturated\"]},\"latency\":0},"
        "\"encode\":{\"inputs\":{\"channels\":1,\"ratio\":1,\"labels\":[\"(signal) input\"]},"
        "\"outputs\":{\"channels\":2,\"ratio\":512,\"labels\":[\"(signal) loudness\",\"(signal) brightness\"]}},"
        "\"decode\":{\"inputs\":{\"channels\":2,\"ratio\":512,\"labels\":[]},\"outputs\":{\"channels\":1,\"ratio\":1,"
        "\"labels\":[]}}},"
        "\"attributes\":{\"drive\":{\"types\":[\"float\"]},\"pair\":{\"types\":[\"int\",\"str\"]}},"
        "\"buffers\":[],\"metadata\":{\"author\":\"nn~ "
        "project\",\"torch_version\":\"2.13.0\"},\"verified\":[\"forward\"],"
        "\"warnings\":[\"a \\\"quoted\\\" warning\"]}";
    EXPECT_MSG(json == want_json, "json: %s", json.c_str());
    EXPECT(compact_json(Dict()) == "{}");
    ModelInfo old_file = info;  // a file whose metadata holds only torch_version (or a host that read only it)
    old_file.metadata.clear();
    EXPECT(compact_json(model_info_dict(old_file)).find("\"metadata\":{\"torch_version\":\"2.13.0\"}") !=
           std::string::npos);

    EXPECT(format_number(2) == "2" && format_number(0.5) == "0.5" && format_number(-3) == "-3");
}

static void test_assist() {
    const ModelInfo info = demo_info();
    const MethodInfo& enc = info.methods[1];
    EXPECT(inlet_assist(&enc, 0, false).rfind("(signal) input; messages (load", 0) == 0);
    EXPECT(inlet_assist(&info.methods[2], 1, false) == "(signal) input 2");
    EXPECT(
        inlet_assist(nullptr, 0, true).rfind("(signal) input 1 [multichannel: one channel per voice]; messages", 0) ==
        0);
    EXPECT(outlet_assist(&enc, 1, 2, false) == "(signal) brightness");
    EXPECT(outlet_assist(&enc, 0, 2, true) == "(signal) loudness [multichannel: one channel per voice]");
    EXPECT(outlet_assist(&enc, 2, 2, false).rfind("messages", 0) == 0);
    EXPECT(outlet_assist(nullptr, 0, 1, false) == "(signal) output 1");
}

static void test_router_mapping() {
    ChannelRouter r;
    // 3 voices, model with 2 inputs and 2 outputs; inlet 0 has a 1-channel cable, inlet 1 a 2-channel one.
    EXPECT(r.prepare(3, 2, 2, {1, 2}, 64) == 3);
    EXPECT(r.host_input_channels() == 3 && r.host_output_channels() == 6);
    EXPECT(r.source_of(0, 0) == 0 && r.source_of(1, 0) == 0 && r.source_of(2, 0) == 0);  // mono feeds every voice
    EXPECT(r.source_of(0, 1) == 1 && r.source_of(1, 1) == 2 && r.source_of(2, 1) == 1);  // wrapped: voice 2 reads ch 0
    EXPECT(r.source_of(3, 0) == -1 && r.source_of(0, 2) == -1);
    EXPECT(r.destination_of(0, 0) == 0 && r.destination_of(2, 0) == 2 && r.destination_of(0, 1) == 3 &&
           r.destination_of(2, 1) == 5);

    // Wider cables than voices: extra channels are ignored; missing entries count as one channel.
    EXPECT(r.prepare(2, 3, 1, {4}, 16) == 6);
    EXPECT(r.source_of(0, 0) == 0 && r.source_of(1, 0) == 1 && r.source_of(0, 1) == 4 && r.source_of(1, 1) == 4 &&
           r.source_of(1, 2) == 5);

    // gather/scatter convert doubles <-> floats.
    r.prepare(2, 1, 2, {2}, 8);
    std::vector<double> a(8), b(8);
    for (int i = 0; i < 8; ++i) {
        a[i] = i * 0.5;
        b[i] = -i;
    }
    const double* ins[] = {a.data(), b.data()};
    const float* const* e = r.gather(ins, 8);
    EXPECT(e[0][3] == 1.5f && e[1][3] == -3.0f);
    float* const* eo = r.engine_outputs();
    for (int k = 0; k < 4; ++k)
        for (int i = 0; i < 8; ++i) eo[k][i] = float(k * 100 + i);
    std::vector<std::vector<double>> outs(4, std::vector<double>(8));
    double* op[] = {outs[0].data(), outs[1].data(), outs[2].data(), outs[3].data()};
    r.scatter(op, 8);
    // engine (item 0, ch 0)=0, (0,1)=1, (1,0)=2, (1,1)=3 -> host outlet-major: o0v0, o0v1, o1v0, o1v1
    EXPECT(outs[0][5] == 5 && outs[1][5] == 205 && outs[2][5] == 105 && outs[3][5] == 305);
}

// A per-item model: out[b][0] = in[b][0] * (b + 1) + in[b][1]. Shows that batch items stay apart.
class ItemModel final : public Processor {
public:
    MethodShape shape() const override { return {2, 1, 1, 1}; }
    bool process(const float* in, int batch, int fin, float* out, int fout, std::string&) override {
        for (int b = 0; b < batch; ++b)
            for (int f = 0; f < fout; ++f)
                out[b * fout + f] = in[(b * 2) * fin + f] * float(b + 1) + in[(b * 2 + 1) * fin + f];
        return true;
    }
};

static void test_router_through_engine() {
    const int voices = 3, B = 256, block = 64, T = B * 8;
    StreamEngine eng(voices, 2, 1);
    eng.prepare(B, block);
    eng.post(make_task([](WorkerContext& ctx) { ctx.processor = std::make_unique<ItemModel>(); }));
    eng.sync();  // as Engine::load does: the first buffer is computed by this processor
    ChannelRouter r;
    r.prepare(voices, 2, 1, {1, voices}, block);  // inlet 0: mono, inlet 1: one channel per voice
    std::vector<std::vector<double>> in(1 + voices, std::vector<double>(T)), out(voices, std::vector<double>(T));
    for (int t = 0; t < T; ++t) {
        in[0][t] = std::sin(t * 0.01);
        for (int v = 0; v < voices; ++v) in[1 + v][t] = 0.001 * t * (v + 1);
    }
    for (int off = 0; off < T; off += block) {
        const double* ip[1 + voices];
        double* op[voices];
        for (int k = 0; k < 1 + voices; ++k) ip[k] = in[k].data() + off;
        for (int k = 0; k < voices; ++k) op[k] = out[k].data() + off;
        eng.process(r.gather(ip, block), r.engine_outputs(), block);
        r.scatter(op, block);
    }
    const int L = eng.latency();
    EXPECT(L == 2 * B);
    double worst = 0;
    for (int v = 0; v < voices; ++v)
        for (int t = L; t < T; ++t) {
            const double want = float(float(in[0][t - L]) * float(v + 1) + float(in[1 + v][t - L]));
            worst = std::max(worst, std::abs(out[v][t] - want));
        }
    EXPECT_MSG(worst < 1e-6, "mc routing through the engine differs by %g", worst);
    for (int v = 0; v < voices; ++v) EXPECT(out[v][L - 1] == 0.0);  // silent before the latency
}

// What nn~'s perform64 (nn_tilde/max) does around the engine, as one nonblocking function: in the
// RealtimeSanitizer build (build-rtsan) any allocation, lock or blocking call reached from here aborts
// the test, and clang's -Wfunction-effects checks the callees' annotations at compile time.
static void max_like_perform(PerformGate& gate, ChannelRouter& r, StreamEngine& eng, const double* const* ins,
                             double* const* outs, int n) noexcept NN_NONBLOCKING {
    if (!gate.try_enter()) return;
    eng.process_live(r.gather(ins, n), r.engine_outputs(), n);
    r.scatter(outs, n);
    gate.leave();
}

static void test_live_perform_path() {
    const int voices = 2, B = 256, block = 64;
    StreamEngine eng(voices, 2, 1);
    eng.set_policy(LatePolicy::Silence);
    eng.prepare(B, block);
    eng.post(make_task([](WorkerContext& ctx) { ctx.processor = std::make_unique<ItemModel>(); }));
    eng.sync();
    ChannelRouter r;
    r.prepare(voices, 2, 1, {1, 2}, block);
    PerformGate gate;
    gate.open();
    std::vector<double> a(block, 0.25), b(block, 0.5), y0(block), y1(block);
    const double* ins[] = {a.data(), b.data(), b.data()};
    double* outs[] = {y0.data(), y1.data()};
    double peak = 0;
    for (int k = 0; k < 400; ++k) {
        max_like_perform(gate, r, eng, ins, outs, block);
        if (k % 16 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // let the worker keep up
        peak = std::max(peak, y1[block - 1]);
    }
    EXPECT_MSG(std::abs(peak - 1.0) < 1e-6, "voice 1 = 0.25 * 2 + 0.5 = 1, got %g", peak);
}

static void test_gate() {
    PerformGate g;
    EXPECT(!g.is_open());  // closed until the first dsp
    EXPECT(!g.try_enter());
    g.open();
    EXPECT(g.is_open() && g.try_enter());
    g.leave();
    g.close();
    EXPECT(!g.try_enter());

    // Hammer: the "audio thread" reads a plain (non-atomic) buffer inside the gate; the "main thread"
    // rewrites it with the gate closed. A perform that ran concurrently with a rewrite would see a torn
    // buffer (and ThreadSanitizer would report the race in the thread-sanitized build).
    std::vector<int> shared(256, 0);
    std::atomic<bool> stop{false};
    std::atomic<long> entered{0}, torn{0};
    g.open();
    std::thread audio([&] {
        while (!stop.load(std::memory_order_relaxed)) {
            if (!g.try_enter()) continue;
            const int first = shared[0];
            for (int v : shared)
                if (v != first) torn.fetch_add(1, std::memory_order_relaxed);
            entered.fetch_add(1, std::memory_order_relaxed);
            g.leave();
        }
    });
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    int rounds = 0;
    while (std::chrono::steady_clock::now() < until) {
        g.close();
        for (auto& v : shared) v = rounds;  // would race with a perform inside
        g.open();
        ++rounds;
        std::this_thread::yield();
    }
    stop = true;
    audio.join();
    EXPECT_MSG(torn.load() == 0, "%ld torn reads", torn.load());
    EXPECT(entered.load() > 0 && rounds > 0);
}

int main() {
    test_args();
    test_policy_and_files();
    test_package_models();
    test_attributes();
    test_info();
    test_assist();
    test_router_mapping();
    test_router_through_engine();
    test_live_perform_path();
    test_gate();
    TEST_MAIN_END();
}
