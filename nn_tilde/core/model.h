// Loading an nn~ model file and reading its contract (docs/MODEL_FORMAT.md; the rules themselves are
// in contract.h), without exposing torch in this header: the host adapters and the engine include it
// and compile quickly.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "contract.h"
#include "stream.h"

namespace nn {

// A host-neutral message value: a number or a symbol. Adapters convert to t_atom (Pd) or atom (Max).
struct Atom {
    bool is_symbol = false;
    double number = 0.0;
    std::string symbol;
    static Atom num(double v) { return Atom{false, v, {}}; }
    static Atom sym(std::string s) { return Atom{true, 0.0, std::move(s)}; }
};

struct MethodInfo {
    std::string name;
    MethodShape shape;
    std::vector<std::string> input_labels, output_labels;
    int latency = -1;  // the model's own delay in samples (kit extension `<m>_latency`); -1: not declared
};

struct AttributeInfo {
    std::string name;
    std::vector<int> types;  // one AttributeType code per element
};

struct ModelInfo {
    std::string path;
    std::vector<MethodInfo> methods;
    std::vector<AttributeInfo> attributes;
    std::vector<std::string> buffer_attributes;
    bool has_set_sample_rate = false;
    int model_sample_rate = 0;  // the model's own rate (get_model_sample_rate(), else get_sample_rate()
                                // read before the host sets its rate); 0: unknown
    std::string torch_version;  // torch that wrote the file (kit metadata), empty: unknown
    std::vector<std::pair<std::string, std::string>> metadata;  // get_metadata()'s string entries, sorted by key
    std::vector<std::string> verified;                          // methods whose embedded test vector matched at load
    std::vector<std::string> warnings;

    const MethodInfo* method(const std::string& name) const;
    const AttributeInfo* attribute(const std::string& name) const;
    std::string method_names() const;  // "a, b, c" for messages
    std::string attribute_names() const;
    // The smallest buffer size every method accepts: nn::buffer_multiple (contract.h) of all methods.
    int buffer_multiple() const;
    std::string default_method() const;  // "forward" when present, else the first method
};

class LoadedModel;  // the torch module (opaque here)

struct LoadResult {
    std::shared_ptr<const ModelInfo> info;
    std::shared_ptr<LoadedModel> model;
    std::string error;  // non-empty: nothing was loaded (model is null; info, when set, holds only the
                        // warnings found before the refusal, so that the host can print them too)
};

// Any non-audio thread; blocks (reads the file, deserialises, validates the contract).
LoadResult load_model(const std::string& path);

// Calls `method` on zeros of a B-sample buffer (all methods once, the chosen one twice more) and
// checks the returned shape, so a model that throws or returns a wrong shape is refused at load
// time instead of on the worker. Calls reset() afterwards when the model has one.
bool warm_up(LoadedModel& model, const ModelInfo& info, const std::string& method, int batch, int buffer_size,
             std::string& error, std::vector<std::string>& warnings);

// worker (or loader) thread. Calls set_sample_rate(rate) when the model has it; false when it refuses.
bool set_model_sample_rate(LoadedModel& model, int rate, std::string& error);

// The processor the stream engine calls: one method of one loaded model.
std::unique_ptr<Processor> make_processor(std::shared_ptr<LoadedModel> model, const MethodInfo& method);
// The model behind a processor made by make_processor (nullptr for other processors). worker thread.
std::shared_ptr<LoadedModel> processor_model(Processor* p);

// Attribute access. worker thread; may block. `values` were already checked against the types by
// the engine; buffer elements carry their samples in `buffers` (same index as the element).
struct AttributeValue {
    Atom atom;
    std::vector<float> samples;  // for kBuffer / kTensor elements: the array's content
};
bool set_attribute_value(LoadedModel& model, const AttributeInfo& attr, const std::vector<AttributeValue>& values,
                         int sample_rate, std::string& error);
bool get_attribute_value(LoadedModel& model, const std::string& name, std::vector<Atom>& out, std::string& error);

// Process-wide libtorch settings for real-time use (called once, before the first load): one
// intra-op and one inter-op thread, so each nn~ object costs exactly one core at most (its worker).
void init_torch_threads();

}  // namespace nn
