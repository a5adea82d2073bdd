// Host-neutral pieces of the nn~ adapters: everything the Pd and Max objects do that is not a call
// into the host's API. Argument parsing, late-policy names, the mapping of multichannel cables to
// batch items, attribute value conversion, help/assist strings, model-info formatting (as lines and
// as a dictionary-like tree) and the gate that keeps a host's audio thread out of the engine while
// the main thread re-prepares it. torch-free, host-free: tests/cpp/test_host.cpp covers it in every
// build, including the sanitizer builds.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "contract.h"    // kMaxBufferSize, attribute type codes
#include "model.h"       // AttributeValue (header only: nothing here links libtorch)
#include "model_info.h"  // Atom, InfoLine, the model facts
#include "realtime.h"
#include "stream.h"

namespace nn {

// ---- object arguments --------------------------------------------------------------------------

// `nn~ <model> [<method>] [<buffer size>]` (and mc.nn~). In Max, attribute arguments (`@name values`)
// follow the positional ones; they are the host's business and end the positional list here.
struct ObjectArgs {
    std::string model;                // empty: no model given (an empty object waiting for `load`)
    std::string method;               // empty: the model's default
    int buffer_size = 0;              // 0: the default
    std::vector<std::string> errors;  // one message per bad argument; the object is still created
};
ObjectArgs parse_object_args(const std::vector<Atom>& args);

// Index of the first `@name` symbol (the start of Max attribute arguments), or args.size().
size_t positional_count(const std::vector<Atom>& args);

// A buffer size typed by the user: true with `out` set when `value` is a whole number of samples in
// 1..kMaxBufferSize. Checked on the double so that 1e10 or -0.5 are named for what they are.
bool parse_buffer_size(double value, int& out, std::string& error);
// `headroom <buffers>`: extra buffers of latency, a whole number in 0..StreamEngine::kMaxHeadroom;
// otherwise false with `error` set.
bool parse_headroom(double value, int& out, std::string& error);

// ---- late policy ---------------------------------------------------------------------------------

// "wait", "silence", "hold" (also 0, 1, 2 as numbers, for hosts whose attribute menus send indices).
bool parse_policy(const Atom& value, LatePolicy& out, std::string& error);
const char* policy_name(LatePolicy p);

// ---- model files ---------------------------------------------------------------------------------

// Names to look up for a model typed as `name`: with ".ts" appended when missing, then as typed.
std::vector<std::string> model_file_candidates(const std::string& name);
bool is_absolute_path(const std::string& path);  // "/x", "C:\x", "C:/x", "\\server\x"
// A model name that resolves to a directory is a mistake worth naming (rule file.folder), not "not found".
bool is_folder(const std::string& path);
std::string folder_error(const std::string& path);
// The last place a model name is looked up, after the host's own search: the models/ folder of the
// package that holds the external (Pd: the external's folder; Max: the package folder above externals/),
// so a package's own models play wherever the patch is. The first candidate (model_file_candidates)
// that is a file there, or "" when none is (or `name` is absolute, or `package_dir` empty).
std::string package_model_file(const std::string& package_dir, const std::string& name);

// ---- multichannel cables <-> batch items ----------------------------------------------------------

// mc.nn~: inlet i carries the model's input channel i for every voice (voice v = batch item v), outlet
// o carries output channel o for every voice. A cable with fewer channels than voices is wrapped
// (voice v reads channel v mod n, so a single-channel cable feeds every voice); extra channels are
// ignored. Plain nn~ is the same with one voice and single-channel cables.
//
// The router owns float buffers for the engine (Max hands doubles, the engine computes in float) and
// the pointer tables the engine reads. Engine channel index = item * model_channels + channel, as in
// StreamEngine.
class ChannelRouter {
public:
    // main thread (dsp), while the host does not call gather/scatter; allocates.
    // inlet_channels[i]: channels in the cable at inlet i (the host reports 1 for an unconnected inlet);
    // missing entries count as 1. Returns the total number of host input channels it expects.
    int prepare(int batch, int model_inputs, int model_outputs, const std::vector<int>& inlet_channels, int max_block);

    int batch() const noexcept { return batch_; }
    int host_input_channels() const noexcept { return total_in_; }        // sum of the inlets' cable widths
    int host_output_channels() const noexcept { return batch_ * outs_; }  // outlets * voices
    int max_block() const noexcept { return max_block_; }
    // Which host input channel (index into the host's flat input list) feeds engine input (item, channel).
    int source_of(int item, int channel) const noexcept;
    // Which host output channel (flat, outlet-major) receives engine output (item, channel).
    int destination_of(int item, int channel) const noexcept { return channel * batch_ + item; }

    // audio thread; wait-free; no allocation. Converts n <= max_block samples of the host's inputs
    // into the engine's float buffers (wrapping narrow cables) and returns the engine's input table.
    template <class Sample>
    const float* const* gather(const Sample* const* ins, int n) noexcept NN_NONBLOCKING;
    float* const* engine_outputs() noexcept NN_NONBLOCKING { return out_ptrs_.data(); }
    // audio thread; wait-free; no allocation. Copies the engine's output to the host's outputs.
    template <class Sample>
    void scatter(Sample* const* outs, int n) noexcept NN_NONBLOCKING;

private:
    int batch_ = 0, ins_ = 0, outs_ = 0, max_block_ = 0, total_in_ = 0;
    std::vector<int> source_;  // [batch * ins_]: host input channel per engine input
    std::vector<float> in_store_, out_store_;
    std::vector<float*> in_ptrs_, out_ptrs_;
};

template <class Sample>
const float* const* ChannelRouter::gather(const Sample* const* ins, int n) noexcept {
    for (size_t k = 0; k < source_.size(); ++k) {
        const Sample* src = ins[source_[k]];
        float* dst = in_ptrs_[k];
        for (int i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
    }
    return in_ptrs_.data();
}

template <class Sample>
void ChannelRouter::scatter(Sample* const* outs, int n) noexcept {
    for (int b = 0; b < batch_; ++b)
        for (int c = 0; c < outs_; ++c) {
            const float* src = out_ptrs_[static_cast<size_t>(b * outs_ + c)];
            Sample* dst = outs[destination_of(b, c)];
            for (int i = 0; i < n; ++i) dst[i] = static_cast<Sample>(src[i]);
        }
}

// ---- keeping the audio thread out while the main thread re-prepares -----------------------------

// Max compiles a new DSP chain (and calls the object's dsp64 method) on the main thread while the
// audio thread may still run the old chain, which calls the same object's perform routine. Pd never
// does this, so Engine::prepare() assumes the host's audio is stopped. The gate restores that
// assumption: perform enters it (one atomic add) and outputs silence when it is closed; the main
// thread closes it, waits for a perform already inside to leave (at most one host block), prepares,
// and opens it again.
class PerformGate {
public:
    // audio thread; wait-free; no allocation. False: the gate is closed, output silence, do not leave().
    bool try_enter() noexcept NN_NONBLOCKING {
        // acquire: what the main thread prepared before open() is visible inside.
        if (state_.fetch_add(1, std::memory_order_acquire) & kClosed) {
            state_.fetch_sub(1, std::memory_order_relaxed);
            return false;
        }
        return true;
    }
    // audio thread; wait-free. release: the engine's audio-side state is handed back to close().
    void leave() noexcept NN_NONBLOCKING { state_.fetch_sub(1, std::memory_order_release); }
    // main thread; blocks until no perform is inside (spins, then yields: a host block is short).
    void close() noexcept;
    // main thread. release: pairs with try_enter's acquire.
    void open() noexcept { state_.fetch_and(~kClosed, std::memory_order_release); }
    bool is_open() const noexcept { return (state_.load(std::memory_order_relaxed) & kClosed) == 0; }

private:
    static constexpr int kClosed = 1 << 30;  // high bit: closed; low bits: performs inside
    std::atomic<int> state_{kClosed};        // closed until the first dsp
};

// ---- attributes ------------------------------------------------------------------------------------

// True when element i of the attribute is a buffer or tensor, i.e. the host must look up the array
// (Pd array, Max buffer~) the user named and fill AttributeValue::samples.
bool wants_array(const AttributeInfo* attr, size_t i);
// Converts what the user typed after `set <name>` into engine values. Bool elements also accept the
// symbols true/false/on/off; a number given for a str element becomes its text ("2", "0.5"), as the
// reference nn~ accepts. Type and count errors are left to Engine::set_attribute, which names them.
std::vector<AttributeValue> attribute_values(const AttributeInfo* attr, const std::vector<Atom>& atoms);

// ---- text --------------------------------------------------------------------------------------------

std::string format_number(double v);                    // as Pd and Max print numbers: "2", "0.5"
std::string atoms_to_text(const std::vector<Atom>& a);  // "a 1 0.5"
// One line of `info` as both hosts print it to their console: "key values...".
std::string info_text(const InfoLine& line);

// Assistance (Max) / help text for an inlet or outlet of nn~ or mc.nn~ given the current method
// (nullptr: no model). The last outlet is the message outlet.
std::string inlet_assist(const MethodInfo* m, int index, bool mc);
std::string outlet_assist(const MethodInfo* m, int index, int signal_outlets, bool mc);

// ---- model info (nn.info, and nn~'s info) ----------------------------------------------------------

// A small ordered tree of atoms: what Max's t_dictionary (and JSON) can hold. Keys keep their order.
struct Dict {
    struct Entry {
        std::string key;
        std::vector<Atom> atoms;      // a value (one atom) or an array
        std::shared_ptr<Dict> child;  // or a nested dictionary (atoms empty)
        bool array = false;           // print as an array even with one element (labels, lists)
    };
    std::vector<Entry> entries;

    Dict& set(const std::string& key, Atom value);
    Dict& set_array(const std::string& key, std::vector<Atom> values);
    Dict& child(const std::string& key);  // appends a nested dictionary and returns it
    const Entry* find(const std::string& key) const;
};

// nn.info's report of a model file, one line per fact (see docs/MAX.md):
//   path <file> | samplerate <hz or 0> | methods <names...>
//   method <name> <in channels> <in ratio> <out channels> <out ratio>
//   inputs <method> <labels...> | outputs <method> <labels...> | latency <method> <samples>
//   attribute <name> <types...> | buffers <names...> | metadata <key> <value> | warning <text>
std::vector<InfoLine> model_info_lines(const ModelInfo& info);
// The same facts as a tree: path, samplerate, methods{name{inputs{channels,ratio,labels},
// outputs{...}, latency}}, attributes{name{types}}, buffers, metadata{key: value}, warnings.
Dict model_info_dict(const ModelInfo& info);

}  // namespace nn
