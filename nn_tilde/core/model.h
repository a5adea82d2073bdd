// Loading an nn~ model file and reading its contract (docs/MODEL_FORMAT.md; the rules themselves are
// in contract.h, the facts read are model_info.h's plain data), without exposing torch in this header: the host adapters and the engine include it
// and compile quickly.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "contract.h"
#include "model_info.h"  // Atom, MethodInfo, AttributeInfo, ModelInfo
#include "stream.h"

namespace nn {

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
// time instead of on the worker. Afterwards the model's state is put back as it was before the first
// call (a copy of it taken at load, restored and checked); the model's own reset() is called only
// when that copy could not be taken or did not hold.
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
