// The torch-backed engine against a direct call of the same TorchScript method: models are built
// here with torch::jit::Module::define (no Python), saved, loaded through nn::Engine and streamed
// with random host block sizes; the output must equal the direct call shifted by latency().
// Also: contract errors are reported with their cause, a method switch takes effect, and the
// load-time calls leave the model's state as loaded.
#include <torch/script.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "engine.h"

namespace fs = std::filesystem;

static std::string save_model(const std::string& name, const std::vector<int64_t>& params, const std::string& code,
                              const std::string& method = "forward") {
    torch::jit::Module m("m");
    if (!params.empty()) m.register_buffer(method + "_params", torch::tensor(params, torch::kLong));
    m.define(code);
    const std::string path = (fs::temp_directory_path() / ("nn_test_" + name + ".ts")).string();
    m.save(path);
    return path;
}

static std::vector<float> stream(nn::Engine& eng, const std::vector<float>& x, int total, std::mt19937& rng) {
    std::vector<float> y(static_cast<size_t>(total)), in(8192), out(8192);
    std::uniform_int_distribution<int> blk(1, 1024);
    for (int t = 0; t < total;) {
        const int n = std::min(total - t, blk(rng));
        for (int i = 0; i < n; ++i) in[i] = t + i < static_cast<int>(x.size()) ? x[t + i] : 0.0f;
        const float* ip[] = {in.data()};
        float* op[] = {out.data()};
        eng.process(ip, op, n);
        std::copy(out.begin(), out.begin() + n, y.begin() + t);
        t += n;
    }
    return y;
}

int main() {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1, 1);
    // A non-trivial method: a cumulative sum within each buffer plus a tanh (its output depends on
    // buffer boundaries, so misaligned buffers are caught).
    const std::string path = save_model("cumsum", {1, 1, 1, 1},
                                        "def forward(self, x):\n  return torch.tanh(torch.cumsum(x, -1) * 0.1)\n"
                                        "def double(self, x):\n  return x * 2.0\n");
    {
        // `double` lacks _params: it is not a method (only `forward` is discovered)
        nn::LoadResult lr = nn::load_model(path);
        EXPECT_MSG(lr.error.empty(), "%s", lr.error.c_str());
        EXPECT(lr.info && lr.info->methods.size() == 1 && lr.info->methods[0].name == "forward");

        nn::Engine eng(1, 1, 1);
        std::string err, note;
        eng.set_buffer_size(512, err, note);
        std::vector<std::string> warnings;
        EXPECT(eng.load(std::move(lr), "", 44100, err, warnings));
        eng.prepare(44100, 1024);
        const int B = eng.buffer_size(), L = eng.latency();
        EXPECT(B == 512);
        EXPECT(L == 512 * 3);  // max block 1024 > B: L = B * (1 + ceil(1024 / 512))
        std::vector<float> x(20000);
        for (auto& v : x) v = u(rng);
        const std::vector<float> y = stream(eng, x, 20000 + L, rng);
        torch::jit::Module m = torch::jit::load(path);
        double worst = 0;
        for (int k = 0; (k + 1) * B <= 20000; ++k) {
            at::Tensor in = torch::from_blob(x.data() + k * B, {1, 1, B}, torch::kFloat).clone();
            at::Tensor ref = m.forward({in}).toTensor().contiguous();
            for (int i = 0; i < B; ++i)
                worst = std::max(worst, double(std::abs(ref.data_ptr<float>()[i] - y[k * B + i + L])));
        }
        EXPECT_MSG(worst == 0.0, "max difference %g", worst);
    }
    {
        nn::LoadResult lr = nn::load_model(save_model("noparams", {}, "def forward(self, x):\n  return x\n"));
        EXPECT(lr.error.find("declares no method") != std::string::npos);
        lr = nn::load_model(save_model("threeparams", {1, 1, 1}, "def forward(self, x):\n  return x\n"));
        EXPECT_MSG(lr.error.find("holds 3 values, expected 4") != std::string::npos, "%s", lr.error.c_str());
        lr = nn::load_model(save_model("zeroratio", {1, 0, 1, 1}, "def forward(self, x):\n  return x\n"));
        EXPECT_MSG(lr.error.find("in_ratio is 0") != std::string::npos, "%s", lr.error.c_str());
        lr = nn::load_model("/nonexistent/model.ts");
        EXPECT(lr.error.find("cannot open model file") != std::string::npos);
    }
    {
        // A method returning the wrong number of frames is refused at load time, naming the shapes.
        const std::string p = save_model("badshape", {1, 1, 1, 1}, "def forward(self, x):\n  return x[:, :, :-1]\n");
        nn::Engine eng(1, 1, 1);
        std::string err;
        std::vector<std::string> warnings;
        EXPECT(!eng.load(nn::load_model(p), "", 44100, err, warnings));
        EXPECT_MSG(err.find("returned shape [1, 1, 2047]") != std::string::npos, "%s", err.c_str());
    }
    {
        // The load-time calls leave no trace (docs/MODEL_FORMAT.md): a model that counts its calls, in
        // itself and in a submodule, and has no reset(), plays its first buffer as freshly loaded.
        torch::jit::Module counter("counter");
        counter.register_buffer("calls", torch::zeros({1}));
        torch::jit::Module m("m");
        m.register_buffer("forward_params", torch::tensor(std::vector<int64_t>{1, 1, 1, 1}, torch::kLong));
        m.register_buffer("offset", torch::zeros({1}));
        m.register_attribute("ticks", c10::IntType::get(), int64_t(0));
        m.register_module("counter", counter);
        m.define(
            "def forward(self, x):\n"
            "  y = x + self.offset + self.counter.calls + float(self.ticks)\n"
            "  self.offset = self.offset + 1.0\n"
            "  self.counter.calls += 1.0\n"
            "  self.ticks += 1\n"
            "  return y\n");
        const std::string p = (fs::temp_directory_path() / "nn_test_counter.ts").string();
        m.save(p);
        nn::LoadResult lr = nn::load_model(p);
        EXPECT_MSG(lr.error.empty(), "%s", lr.error.c_str());
        std::string err;
        std::vector<std::string> warnings;
        EXPECT(nn::warm_up(*lr.model, *lr.info, "forward", 1, 64, err, warnings) && warnings.empty());
        auto proc = nn::make_processor(lr.model, lr.info->methods[0]);
        std::vector<float> in(64, 0.0f), out(64, -1.0f);
        EXPECT(proc->process(in.data(), 1, 64, out.data(), 64, err));
        EXPECT_MSG(out[0] == 0.0f && out[63] == 0.0f, "first buffer %g, a fresh load gives 0", out[0]);
        EXPECT(proc->process(in.data(), 1, 64, out.data(), 64, err));
        EXPECT_MSG(out[0] == 3.0f, "second buffer %g, a fresh load gives 3", out[0]);
    }
    TEST_MAIN_END();
}
