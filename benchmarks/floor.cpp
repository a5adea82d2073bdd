// The benchmark's floor: call one method of a model on the same B-sample buffers in a plain loop on
// one thread, with the libtorch settings nn~ uses (one intra-op and one inter-op thread), and print
// the process CPU time. benchmarks/pd_overhead.py runs it twice (long minus short) so start-up cancels.
//
//   nn_bench_floor <model.ts> <method> <buffer size> <buffers>
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <torch/script.h>

#include <cstdio>
#include <cstdlib>
#include <string>

static double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: nn_bench_floor <model.ts> <method> <buffer size> <buffers>\n");
        return 2;
    }
    const std::string path = argv[1], method = argv[2];
    const int B = std::atoi(argv[3]), n = std::atoi(argv[4]);
    if (B <= 0 || n <= 0) {
        std::fprintf(stderr, "buffer size and buffers must be positive\n");
        return 2;
    }
    at::set_num_threads(1);
    at::set_num_interop_threads(1);
    try {
        torch::jit::Module m = torch::jit::load(path);
        m.eval();
        c10::InferenceMode inference;  // no autograd bookkeeping; every call of the model runs in this mode
        torch::jit::Method fn = m.get_method(method);
        at::Tensor params = m.attr(method + "_params").toTensor();
        const int64_t in_ch = params[0].item<int64_t>(), in_ratio = params[1].item<int64_t>();
        at::Tensor x = torch::randn({1, in_ch, B / in_ratio}) * 0.1;
        double sink = 0;
        for (int i = 0; i < n; ++i) sink += fn(std::vector<c10::IValue>{x}).toTensor().data_ptr<float>()[0];
        std::printf("cpu_seconds %.6f buffers %d checksum %g\n", cpu_seconds(), n, sink);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
