// Link-check stub: the torch side of the core (model.cpp) replaced by functions that refuse, so the
// Max adapters can be linked into Windows DLLs against the SDK's import libraries without libtorch.
// Everything else of the core (contract, exit guard, engine, host, stream) is linked as it is.
#include "model.h"
namespace nn {
LoadResult load_model(const std::string&) {
    LoadResult r;
    r.error = "link-check build without libtorch";
    return r;
}
bool warm_up(LoadedModel&, const ModelInfo&, const std::string&, int, int, std::string&, std::vector<std::string>&) {
    return false;
}
bool set_model_sample_rate(LoadedModel&, int, std::string&) { return false; }
std::unique_ptr<Processor> make_processor(std::shared_ptr<LoadedModel>, const MethodInfo&) { return nullptr; }
std::shared_ptr<LoadedModel> processor_model(Processor*) { return nullptr; }
bool set_attribute_value(LoadedModel&, const AttributeInfo&, const std::vector<AttributeValue>&, int, std::string&) {
    return false;
}
bool get_attribute_value(LoadedModel&, const std::string&, std::vector<Atom>&, std::string&) { return false; }
void init_torch_threads() {}
}  // namespace nn
