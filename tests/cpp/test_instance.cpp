// nn::Instance, what every host adapter shares, driven through a recording HostPort as a host would:
// creation from arguments (errors and notes in the port), messages, the event drain, reshaping for
// another shape with the settings carried over, info, and setters on another thread while the main
// thread replaces the engine (the Max attribute setters' case: they must never reach an engine).
#include <torch/script.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "instance.h"

namespace fs = std::filesystem;

namespace {

struct Port final : nn::HostPort {
    std::vector<std::string> errors, warnings, posts, restarts;
    std::vector<std::pair<std::string, std::vector<nn::Atom>>> outputs;
    std::string folder;  // models are resolved here
    int method_changes = 0;
    void error(const std::string& t) override { errors.push_back(t); }
    void warning(const std::string& t) override { warnings.push_back(t); }
    void post(const std::string& t) override { posts.push_back(t); }
    void output(const std::string& k, const std::vector<nn::Atom>& v) override { outputs.emplace_back(k, v); }
    void restart(const std::string& why) override { restarts.push_back(why); }
    bool resolve(const std::string& name, std::string& path) override {
        path = folder + "/" + name + ".ts";
        if (fs::exists(path)) return true;
        errors.push_back("not found: " + name);
        return false;
    }
    bool read_array(const std::string& name, std::vector<float>& samples) override {
        if (name != "table") {
            errors.push_back("no array " + name);
            return false;
        }
        samples = {1.0f, 2.0f, 3.0f};
        return true;
    }
    void method_changed() override { ++method_changes; }
    bool any_error_has(const std::string& s) const {
        for (const auto& e : errors)
            if (e.find(s) != std::string::npos) return true;
        return false;
    }
    const std::vector<nn::Atom>* last_output(const std::string& key) const {
        for (auto it = outputs.rbegin(); it != outputs.rend(); ++it)
            if (it->first == key) return &it->second;
        return nullptr;
    }
};

std::string make_models() {
    const fs::path dir = fs::temp_directory_path() / "nn_test_instance";
    fs::create_directories(dir);
    torch::jit::Module m("m");
    m.register_buffer("forward_params", torch::tensor(std::vector<int64_t>{1, 1, 1, 1}, torch::kLong));
    m.register_buffer("wide_params", torch::tensor(std::vector<int64_t>{2, 1, 3, 1}, torch::kLong));
    m.define(
        "def forward(self, x):\n  return x * 0.5\n"
        "def wide(self, x):\n  return torch.cat([x[:, :1], x[:, :1], x[:, 1:]], 1)\n");
    m.save((dir / "half.ts").string());
    return dir.string();
}

bool wait_drained(nn::Instance& inst) {
    for (int i = 0; i < 2000; ++i) {
        if (!inst.drain()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
}

}  // namespace

int main() {
    Port port;
    port.folder = make_models();

    // Creation: argument errors, an impossible buffer size (the default is used), the model read once.
    nn::ObjectArgs args = nn::parse_object_args({nn::Atom::sym("half"), nn::Atom::sym("forward"), nn::Atom::num(0.5)});
    EXPECT(!args.errors.empty());
    nn::CreationModel cm = nn::Instance::open(port, args);
    EXPECT_MSG(port.errors.size() == args.errors.size(), "%zu errors", port.errors.size());
    EXPECT(cm.model.model && cm.inputs == 1 && cm.outputs == 1);
    {
        nn::ObjectArgs missing = nn::parse_object_args({nn::Atom::sym("nothere")});
        Port p2;
        p2.folder = port.folder;
        nn::CreationModel none = nn::Instance::open(p2, missing);
        EXPECT(!none.model.model && p2.any_error_has("not found: nothere"));
    }
    nn::Instance inst(port, {1, 1, 1}, args, std::move(cm), 44100);
    EXPECT(inst.engine().info() && inst.engine().method() == "forward");
    EXPECT(inst.shape() == (nn::Shape{1, 1, 1}));

    // Messages: their errors reach the port in nn~'s words; a prepared engine asks the host to restart.
    port.errors.clear();
    inst.bufsize(0);
    EXPECT_MSG(port.any_error_has("buffer size must be a positive number"), "%s",
               port.errors.empty() ? "" : port.errors[0].c_str());
    inst.engine().prepare(44100, 64);
    inst.bufsize(4096);
    EXPECT(port.restarts.size() == 1 && port.restarts[0].empty());
    inst.headroom(9);
    EXPECT(port.any_error_has("headroom"));
    inst.set({});
    EXPECT(port.any_error_has("usage: set <attribute> <value> ..."));
    inst.policy(nn::Atom::sym("sometimes"));
    EXPECT(port.errors.back().find("sometimes") != std::string::npos);
    inst.policy(nn::Atom::sym("silence"));
    EXPECT(inst.engine().controls()->policy.load() == static_cast<int>(nn::LatePolicy::Silence));
    inst.method("nomethod");
    EXPECT(port.any_error_has("nomethod") && port.method_changes == 1);

    // info: every line to the console and to the outlet, state first.
    port.outputs.clear();
    port.posts.clear();
    inst.info();
    EXPECT(!port.outputs.empty() && port.outputs[0].first == "state");
    EXPECT(port.posts.size() == port.outputs.size());
    const std::vector<nn::Atom>* pol = port.last_output("policy");
    EXPECT(pol && pol->size() == 1 && (*pol)[0].symbol == "silence");

    // An asynchronous load ends in the drain: "loaded" on the console and at the outlet, then the
    // host hears that the method may have changed its channel counts.
    inst.load("half", "wide");
    EXPECT(wait_drained(inst));
    const std::vector<nn::Atom>* loaded = port.last_output("loaded");
    EXPECT(loaded && loaded->size() == 2 && (*loaded)[1].symbol == "wide");
    EXPECT(port.method_changes == 2);
    EXPECT(inst.method_shape() == (nn::Shape{1, 2, 3}));
    inst.load("nothere", "");
    EXPECT(port.any_error_has("not found: nothere"));

    // Reshape: the new engine plays the same method with the same settings and shares the controls.
    inst.enable(false);
    EXPECT(inst.reshape({4, 2, 3}, 44100));
    EXPECT(inst.shape() == (nn::Shape{4, 2, 3}));
    EXPECT(inst.engine().method() == "wide" && inst.engine().host_inputs() == 2);
    EXPECT(!inst.engine().controls()->enabled.load());
    EXPECT(inst.engine().controls() == inst.controls());
    EXPECT(inst.engine().buffer_size() == 4096);

    // Setters on another thread (Max's attributes) while the main thread replaces the engine again and
    // again: they write the shared controls only, so every engine sees the last value and none is
    // touched while it is deleted (under the sanitizer builds this would be a use after free if they did).
    std::atomic<bool> stop{false};
    std::thread setter([&] {
        bool on = true;
        while (!stop.load()) {
            inst.controls()->enabled.store(on);
            inst.controls()->policy.store(on ? 1 : 2);
            on = !on;
        }
        inst.controls()->enabled.store(true);
        inst.controls()->policy.store(static_cast<int>(nn::LatePolicy::Hold));
    });
    for (int i = 0; i < 6; ++i) EXPECT(inst.reshape({1 + i % 3, 2, 3}, 44100));
    stop.store(true);
    setter.join();
    EXPECT(inst.engine().controls()->enabled.load());
    EXPECT(inst.engine().controls()->policy.load() == static_cast<int>(nn::LatePolicy::Hold));
    EXPECT(wait_drained(inst));
    TEST_MAIN_END();
}
