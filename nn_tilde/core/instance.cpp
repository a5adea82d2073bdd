// One nn~ object over one engine, the same in every host (see instance.h).
#include "instance.h"

#include <utility>

namespace nn {

CreationModel Instance::open(HostPort& port, const ObjectArgs& args) {
    for (const std::string& e : args.errors) port.error(e);
    CreationModel cm;
    cm.method = args.method;
    if (args.model.empty()) return cm;
    std::string path;
    if (!port.resolve(args.model, path)) return cm;  // the port said why
    cm = load_for_creation(path, args.method);
    if (!cm.error.empty()) port.error(cm.error);
    for (const std::string& w : cm.warnings) port.warning(w);
    return cm;
}

Instance::Instance(HostPort& port, Shape shape, const ObjectArgs& args, CreationModel model, double sample_rate,
                   bool channels_follow_method, std::shared_ptr<LiveControls> controls)
    : port_(port),
      controls_(controls ? std::move(controls) : std::make_shared<LiveControls>()),
      engine_(std::make_unique<Engine>(shape.batch, shape.inputs, shape.outputs, controls_)),
      shape_(shape),
      follow_(channels_follow_method) {
    // -m: the cables follow the method at the next DSP restart, so the engine's advice to retype the
    // box for a method with other channel counts does not apply.
    engine_->set_channels_follow_method(follow_);
    if (args.buffer_size > 0) {
        std::string error, note;
        engine_->set_buffer_size(args.buffer_size, error, note);  // before the load: no restart involved
        if (!error.empty()) port_.error(error + "; using the default");
        if (!note.empty()) port_.post(note);
    }
    if (model.model.model) {
        std::string error;
        std::vector<std::string> warnings;
        if (!engine_->load(std::move(model.model), model.method, sample_rate, error, warnings)) port_.error(error);
        for (const std::string& w : warnings) port_.warning(w);
    }
}

Instance::~Instance() {
    std::string message;
    if (!delete_engine(engine_.release(), message)) port_.error(message);
}

Shape Instance::method_shape() const {
    const MethodInfo* m = engine_->info() ? engine_->info()->method(engine_->method()) : nullptr;
    return {shape_.batch, m ? m->shape.in_channels : 1, m ? m->shape.out_channels : 1};
}

bool Instance::reshape(Shape shape, double sample_rate) {
    std::string error;
    std::vector<std::string> errors, warnings;
    std::unique_ptr<Engine> e =
        engine_->reshaped(shape.batch, shape.inputs, shape.outputs, sample_rate, error, errors, warnings);
    if (!e) {
        port_.error(error);
        return false;
    }
    for (const std::string& m : errors) port_.error(m);
    for (const std::string& w : warnings) port_.warning(w);
    std::string message;  // joins the old engine's loader and worker
    if (!delete_engine(engine_.release(), message)) port_.error(message);
    engine_ = std::move(e);
    shape_ = shape;
    return true;
}

bool Instance::drain() {
    for (Engine::Event& e : engine_->poll()) {
        switch (e.kind) {
            case Engine::EventKind::Error: port_.error(e.text); break;
            case Engine::EventKind::Warning: port_.warning(e.text); break;
            case Engine::EventKind::Value: port_.output(e.text, e.values); break;
            case Engine::EventKind::Reconfigure: port_.restart(e.text); break;
            case Engine::EventKind::Loaded:
                port_.post("loaded " + e.text);
                port_.output("loaded", {Atom::sym(engine_->path()), Atom::sym(engine_->method())});
                port_.method_changed();
                break;
        }
    }
    return engine_->busy();
}

// ---- messages ----------------------------------------------------------------------------------------

void Instance::load(const std::string& name, const std::string& method) {
    std::string path;
    if (!port_.resolve(name, path)) return;
    engine_->load_async(path, method);
}

void Instance::reload() {
    std::string error;
    if (!engine_->reload(error)) port_.error(error);
}

void Instance::method(const std::string& name) {
    std::string error;
    std::vector<std::string> warnings;
    if (!engine_->set_method(name, error, warnings)) port_.error(error);
    for (const std::string& w : warnings) port_.warning(w);
    port_.method_changed();
}

void Instance::set(const std::vector<Atom>& args) {
    if (args.empty() || !args[0].is_symbol) {
        port_.error("usage: set <attribute> <value> ...");
        return;
    }
    const std::string& name = args[0].symbol;
    const AttributeInfo* attr = engine_->attribute(name);
    std::vector<AttributeValue> values = attribute_values(attr, std::vector<Atom>(args.begin() + 1, args.end()));
    for (size_t i = 0; i < values.size(); ++i)
        if (wants_array(attr, i) && values[i].atom.is_symbol &&
            !port_.read_array(values[i].atom.symbol, values[i].samples))
            return;
    std::string error;
    if (!engine_->set_attribute(name, values, error)) port_.error(error);
}

void Instance::get(const std::string& name) {
    std::string error;
    if (!engine_->get_attribute(name, error)) port_.error(error);
}

void Instance::bufsize(double samples) {
    int n = 0;
    std::string error, note;
    if (!parse_buffer_size(samples, n, error)) {
        port_.error(error);
        return;
    }
    const bool restart = engine_->set_buffer_size(n, error, note);
    if (!error.empty()) {
        port_.error(error);
        return;
    }
    if (!note.empty()) port_.post(note);
    if (restart) port_.restart("");
}

void Instance::headroom(double buffers) {
    int n = 0;
    std::string error;
    if (!parse_headroom(buffers, n, error)) {
        port_.error(error);
        return;
    }
    if (engine_->set_headroom(n)) port_.restart("");
}

void Instance::policy(const Atom& value) {
    LatePolicy p = LatePolicy::Wait;
    std::string error;
    if (!parse_policy(value, p, error)) {
        port_.error(error);
        return;
    }
    engine_->set_policy(p);
}

void Instance::enable(bool on) { engine_->set_enabled(on); }

void Instance::info() {
    for (const InfoLine& l : engine_->describe()) {
        port_.post(info_text(l));
        port_.output(l.key, l.values);
    }
}

void Instance::stats() {
    const InfoLine l = engine_->stats_line();
    port_.output(l.key, l.values);
}

void Instance::reset_stats() { engine_->reset_stats(); }

}  // namespace nn
