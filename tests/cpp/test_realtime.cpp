// RealtimeSanitizer proof of the core promise: the audio-side entry point, called through a
// [[clang::nonblocking]] function, never reaches malloc, free, a mutex or a blocking system call
// under the live policies, over random host block sizes, a late model, enable/disable and policy
// switches. RTSan aborts the process at the first violation, which fails this ctest.
//
// `test_realtime violate` deliberately allocates inside a nonblocking function: ctest expects that
// run to fail, which shows the sanitizer is really active in this build.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "stream.h"

using namespace nn;

namespace {

class SlowModel final : public Processor {
public:
    explicit SlowModel(MethodShape sh) : sh_(sh) {}
    MethodShape shape() const override { return sh_; }
    bool process(const float* in, int batch, int fin, float* out, int fout, std::string&) override {
        std::vector<float> scratch(static_cast<size_t>(fin));  // the worker may allocate
        std::this_thread::sleep_for(std::chrono::microseconds(calls_++ % 3 == 0 ? 3000 : 10));
        for (int i = 0; i < batch * sh_.out_channels * fout; ++i)
            out[i] = in[i % (batch * sh_.in_channels * fin)] * 0.5f;
        return true;
    }

private:
    MethodShape sh_;
    int calls_ = 0;
};

// The audio callback as a host would write it. Marked nonblocking: RTSan watches everything below.
void audio_callback(StreamEngine& eng, const float* const* in, float* const* out, int n) noexcept NN_NONBLOCKING {
    eng.process_live(in, out, n);
}

volatile void* sink;
void violate() noexcept NN_NONBLOCKING {
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wfunction-effects"
#endif
    sink = std::malloc(64);  // RTSan must abort here
    std::free(const_cast<void*>(sink));
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "violate") {
        violate();
        std::printf("RTSan did not stop an allocation in a nonblocking function\n");
        return 0;  // ctest WILL_FAIL: reaching this line makes the test fail
    }
    std::mt19937 rng(42);
    for (const MethodShape sh : {MethodShape{1, 1, 1, 1}, MethodShape{2, 4, 3, 16}}) {
        StreamEngine eng(1, sh.in_channels, sh.out_channels);
        eng.prepare(256, 4096);
        eng.set_policy(LatePolicy::Silence);
        eng.post(make_task([sh](WorkerContext& ctx) { ctx.processor = std::make_unique<SlowModel>(sh); }));
        eng.sync();
        std::vector<std::vector<float>> ib(sh.in_channels, std::vector<float>(4096, 0.25f));
        std::vector<std::vector<float>> ob(sh.out_channels, std::vector<float>(4096));
        std::vector<const float*> ip;
        std::vector<float*> op;
        for (auto& v : ib) ip.push_back(v.data());
        for (auto& v : ob) op.push_back(v.data());
        std::uniform_int_distribution<int> blk(1, 4096);
        for (int i = 0; i < 3000; ++i) {
            if (i % 500 == 250) eng.set_policy(i % 1000 == 250 ? LatePolicy::Hold : LatePolicy::Silence);
            if (i % 700 == 350) eng.set_enabled(false);
            if (i % 700 == 400) eng.set_enabled(true);
            audio_callback(eng, ip.data(), op.data(), blk(rng));
            if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
        const StreamStats st = eng.stats();
        EXPECT(st.blocks == 3000);
        EXPECT(st.model_calls > 0);
        EXPECT(st.late_blocks > 0);  // the slow model was late: the live path really ran its late branch
    }
    TEST_MAIN_END();
}
