// nn~ as a DAW plugin (VST3, LV2, standalone): the third thin adapter over nn::Instance, after the Pd
// and Max objects. See docs/PLUGIN.md.
//
// Threads. processBlock is the audio thread: it enters a PerformGate, reads parameters (atomics), hands
// audio to the engine through a ChannelRouter and mixes; it never allocates, locks or waits under the
// live policies (silence, hold). Everything else (prepareToPlay, state, the editor's requests, the timer
// that drains the engine's events) runs on the host's threads under `main_`, a mutex the audio thread
// never takes: JUCE's LV2 wrapper calls prepareToPlay on the host's thread while its timers run on a
// message thread of their own, so "the main thread" of nn::Instance is whichever thread holds `main_`.
// The engine is replaced or re-prepared only with the gate closed (the audio thread then outputs the
// dry signal's delay line, i.e. silence after the delay, for at most the rebuild).
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>
#include <juce_events/juce_events.h>

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "host.h"
#include "instance.h"

class NnProcessor;

// Where the core's words go in a plugin: a message log the editor shows (the Pd console's lines).
class NnPluginPort final : public nn::HostPort {
public:
    explicit NnPluginPort(NnProcessor& p) : p_(p) {}
    void error(const std::string& text) override;
    void warning(const std::string& text) override;
    void post(const std::string& text) override;
    void output(const std::string& key, const std::vector<nn::Atom>& values) override;
    void restart(const std::string& why) override;
    bool resolve(const std::string& name, std::string& path) override;
    bool read_array(const std::string& name, std::vector<float>& samples) override;
    void method_changed() override;

private:
    NnProcessor& p_;
};

class NnProcessor final : public juce::AudioProcessor, private juce::Timer {
public:
    static constexpr size_t kAttributeSlots = 8;  // hosts need a fixed parameter list
    static constexpr size_t kLogLines = 200;

    NnProcessor();
    ~NnProcessor() override;

    // ---- juce::AudioProcessor -------------------------------------------------------------------
    void prepareToPlay(double sample_rate, int max_block) override;
    void releaseResources() override;
    bool isBusesLayoutSupported(const BusesLayout& layouts) const override;
    using AudioProcessor::processBlock;  // the double-precision overloads stay JUCE's (never used: float only)
    using AudioProcessor::processBlockBypassed;
    void processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi) override;  // audio thread
    void processBlockBypassed(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi) override;
    juce::AudioProcessorParameter* getBypassParameter() const override { return bypass_; }
    void setNonRealtime(bool offline) noexcept override;

    juce::AudioProcessorEditor* createEditor() override;
    bool hasEditor() const override { return true; }
    const juce::String getName() const override { return "nn~"; }
    bool acceptsMidi() const override { return false; }
    bool producesMidi() const override { return false; }
    double getTailLengthSeconds() const override { return 0.0; }
    int getNumPrograms() override { return 1; }
    int getCurrentProgram() override { return 0; }
    void setCurrentProgram(int) override {}
    const juce::String getProgramName(int) override { return {}; }
    void changeProgramName(int, const juce::String&) override {}
    void getStateInformation(juce::MemoryBlock& dest) override;
    void setStateInformation(const void* data, int size) override;

    // ---- the editor (message thread) ------------------------------------------------------------
    struct Status {
        std::string model, model_name, method;
        std::vector<std::string> methods;
        int inputs = 0, outputs = 0, batch = 0, host_channels = 0;
        int latency = 0, buffer_size = 0, headroom = 0;
        double sample_rate = 0, cost = 0;  // cost: the model's mean call time / the buffer's duration
        double late = 0, dropped = 0;
        bool playing = false;                                 // a model plays (not refused, not missing)
        std::array<std::string, kAttributeSlots> attributes;  // names of the mapped parameters
    };
    Status status();
    std::vector<std::string> log_lines();
    int log_version() const { return log_version_.load(); }
    void load_file(const std::string& path, const std::string& method);  // asynchronous: the old model plays
    void choose_method(const std::string& name);
    void set_buffer_size(int samples);  // 0: the default
    void set_headroom(int buffers);
    juce::AudioProcessorValueTreeState& parameters() { return params_; }

private:
    friend class NnPluginPort;
    static juce::AudioProcessorValueTreeState::ParameterLayout layout();
    void log(const std::string& line);
    bool resolve(const std::string& name, std::string& path);
    // Everything below: under main_.
    void open_locked(const std::string& path, const std::string& method, bool keep_parameters);
    void prepare_locked();
    void map_attributes_locked(bool pull);
    void timerCallback() override;
    int host_channels() const;

    std::mutex main_;
    NnPluginPort port_{*this};
    std::unique_ptr<nn::Instance> nn_;
    std::shared_ptr<nn::LiveControls> controls_ = std::make_shared<nn::LiveControls>();
    std::string saved_path_, saved_method_;  // what the state names, even when the file is missing
    int buffer_request_ = 0, headroom_ = 0;
    double sample_rate_ = 0;
    int max_block_ = 0;
    bool prepared_ = false, restart_pending_ = false;
    std::array<std::string, kAttributeSlots> attr_names_;
    std::array<float, kAttributeSlots> attr_sent_{};
    std::array<bool, kAttributeSlots> attr_known_{};
    std::vector<nn::Atom> last_stats_;

    std::mutex log_mutex_;  // the log is written and read on non-audio threads only
    std::deque<std::string> log_;
    std::atomic<int> log_version_{0};

    juce::AudioProcessorValueTreeState params_;
    std::atomic<float>*in_gain_, *out_gain_, *mix_, *policy_;
    std::array<std::atomic<float>*, kAttributeSlots> attr_values_{};
    juce::AudioParameterBool* bypass_ = nullptr;

    // ---- audio side: prepared under main_ with the gate closed, read by processBlock ---------------
    nn::PerformGate gate_;
    nn::ChannelRouter router_;
    std::atomic<bool> offline_{false};
    std::atomic<bool> wet_ok_{false};  // a model plays at this rate; false: the wet signal is silence
    int channels_ = 0;                 // host channels (in == out)
    int block_ = 0;                    // the largest block the engine was prepared for
    std::vector<std::vector<float>> in_store_, wet_store_, delay_;
    std::vector<const float*> in_table_;  // router's host inputs -> in_store_
    std::vector<float*> out_table_;       // router's host outputs -> wet_store_
    int delay_pos_ = 0, latency_ = 0;
    std::atomic<int> new_latency_{-1};  // prepared under main_, reported by Publish (-1: nothing new)
    struct Publish {
        NnProcessor& p;
        ~Publish();
    };
    float last_in_gain_ = 1, last_out_gain_ = 1, last_mix_ = 1;
    void render(juce::AudioBuffer<float>& buffer, int offset, int n, bool bypassed) noexcept;
};
