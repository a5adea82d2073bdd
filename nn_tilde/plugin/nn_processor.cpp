// nn~ as a DAW plugin over nn::Instance (see nn_processor.h and docs/PLUGIN.md).
#include "nn_processor.h"

#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "nn_editor.h"

namespace {

// The folder of the binary that holds this code (the plugin's .so, or the standalone app): the bundled
// models are found from there, wherever the host loaded the plugin from.
std::string binary_dir() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&binary_dir), &info) == 0 || !info.dli_fname) return {};
    return std::filesystem::path(info.dli_fname).parent_path().string();
}

// Where a model name that is not an absolute path is looked up (package_model_file looks in <dir>/models/),
// in order: beside the binary (LV2 bundle, standalone app), the VST3 bundle's Contents/Resources, and
// the source tree of this build (NN_PLUGIN_MODELS_DIR/..), so a build-tree plugin finds demo.ts before
// its bundle is complete (JUCE's LV2 helper runs the plugin before the post-build copy).
std::vector<std::string> model_dirs() {
    const std::string dir = binary_dir();
    std::vector<std::string> dirs;
    if (!dir.empty()) {
        dirs.push_back(dir);
        dirs.push_back(dir + "/../Resources");
    }
#ifdef NN_PLUGIN_MODELS_DIR
    dirs.push_back(std::string(NN_PLUGIN_MODELS_DIR) + "/..");
#endif
    return dirs;
}

float db_to_gain(float db) { return db <= -60.0f ? 0.0f : std::pow(10.0f, db / 20.0f); }

}  // namespace

// ---- the port ------------------------------------------------------------------------------------------

void NnPluginPort::error(const std::string& text) { p_.log("error: " + text); }
void NnPluginPort::warning(const std::string& text) { p_.log("warning: " + text); }
void NnPluginPort::post(const std::string& text) { p_.log(text); }

void NnPluginPort::output(const std::string& key, const std::vector<nn::Atom>& values) {
    if (key == "stats") {
        p_.last_stats_ = values;
        return;
    }
    // The answer to the `get` of a mapped attribute (map_attributes_locked): the parameter shows the
    // model's value, and is not sent back to the model.
    for (size_t i = 0; i < NnProcessor::kAttributeSlots; ++i)
        if (p_.attr_names_[i] == key && values.size() == 1 && !values[0].is_symbol) {
            const auto v = static_cast<float>(values[0].number);
            p_.attr_sent_[i] = v;
            p_.attr_known_[i] = true;
            if (auto* param = p_.params_.getParameter("attr" + juce::String(static_cast<int>(i) + 1)))
                param->setValueNotifyingHost(param->convertTo0to1(v));
        }
}

// A new buffer size, headroom, or a method with other channel counts: prepared again after the drain
// (the engine may be replaced, which Instance::drain must not see mid-loop).
void NnPluginPort::restart(const std::string& why) {
    if (!why.empty()) p_.log(why + ": preparing again");
    p_.restart_pending_ = true;
}

bool NnPluginPort::resolve(const std::string& name, std::string& path) { return p_.resolve(name, path); }

bool NnPluginPort::read_array(const std::string& name, std::vector<float>&) {
    p_.log("error: the plugin has no arrays: '" + name +
           "' cannot fill a buffer attribute here; set it from Pd or Max, or give the model a default");
    return false;
}

void NnPluginPort::method_changed() {
    p_.restart_pending_ = true;  // new channel counts or latency: re-prepare (cheap when nothing changed)
    p_.map_attributes_locked(true);
    p_.wet_ok_.store(p_.nn_ && p_.nn_->engine().info() != nullptr);
}

bool NnProcessor::resolve(const std::string& name, std::string& path) {
    if (nn::is_absolute_path(name)) {
        if (nn::is_folder(name)) {
            log("error: " + nn::folder_error(name));
            return false;
        }
        if (!std::filesystem::is_regular_file(name)) {
            log("error: model file not found: " + name + " (choose another file with Load)");
            return false;
        }
        path = name;
        return true;
    }
    for (const std::string& dir : model_dirs()) {
        const std::string found = nn::package_model_file(dir, name);
        if (!found.empty()) {
            path = std::filesystem::weakly_canonical(found).string();
            return true;
        }
    }
    log("error: model '" + name + "' not found in the plugin's models folder; give an absolute path");
    return false;
}

// ---- construction ------------------------------------------------------------------------------------------

juce::AudioProcessorValueTreeState::ParameterLayout NnProcessor::layout() {
    using namespace juce;
    AudioProcessorValueTreeState::ParameterLayout l;
    l.add(std::make_unique<AudioParameterFloat>(ParameterID{"in_gain", 1}, "Input gain",
                                                NormalisableRange<float>(-60.0f, 24.0f, 0.1f), 0.0f, "dB"));
    l.add(std::make_unique<AudioParameterFloat>(ParameterID{"out_gain", 1}, "Output gain",
                                                NormalisableRange<float>(-60.0f, 24.0f, 0.1f), 0.0f, "dB"));
    l.add(
        std::make_unique<AudioParameterFloat>(ParameterID{"mix", 1}, "Dry/wet", NormalisableRange<float>(0, 1), 1.0f));
    l.add(std::make_unique<AudioParameterBool>(ParameterID{"bypass", 1}, "Bypass", false));
    // Wait is for offline renders: a host that says it renders offline (setNonRealtime) always gets it.
    l.add(std::make_unique<AudioParameterChoice>(ParameterID{"policy", 1}, "Late policy",
                                                 StringArray{"wait", "silence", "hold"}, 1));
    for (int i = 1; i <= static_cast<int>(kAttributeSlots); ++i)
        l.add(std::make_unique<AudioParameterFloat>(ParameterID{"attr" + String(i), 1}, "Attribute " + String(i),
                                                    NormalisableRange<float>(-100.0f, 100.0f), 0.0f));
    return l;
}

NnProcessor::NnProcessor()
    : AudioProcessor(BusesProperties()
                         .withInput("Input", juce::AudioChannelSet::stereo(), true)
                         .withOutput("Output", juce::AudioChannelSet::stereo(), true)),
      params_(*this, nullptr, "parameters", layout()) {
    in_gain_ = params_.getRawParameterValue("in_gain");
    out_gain_ = params_.getRawParameterValue("out_gain");
    mix_ = params_.getRawParameterValue("mix");
    policy_ = params_.getRawParameterValue("policy");
    for (size_t i = 0; i < kAttributeSlots; ++i)
        attr_values_[i] = params_.getRawParameterValue("attr" + juce::String(static_cast<int>(i) + 1));
    bypass_ = dynamic_cast<juce::AudioParameterBool*>(params_.getParameter("bypass"));
    {
        // With no saved state the demo model plays, so a new instance makes sound at once; NN_PLUGIN_MODEL
        // (and NN_PLUGIN_METHOD) name another first model, for a standalone app started from a shell
        // and for the test hosts, which cannot reach the editor's file chooser.
        std::lock_guard<std::mutex> lock(main_);
        const char* model = std::getenv("NN_PLUGIN_MODEL");
        const char* method = std::getenv("NN_PLUGIN_METHOD");
        saved_path_ = model && *model ? model : "";
        saved_method_ = method ? method : "";
        open_locked(model && *model ? model : "demo", method ? method : "", false);
    }
    startTimerHz(20);
}

NnProcessor::~NnProcessor() {
    stopTimer();
    std::lock_guard<std::mutex> lock(main_);
    gate_.close();
    nn_.reset();
}

int NnProcessor::host_channels() const {
    return juce::jlimit(1, 2, getMainBusNumInputChannels() > 0 ? getMainBusNumInputChannels() : 2);
}

// A stereo bus into a one-channel method runs the two channels as two batch items of one call (Pd's
// -v); any other method gets one batch item, its inputs fed from the host channels in turn.
static nn::Shape shape_for(const nn::Shape& method, int channels) {
    if (method.inputs == 1 && method.outputs == 1) return {channels, 1, 1};
    return {1, method.inputs, method.outputs};
}

// under main_. Builds a new Instance playing `path` (synchronous: the first block after it plays the
// model). keep_parameters: the attribute parameters hold restored values the model must receive.
void NnProcessor::open_locked(const std::string& path, const std::string& method, bool keep_parameters) {
    nn::ObjectArgs args;
    args.model = path;
    args.method = method;
    args.buffer_size = buffer_request_;
    nn::CreationModel cm = nn::Instance::open(port_, args);
    const bool ok = cm.model.model != nullptr;
    gate_.close();
    nn_.reset();
    nn_ = std::make_unique<nn::Instance>(port_, shape_for({1, cm.inputs, cm.outputs}, host_channels()), args,
                                         std::move(cm), sample_rate_ > 0 ? sample_rate_ : 44100.0, false, controls_);
    if (headroom_ > 0) nn_->headroom(headroom_);
    wet_ok_.store(ok && nn_->engine().info() != nullptr);
    if (!ok && !path.empty()) log("no model plays: the wet signal is silence until a model loads");
    map_attributes_locked(!keep_parameters);
    if (prepared_) prepare_locked();
}

// under main_. The engine's shape for the host's channels, the engine prepared, the router, the dry
// delay and the buffers allocated, the latency reported. The audio thread stays out meanwhile.
void NnProcessor::prepare_locked() {
    restart_pending_ = false;
    gate_.close();
    const int channels = host_channels();
    const nn::Shape want = shape_for(nn_->method_shape(), channels);
    if (want != nn_->shape()) nn_->reshape(want, sample_rate_);
    const nn::Shape sh = nn_->shape();
    nn::Engine& engine = nn_->engine();
    engine.prepare(sample_rate_, max_block_);
    if (sh.batch > 1) {
        router_.prepare(sh.batch, 1, 1, {sh.batch}, max_block_);
    } else {
        router_.prepare(1, sh.inputs, sh.outputs, std::vector<int>(static_cast<size_t>(sh.inputs), 1), max_block_);
    }
    channels_ = channels;
    block_ = max_block_;
    in_store_.assign(static_cast<size_t>(channels), std::vector<float>(static_cast<size_t>(max_block_)));
    const int outs = router_.host_output_channels();
    wet_store_.assign(static_cast<size_t>(outs), std::vector<float>(static_cast<size_t>(max_block_)));
    in_table_.resize(static_cast<size_t>(router_.host_input_channels()));
    for (size_t k = 0; k < in_table_.size(); ++k) in_table_[k] = in_store_[k % static_cast<size_t>(channels)].data();
    out_table_.resize(static_cast<size_t>(outs));
    for (size_t k = 0; k < out_table_.size(); ++k) out_table_[k] = wet_store_[k].data();
    latency_ = engine.latency();
    delay_.assign(static_cast<size_t>(channels), std::vector<float>(static_cast<size_t>(std::max(latency_, 1)), 0.0f));
    delay_pos_ = 0;

    // A model with its own rate that cannot follow the host's is refused rather than resampled: a
    // resampler would add its own delay and filtering, so the output would no longer be the model's,
    // and a method whose ratio counts samples (encode every 512) would change meaning.
    bool ok = engine.info() != nullptr;
    if (const auto info = engine.info()) {
        const int rate = static_cast<int>(std::lround(sample_rate_));
        if (info->model_sample_rate > 0 && !info->has_set_sample_rate && info->model_sample_rate != rate) {
            log("error: the model runs at " + std::to_string(info->model_sample_rate) + " Hz and the host at " +
                std::to_string(rate) + " Hz: nn~ does not resample; set the project's sample rate to " +
                std::to_string(info->model_sample_rate) + " Hz (the wet signal is silence until then)");
            ok = false;
        }
    }
    wet_ok_.store(ok && !nn_->engine().model_failed());
    new_latency_.store(latency_);  // told to the host once main_ is released (Publish)
    gate_.open();
}

void NnProcessor::map_attributes_locked(bool pull) {
    attr_names_ = {};
    attr_known_ = {};
    const auto info = nn_ ? nn_->engine().info() : nullptr;
    if (!info) return;
    size_t slot = 0;
    for (const nn::AttributeInfo& a : info->attributes) {
        if (slot == kAttributeSlots) break;
        // One number (int, float or bool): what a generic automatable parameter can carry.
        if (a.types.size() != 1 || nn::wants_array(&a, 0)) continue;
        if (a.types[0] != nn::kInt && a.types[0] != nn::kFloat && a.types[0] != nn::kBool) continue;
        attr_names_[slot] = a.name;
        if (pull) {
            nn_->get(a.name);  // the answer sets the parameter (NnPluginPort::output)
        } else {
            attr_known_[slot] = true;
            attr_sent_[slot] = std::nanf("");  // the timer sends the restored value
        }
        ++slot;
    }
}

// ---- the host's calls -------------------------------------------------------------------------------

// Declared before the lock in every entry point that may prepare: the host hears of a new latency
// after main_ is released, so a host that re-prepares from inside setLatencySamples cannot deadlock.
NnProcessor::Publish::~Publish() {
    const int latency = p.new_latency_.exchange(-1);
    if (latency >= 0 && latency != p.getLatencySamples()) p.setLatencySamples(latency);
}

void NnProcessor::prepareToPlay(double sample_rate, int max_block) {
    Publish publish{*this};
    std::lock_guard<std::mutex> lock(main_);
    sample_rate_ = sample_rate;
    max_block_ = std::max(1, max_block);
    prepared_ = true;
    prepare_locked();
}

void NnProcessor::releaseResources() {
    std::lock_guard<std::mutex> lock(main_);
    gate_.close();
    prepared_ = false;
}

bool NnProcessor::isBusesLayoutSupported(const BusesLayout& layouts) const {
    const auto in = layouts.getMainInputChannelSet(), out = layouts.getMainOutputChannelSet();
    if (in != out) return false;
    return in == juce::AudioChannelSet::mono() || in == juce::AudioChannelSet::stereo();
}

void NnProcessor::setNonRealtime(bool offline) noexcept {
    AudioProcessor::setNonRealtime(offline);
    offline_.store(offline);
}

// audio thread; wait-free under the live policies; no allocation, no lock.
void NnProcessor::processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) {
    juce::ScopedNoDenormals no_denormals;
    const bool bypassed = bypass_->get();
    if (!gate_.try_enter()) {
        buffer.clear();  // being prepared (at most one rebuild): silence
        return;
    }
    // A host that renders offline gets complete, deterministic output (wait); live, the chosen policy.
    const int choice = offline_.load(std::memory_order_relaxed) ? 0 : static_cast<int>(policy_->load());
    controls_->policy.store(choice, std::memory_order_relaxed);
    const int total = buffer.getNumSamples();
    for (int offset = 0; offset < total; offset += block_)
        render(buffer, offset, std::min(block_, total - offset), bypassed);
    gate_.leave();
}

void NnProcessor::processBlockBypassed(juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) {
    juce::ScopedNoDenormals no_denormals;
    if (!gate_.try_enter()) {
        buffer.clear();
        return;
    }
    const int total = buffer.getNumSamples();
    for (int offset = 0; offset < total; offset += block_)
        render(buffer, offset, std::min(block_, total - offset), true);
    gate_.leave();
}

// audio thread; no allocation, no lock. n <= block_ samples from `offset`. The model keeps running
// while bypassed, so that switching back is seamless; the dry path is delayed by the reported latency.
void NnProcessor::render(juce::AudioBuffer<float>& buffer, int offset, int n, bool bypassed) noexcept {
    const int channels = std::min(channels_, buffer.getNumChannels());
    if (channels == 0 || n <= 0) return;
    const float in_gain = db_to_gain(in_gain_->load()), out_gain = db_to_gain(out_gain_->load());
    const float mix = bypassed ? 0.0f : mix_->load();
    const float out_scale = bypassed ? 1.0f : out_gain;
    for (int c = 0; c < channels_; ++c) {
        const float* src = buffer.getReadPointer(std::min(c, channels - 1), offset);
        float* dst = in_store_[static_cast<size_t>(c)].data();
        // A ramp from the last block's gain: no click when it moves.
        for (int i = 0; i < n; ++i)
            dst[i] = src[i] *
                     (last_in_gain_ + (in_gain - last_in_gain_) * static_cast<float>(i + 1) / static_cast<float>(n));
    }
    nn::Engine& engine = nn_->engine();
    engine.process(router_.gather(in_table_.data(), n), router_.engine_outputs(), n);
    router_.scatter(out_table_.data(), n);
    const bool wet_ok = wet_ok_.load(std::memory_order_relaxed);
    const size_t outs = wet_store_.size();
    const int len = static_cast<int>(delay_[0].size());
    for (int c = 0; c < channels; ++c) {
        float* io = buffer.getWritePointer(c, offset);
        const float* wet = wet_store_[static_cast<size_t>(c) % outs].data();
        float* line = delay_[static_cast<size_t>(c)].data();
        int pos = delay_pos_;
        for (int i = 0; i < n; ++i) {
            const float t = static_cast<float>(i + 1) / static_cast<float>(n);
            const float m = last_mix_ + (mix - last_mix_) * t;
            const float g = last_out_gain_ + (out_scale - last_out_gain_) * t;
            float dry = io[i];
            if (latency_ > 0) {
                const float delayed = line[pos];
                line[pos] = dry;
                dry = delayed;
                if (++pos == len) pos = 0;
            }
            const float w = wet_ok ? wet[i] : 0.0f;
            io[i] = bypassed ? dry : g * (m * w + (1.0f - m) * dry);
        }
        if (c == channels - 1) delay_pos_ = pos;
    }
    for (int c = channels; c < buffer.getNumChannels(); ++c) buffer.clear(c, offset, n);
    last_in_gain_ = in_gain;
    last_mix_ = mix;
    last_out_gain_ = out_scale;
}

// ---- the message thread --------------------------------------------------------------------------

void NnProcessor::timerCallback() {
    Publish publish{*this};
    std::unique_lock<std::mutex> lock(main_, std::try_to_lock);
    if (!lock.owns_lock() || !nn_) return;  // the host is preparing: next tick
    nn_->drain();
    for (size_t i = 0; i < kAttributeSlots; ++i) {
        if (attr_names_[i].empty() || !attr_known_[i]) continue;
        const float v = attr_values_[i]->load();
        if (v == attr_sent_[i]) continue;
        attr_sent_[i] = v;
        nn_->set({nn::Atom::sym(attr_names_[i]), nn::Atom::num(v)});
    }
    nn_->stats();
    if (restart_pending_ && prepared_) prepare_locked();
}

void NnProcessor::log(const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mutex_);
    log_.push_back(line);
    while (log_.size() > kLogLines) log_.pop_front();
    log_version_.fetch_add(1);
    // Also on stderr, for a host started from a shell (and the test hosts, which read it).
    std::fprintf(stderr, "[nn~] %s\n", line.c_str());
}

std::vector<std::string> NnProcessor::log_lines() {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return {log_.begin(), log_.end()};
}

NnProcessor::Status NnProcessor::status() {
    std::lock_guard<std::mutex> lock(main_);
    Status s;
    s.model = saved_path_;
    if (!nn_) return s;
    const nn::Engine& e = nn_->engine();
    if (const auto info = e.info()) {
        s.model = info->path;
        for (const auto& [key, value] : info->metadata)
            if (key == "name") s.model_name = value;
        for (const nn::MethodInfo& m : info->methods) s.methods.push_back(m.name);
    }
    s.method = e.method();
    const nn::Shape sh = nn_->method_shape();
    s.inputs = sh.inputs;
    s.outputs = sh.outputs;
    s.batch = nn_->shape().batch;
    s.host_channels = channels_;
    s.latency = latency_;
    s.buffer_size = e.buffer_size();
    s.headroom = e.headroom();
    s.sample_rate = sample_rate_;
    s.playing = wet_ok_.load();
    s.attributes = attr_names_;
    for (size_t i = 0; i + 1 < last_stats_.size(); i += 2) {
        const std::string& key = last_stats_[i].symbol;
        const double v = last_stats_[i + 1].number;
        if (key == "late") s.late = v;
        if (key == "dropped") s.dropped = v;
        if (key == "model_ms_mean" && sample_rate_ > 0 && s.buffer_size > 0)
            s.cost = v / (1000.0 * s.buffer_size / sample_rate_);
    }
    return s;
}

void NnProcessor::load_file(const std::string& path, const std::string& method) {
    std::lock_guard<std::mutex> lock(main_);
    std::string resolved;
    if (!resolve(path, resolved)) return;
    saved_path_ = resolved;
    saved_method_ = method;
    log("loading " + resolved + " (the current model plays until it is ready)");
    nn_->load(resolved, method);
}

void NnProcessor::choose_method(const std::string& name) {
    Publish publish{*this};
    std::lock_guard<std::mutex> lock(main_);
    nn_->method(name);
    saved_method_ = nn_->engine().method();
}

void NnProcessor::set_buffer_size(int samples) {
    Publish publish{*this};
    std::lock_guard<std::mutex> lock(main_);
    buffer_request_ = samples;
    if (samples > 0) nn_->bufsize(samples);
    if (prepared_ && restart_pending_) prepare_locked();
}

void NnProcessor::set_headroom(int buffers) {
    Publish publish{*this};
    std::lock_guard<std::mutex> lock(main_);
    headroom_ = buffers;
    nn_->headroom(buffers);
    if (prepared_ && restart_pending_) prepare_locked();
}

// ---- state ----------------------------------------------------------------------------------------------

void NnProcessor::getStateInformation(juce::MemoryBlock& dest) {
    juce::ValueTree state = params_.copyState();
    {
        std::lock_guard<std::mutex> lock(main_);
        const std::string path = nn_ && nn_->engine().info() ? nn_->engine().path() : saved_path_;
        const std::string method = nn_ && nn_->engine().info() ? nn_->engine().method() : saved_method_;
        state.setProperty("model", juce::String(path), nullptr);
        state.setProperty("method", juce::String(method), nullptr);
        state.setProperty("buffer_size", buffer_request_, nullptr);
        state.setProperty("headroom", headroom_, nullptr);
    }
    if (auto xml = state.createXml()) copyXmlToBinary(*xml, dest);
}

// A model file missing at restore: a message and silence; every other setting and parameter survives,
// and the path stays in the state so that saving again does not lose it.
void NnProcessor::setStateInformation(const void* data, int size) {
    std::unique_ptr<juce::XmlElement> xml(getXmlFromBinary(data, size));
    if (!xml || !xml->hasTagName(params_.state.getType())) {
        log("error: the saved state is not nn~'s (or is damaged): keeping the current settings");
        return;
    }
    juce::ValueTree state = juce::ValueTree::fromXml(*xml);
    params_.replaceState(state);
    Publish publish{*this};
    std::lock_guard<std::mutex> lock(main_);
    buffer_request_ = std::clamp(static_cast<int>(state.getProperty("buffer_size", 0)), 0, nn::kMaxBufferSize);
    headroom_ = std::max(0, static_cast<int>(state.getProperty("headroom", 0)));
    saved_path_ = state.getProperty("model", "").toString().toStdString();
    saved_method_ = state.getProperty("method", "").toString().toStdString();
    if (!saved_path_.empty() && !nn::is_folder(saved_path_) && !std::filesystem::is_regular_file(saved_path_)) {
        log("error: the model file saved with this project is missing: " + saved_path_ +
            "; the plugin is silent until you load a model (the other settings are restored)");
        open_locked("", "", true);
        wet_ok_.store(false);
        return;
    }
    open_locked(saved_path_.empty() ? "demo" : saved_path_, saved_method_, true);
    if (wet_ok_.load()) log("restored " + nn_->engine().path() + " (method " + nn_->engine().method() + ")");
}

juce::AudioProcessorEditor* NnProcessor::createEditor() { return new NnEditor(*this); }

// JUCE's plugin wrappers create the processor through this.
juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter() { return new NnProcessor(); }
