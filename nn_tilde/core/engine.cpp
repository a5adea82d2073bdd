#include "engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace nn {

namespace {

// A number as Pd prints it ("2", "1.5"), for messages about values the user typed.
std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}

std::atomic<int> g_orphaned{0};  // engines whose model call ~Engine left behind (ever)
void count_orphaned_engine() { g_orphaned.fetch_add(1); }

}  // namespace

CreationModel load_for_creation(const std::string& path, const std::string& method) {
    CreationModel c;
    c.method = method;
    c.model = load_model(path);
    if (!c.model.error.empty()) {
        c.error = c.model.error;
        if (c.model.info) c.warnings = c.model.info->warnings;
        return c;
    }
    if (c.method.empty()) c.method = c.model.info->default_method();
    if (const MethodInfo* m = c.model.info->method(c.method)) {
        c.inputs = m->shape.in_channels;
        c.outputs = m->shape.out_channels;
    }
    return c;
}

Engine::Engine(int batch, int host_inputs, int host_outputs, std::shared_ptr<LiveControls> controls)
    : stream_(std::make_unique<StreamEngine>(batch, host_inputs, host_outputs, this, std::move(controls))) {
    loader_ = std::thread([this] {
        run_below_creator();  // a load must not take a core from a real-time host thread: see realtime.h
        loader_main();
    });
    arm_exit_guard();
    register_stoppable(this);
}

bool Engine::stop_threads(std::chrono::milliseconds wait) {
    stop_.store(true);
    wake_loader_.signal();
    if (loader_.joinable()) loader_.join();
    return !stream_ || stream_->shutdown(wait);
}

Engine::~Engine() {
    unregister_stoppable(this);
    stop_.store(true);
    wake_loader_.signal();
    if (loader_.joinable()) loader_.join();
    delete request_.exchange(nullptr);
    // Stop the worker and free the stream (the parked processor, if any, is freed with this object).
    // A model call that does not return within kRetireWaitMs must not hang the host: the stream is
    // then handed to its worker, which frees it and the model when the call returns; the listener
    // (this) is dropped first, and queued tasks are dropped unrun.
    if (!StreamEngine::retire(std::move(stream_), std::chrono::milliseconds(kRetireWaitMs))) count_orphaned_engine();
}

// ---- events --------------------------------------------------------------------------------------

void Engine::Inbox::push(EventKind kind, std::string text, std::vector<Atom> values) {
    auto* n = new Node;
    n->event = Event{kind, std::move(text), std::move(values)};
    push(n);
}
void Engine::push(EventKind kind, std::string text, std::vector<Atom> values) {
    inbox_->push(kind, std::move(text), std::move(values));
}
void Engine::on_worker_error(const std::string& message) { push(EventKind::Error, message); }
void Engine::on_worker_warning(const std::string& message) { push(EventKind::Warning, message); }

std::vector<Engine::Event> Engine::poll() {
    std::vector<Event> out;
    for (Node* n = inbox_->events.drain(); n;) {
        Node* next = n->next;
        inbox_->pending.fetch_sub(1);
        if (n->event.kind == EventKind::Loaded && adopt(*n))
            out.push_back(
                Event{EventKind::Reconfigure, "buffer size changes to " + std::to_string(n->buffer_size), {}});
        out.push_back(std::move(n->event));
        delete n;
        n = next;
    }
    return out;
}

bool Engine::adopt(Node& n) {
    settings_.clear();  // a file read afresh starts from its own attribute values
    info_ = n.info;
    path_ = n.path;
    method_ = n.method;
    planned_buffer_ = n.buffer_size;
    if (!prepared_ || n.buffer_size == stream_->buffer_size()) {
        install(std::move(n.processor));
        return false;
    }
    if (parked_) install(std::move(parked_));  // an older parked load: retire it on the worker
    parked_ = std::move(n.processor);
    return true;
}

bool Engine::busy() const { return loading_.load() > 0 || inbox_->pending.load() > 0 || stream_->tasks_pending(); }

// ---- loading -------------------------------------------------------------------------------------

void Engine::warn_channels(const MethodInfo& m, std::vector<std::string>& warnings) const {
    if (follow_channels_.load(std::memory_order_relaxed)) return;
    auto check = [&](int model, int host, const char* what, const char* fill) {
        if (model != host)
            warnings.push_back("method '" + m.name + "' has " + std::to_string(model) + " " + what +
                               " channel(s) but this object has " + std::to_string(host) + " signal " + what +
                               "lets: " + fill + "; recreate the object (retype its box) to match");
    };
    check(m.shape.in_channels, stream_->host_inputs(), "in", "missing inputs get silence");
    check(m.shape.out_channels, stream_->host_outputs(), "out", "extra outputs are dropped or silent");
}

bool Engine::build(const Request& rq, LoadResult lr, Node& result, std::string& error,
                   std::vector<std::string>& warnings) {
    // A refused file still names its other problems, as the checker does (a ratio 3 often explains
    // a wrong shape, a get_methods() of the wrong type the methods that could not be found).
    auto refuse = [&](const ModelInfo* info) {
        if (info)
            for (const auto& w : info->warnings) warnings.push_back(w);
        return false;
    };
    if (!lr.error.empty()) {
        error = lr.error;
        return refuse(lr.info.get());
    }
    const ModelInfo& info = *lr.info;
    const std::string method = rq.method.empty() ? info.default_method() : rq.method;
    const MethodInfo* mi = info.method(method);
    if (!mi) {
        error = "model '" + rq.path + "' has no method '" + method + "'; available: " + info.method_names();
        return refuse(&info);
    }
    std::string note;
    const int b = choose_buffer_size(rq.requested_buffer, info.buffer_multiple(), note, error);
    if (b == 0) return refuse(&info);
    if (!note.empty()) warnings.push_back(note);
    // The file's own warnings first (methods, params, labels, torch version, attributes, test vectors),
    // then the load-time calls' and the sample rate's: the order of the checker's report.
    std::vector<std::string> found = info.warnings;
    if (!warm_up(*lr.model, info, method, rq.batch, b, error, found)) {
        for (auto& w : found) warnings.push_back(std::move(w));
        return false;
    }
    arm_exit_guard();  // after the statics that warm-up constructed
    const int rate = int(std::lround(rq.sample_rate));
    if (rq.sample_rate > 0 && info.has_set_sample_rate) {
        std::string e;
        if (!set_model_sample_rate(*lr.model, rate, e)) found.push_back(e);
    }
    if (info.model_sample_rate > 0 && rq.sample_rate > 0 && info.model_sample_rate != rate)
        found.push_back(rule_message("rate.mismatch", {{"model_rate", format_value(int64_t(info.model_sample_rate))},
                                                       {"rate", format_value(int64_t(rate))}}));
    for (auto& w : found) warnings.push_back(std::move(w));
    warn_channels(*mi, warnings);
    try {
        result.processor = make_processor(lr.model, *mi);
    } catch (const std::exception& e) {
        error = std::string("cannot bind method '") + method + "': " + e.what();
        return false;
    }
    result.info = lr.info;
    result.path = rq.path;
    result.method = method;
    result.buffer_size = b;
    return true;
}

void Engine::install(std::unique_ptr<Processor> p) {
    stream_->post(make_task([p = std::move(p)](WorkerContext& ctx) mutable {
        ctx.processor = std::move(p);  // the previous processor is destroyed here, on the worker
        ctx.failed = false;
    }));
}

bool Engine::load(LoadResult model, const std::string& method, double sample_rate, std::string& error,
                  std::vector<std::string>& warnings) {
    sample_rate_ = sample_rate;
    const std::string path = model.info ? model.info->path : std::string();
    Request rq{path, method, requested_buffer_, stream_->batch(), sample_rate};
    Node node;
    if (!build(rq, std::move(model), node, error, warnings)) return false;
    if (adopt(node)) push(EventKind::Reconfigure, "buffer size changes to " + std::to_string(node.buffer_size));
    // the worker has the processor: the first buffer is computed by this model
    if (!stream_->sync(std::chrono::milliseconds(kSyncWaitMs)))
        warnings.push_back("the current model has not returned from its call for " +
                           std::to_string(kSyncWaitMs / 1000) + " s; the new one takes over when it does");
    return true;
}

void Engine::load_async(const std::string& path, const std::string& method) {
    auto* rq = new Request{path, method, requested_buffer_, stream_->batch(), sample_rate_};
    Request* old = request_.exchange(rq);
    if (old)
        delete old;  // superseded before the loader took it: the newest request wins
    else
        loading_.fetch_add(1);
    wake_loader_.signal();
}

bool Engine::reload(std::string& error) {
    if (path_.empty()) {
        error = "no model to reload: send `load <file> [<method>]` first";
        return false;
    }
    load_async(path_, method_);
    return true;
}

void Engine::loader_main() {
    while (!stop_.load()) {
        wake_loader_.wait();
        Request* rq = request_.exchange(nullptr);
        if (!rq) continue;
        if (stop_.load()) {
            delete rq;
            break;
        }
        auto* n = new Node;
        std::string error;
        std::vector<std::string> warnings;
        const bool ok = build(*rq, load_model(rq->path), *n, error, warnings);
        for (auto& w : warnings) push(EventKind::Warning, w);
        if (ok) {
            n->event = Event{EventKind::Loaded, rq->path + " " + n->method, {}};
            inbox_->push(n);
        } else {
            delete n;
            push(EventKind::Error, append_to_message(error, info_ ? "; the previous model keeps playing" : ""));
        }
        delete rq;
        loading_.fetch_sub(1);
    }
}

// ---- commands ------------------------------------------------------------------------------------

bool Engine::set_method(const std::string& name, std::string& error, std::vector<std::string>& warnings) {
    if (!info_) {
        error = "no model loaded: send `load <file> [<method>]` first";
        return false;
    }
    const MethodInfo* mi = info_->method(name);
    if (!mi) {
        error = "unknown method '" + name + "'; this model has: " + info_->method_names();
        return false;
    }
    warn_channels(*mi, warnings);
    MethodInfo copy = *mi;
    stream_->post(make_task([inbox = inbox_, copy](WorkerContext& ctx) {
        auto model = processor_model(ctx.processor.get());
        if (!model) return;
        try {
            ctx.processor = make_processor(model, copy);
            ctx.failed = false;
        } catch (const std::exception& e) {
            inbox->push(EventKind::Error, "cannot switch to method '" + copy.name + "': " + e.what());
        }
    }));
    method_ = name;
    return true;
}

const AttributeInfo* Engine::attribute(const std::string& name) const {
    return info_ ? info_->attribute(name) : nullptr;
}

bool Engine::set_attribute(const std::string& name, const std::vector<AttributeValue>& values, std::string& error) {
    if (!info_) {
        error = "no model loaded: send `load <file> [<method>]` first";
        return false;
    }
    const AttributeInfo* a = info_->attribute(name);
    if (!a) {
        error = "unknown attribute '" + name + "'; this model has: " + info_->attribute_names();
        return false;
    }
    std::string types;
    for (int t : a->types) types += std::string(types.empty() ? "" : " ") + attribute_type_name(t);
    if (values.size() != a->types.size()) {
        error = "attribute '" + name + "' takes " + std::to_string(a->types.size()) + " value(s) (" + types +
                "), got " + std::to_string(values.size());
        return false;
    }
    for (size_t i = 0; i < values.size(); ++i) {
        const Atom& v = values[i].atom;
        const int t = a->types[i];
        const std::string where = "value " + std::to_string(i + 1) + " of '" + name + "'";
        if ((t == kBool || t == kInt || t == kFloat) && v.is_symbol) {
            error = where + " must be a number (" + attribute_type_name(t) + "), got '" + v.symbol + "'";
            return false;
        }
        if (t == kBool && v.number != 0.0 && v.number != 1.0) {
            error = where + " must be 0 or 1 (bool), got " + num(v.number);
            return false;
        }
        if (t == kInt && std::floor(v.number) != v.number) {
            error = where + " must be a whole number (int), got " + num(v.number);
            return false;
        }
        if (t == kStr && !v.is_symbol) {
            error = where + " must be a symbol (str)";
            return false;
        }
        if ((t == kTensor || t == kBuffer) && (!v.is_symbol || values[i].samples.empty())) {
            error = where + " must name a non-empty array (" + std::string(attribute_type_name(t)) + ")";
            return false;
        }
    }
    auto known = std::find_if(settings_.begin(), settings_.end(), [&](const auto& st) { return st.first == name; });
    if (known != settings_.end())
        known->second = values;
    else
        settings_.emplace_back(name, values);
    AttributeInfo attr = *a;
    const int sr = int(std::lround(sample_rate_));
    stream_->post(make_task([inbox = inbox_, attr, values, sr](WorkerContext& ctx) {
        auto model = processor_model(ctx.processor.get());
        if (!model) return;
        std::string e;
        if (!set_attribute_value(*model, attr, values, sr, e)) inbox->push(EventKind::Error, e);
    }));
    return true;
}

bool Engine::get_attribute(const std::string& name, std::string& error) {
    if (!info_) {
        error = "no model loaded: send `load <file> [<method>]` first";
        return false;
    }
    if (!info_->attribute(name)) {
        error = "unknown attribute '" + name + "'; this model has: " + info_->attribute_names();
        return false;
    }
    stream_->post(make_task([inbox = inbox_, name](WorkerContext& ctx) {
        auto model = processor_model(ctx.processor.get());
        if (!model) return;
        std::vector<Atom> values;
        std::string e;
        if (get_attribute_value(*model, name, values, e))
            inbox->push(EventKind::Value, name, std::move(values));
        else
            inbox->push(EventKind::Error, e);
    }));
    return true;
}

bool Engine::set_buffer_size(int requested, std::string& error, std::string& note) {
    if (requested <= 0) {
        error = "buffer size must be a positive number of samples, got " + std::to_string(requested);
        return false;
    }
    const int b = choose_buffer_size(requested, info_ ? info_->buffer_multiple() : 1, note, error);
    if (b == 0) return false;
    requested_buffer_ = requested;
    planned_buffer_ = b;
    return prepared_ && b != stream_->buffer_size();
}

std::unique_ptr<Engine> Engine::reshaped(int batch, int host_inputs, int host_outputs, double sample_rate,
                                         std::string& error, std::vector<std::string>& errors,
                                         std::vector<std::string>& warnings) const {
    CreationModel cm;
    if (!path_.empty()) {
        cm = load_for_creation(path_, method_);
        if (!cm.error.empty()) {
            error = cm.error;
            return nullptr;
        }
    }
    auto e = std::make_unique<Engine>(batch, host_inputs, host_outputs, stream_->controls());
    std::string e_error, note;
    if (requested_buffer_ > 0) e->set_buffer_size(requested_buffer_, e_error, note);  // checked when first asked
    e->set_headroom(headroom_);
    e->set_channels_follow_method(follow_channels_.load(std::memory_order_relaxed));
    if (cm.model.model) {
        if (!e->load(std::move(cm.model), method_, sample_rate, e_error, warnings)) errors.push_back(e_error);
        for (const auto& [name, values] : settings_) {
            std::string refused;
            if (!e->set_attribute(name, values, refused)) errors.push_back(refused);
        }
    }
    return e;
}

bool Engine::set_headroom(int buffers) {
    headroom_ = std::clamp(buffers, 0, StreamEngine::kMaxHeadroom);
    return prepared_ && headroom_ != stream_->headroom();
}

void Engine::prepare(double sample_rate, int max_block) {
    stream_->set_host_rate(sample_rate);
    if (sample_rate > 0 && sample_rate != sample_rate_) {
        sample_rate_ = sample_rate;
        if (info_ && info_->has_set_sample_rate) {
            const int sr = int(std::lround(sample_rate));
            stream_->post(make_task([inbox = inbox_, sr](WorkerContext& ctx) {
                auto model = processor_model(ctx.processor.get());
                std::string e;
                if (model && !set_model_sample_rate(*model, sr, e)) inbox->push(EventKind::Warning, e);
            }));
        }
    }
    if (planned_buffer_ == 0) {
        std::string note, error;
        planned_buffer_ = choose_buffer_size(requested_buffer_, info_ ? info_->buffer_multiple() : 1, note, error);
        if (planned_buffer_ == 0) planned_buffer_ = kDefaultBufferSize;
    }
    // Pd calls dsp again for every object whenever any object is created or deleted while DSP runs.
    // When the rings keep their sizes, keep streaming: re-preparing would drop the buffers in flight
    // and play L samples of silence on every patch edit (delwrite~ keeps its memory the same way).
    if (prepared_ && planned_buffer_ == stream_->buffer_size() && max_block == max_block_ &&
        headroom_ == stream_->headroom()) {
        if (parked_) install(std::move(parked_));
        return;
    }
    max_block_ = max_block;
    // A refusal (rings too large) has been reported as an error event; the object stays silent and
    // the next dsp call (after `bufsize`) tries again.
    prepared_ = stream_->prepare(planned_buffer_, max_block, headroom_);
    if (parked_) install(std::move(parked_));
}

// ---- reporting -----------------------------------------------------------------------------------

int Engine::buffer_size() const {
    if (prepared_) return stream_->buffer_size();
    if (planned_buffer_) return planned_buffer_;
    return std::max(kDefaultBufferSize, info_ ? info_->buffer_multiple() : 1);
}

int Engine::latency() const {
    if (prepared_) return stream_->latency();
    const int b = buffer_size(), m = 64;  // Pd's default block until the host tells otherwise
    return b * (1 + (m + b - 1) / b + headroom_);
}

bool Engine::model_failed() const { return stream_->model_failed(); }

std::vector<InfoLine> Engine::describe() const {
    std::vector<InfoLine> out;
    std::string state = !info_ ? "empty" : model_failed() ? "failed" : !stream_->enabled() ? "disabled" : "ready";
    if (loading_.load() > 0) state = "loading";
    out.push_back({"state", {Atom::sym(state)}});
    out.push_back({"version", {Atom::sym(NN_VERSION)}});  // nn~'s own (the VERSION file), for bug reports
    if (info_) {
        out.push_back({"model", {Atom::sym(path_)}});
        out.push_back(methods_line(*info_));
        if (const MethodInfo* m = info_->method(method_)) {
            out.push_back(method_line(*m));
            if (m->latency >= 0) out.push_back({"modellatency", {Atom::num(m->latency)}});
            if (!m->input_labels.empty()) out.push_back({"inputs", symbols(m->input_labels)});
            if (!m->output_labels.empty()) out.push_back({"outputs", symbols(m->output_labels)});
        }
        for (const auto& a : info_->attributes) out.push_back(attribute_line(a));
    }
    out.push_back({"channels", {Atom::num(stream_->host_inputs()), Atom::num(stream_->host_outputs())}});
    out.push_back({"buffer", {Atom::num(buffer_size())}});
    out.push_back({"latency", {Atom::num(latency())}});
    out.push_back({"headroom", {Atom::num(headroom_)}});
    if (info_ && !info_->torch_version.empty()) out.push_back({"torch", {Atom::sym(info_->torch_version)}});
    if (info_ && !info_->verified.empty()) out.push_back({"verified", symbols(info_->verified)});
    out.push_back({"samplerate", {Atom::num(info_ ? info_->model_sample_rate : 0), Atom::num(sample_rate_)}});
    static const char* policies[] = {"wait", "silence", "hold"};
    out.push_back({"policy", {Atom::sym(policies[static_cast<int>(stream_->policy())])}});
    return out;
}

InfoLine Engine::stats_line() const {
    const StreamStats s = stream_->stats();
    return {"stats", {Atom::sym("blocks"),        Atom::num(double(s.blocks)),
                      Atom::sym("buffers"),       Atom::num(double(s.buffers)),
                      Atom::sym("late"),          Atom::num(double(s.late_blocks)),
                      Atom::sym("dropped"),       Atom::num(double(s.dropped_buffers)),
                      Atom::sym("skipped"),       Atom::num(double(s.skipped_buffers)),
                      Atom::sym("waits"),         Atom::num(double(s.waits)),
                      Atom::sym("inline"),        Atom::num(double(s.inline_buffers)),
                      Atom::sym("nonfinite"),     Atom::num(double(s.nonfinite)),
                      Atom::sym("model_ms_mean"), Atom::num(s.model_ms_mean),
                      Atom::sym("model_ms_max"),  Atom::num(s.model_ms_max),
                      Atom::sym("audio_us_max"),  Atom::num(s.audio_us_max)}};
}

bool delete_engine(Engine* engine, std::string& message) {
    const int before = g_orphaned.load();
    delete engine;
    if (g_orphaned.load() == before) return true;
    message = "deleted an object whose model was still inside a call after " + std::to_string(kRetireWaitMs / 1000) +
              " s: its thread frees the model when the call returns (a model that never returns keeps a core busy "
              "until the host quits)";
    return false;
}

}  // namespace nn
