// One nn~ object as every host has it: what the Pd object, the Max objects and the plugin do alike,
// over one Engine. Creation from the object's arguments, the messages (load, method, set, bufsize,
// ...), draining the engine's events to the host, rebuilding the engine for another shape, info and
// stats. A host implements HostPort (where words and values go, how it finds files and arrays, how it
// restarts its audio) and keeps only what is its own API: its object, its inlets and outlets, its
// perform routine and how it reads its messages.
//
// Threads: every member runs on the host's main thread, except engine().process (the audio thread,
// through the host's perform routine) and controls() (any thread; see LiveControls in stream.h). The
// engine is replaced only by reshape(), on the main thread, while the host's audio does not run
// (Pd: inside dsp; Max: with its PerformGate closed; the plugin: in prepareToPlay).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "host.h"  // ObjectArgs
#include "model_info.h"

namespace nn {

// What a host provides. main thread.
class HostPort {
public:
    virtual ~HostPort() = default;
    virtual void error(const std::string& text) = 0;    // Pd: pd_error; Max: object_error
    virtual void warning(const std::string& text) = 0;  // Pd: "warning: ..."; Max: object_warn
    virtual void post(const std::string& text) = 0;     // a plain console line
    // The message outlet (`info` lines, `stats`, attribute values, `loaded`).
    virtual void output(const std::string& key, const std::vector<Atom>& values) = 0;
    // The engine must be prepared again (new buffer size or headroom); `why` is empty or a line for the
    // console. Pd restarts DSP, Max re-prepares between two blocks, the plugin asks its host.
    virtual void restart(const std::string& why) = 0;
    // A model name as the user typed it -> a file path; false after telling the user why (not found, a
    // folder), in the host's words for where it looked.
    virtual bool resolve(const std::string& name, std::string& path) = 0;
    // The samples of a host array (Pd array, Max buffer~) for a buffer-typed attribute element; false
    // after telling the user why.
    virtual bool read_array(const std::string& name, std::vector<float>& samples) = 0;
    // A finished load or a method change may have changed the method's channel counts (Pd's -m
    // follows them at its next DSP restart).
    virtual void method_changed() {}
};

// The engine's shape: voices (batch items) and signal channels per voice, fixed for an engine's life.
struct Shape {
    int batch = 1, inputs = 1, outputs = 1;
    bool operator==(const Shape& o) const { return batch == o.batch && inputs == o.inputs && outputs == o.outputs; }
    bool operator!=(const Shape& o) const { return !(*this == o); }
};

class Instance {
public:
    // main thread; blocks (reads the file). The object's arguments: prints their errors, resolves the
    // model through the port and reads it, so the host can size its inlets and outlets from the
    // method's channel counts (CreationModel::inputs/outputs) before creating the Instance.
    static CreationModel open(HostPort& port, const ObjectArgs& args);

    // main thread; blocks while the model loads, so the object plays from its first sample. Prints
    // what goes wrong through the port; an object whose model cannot load is created empty (silent).
    // channels_follow_method: the host's cables follow the method's channel counts (Pd's -m).
    // controls: shared with the host's any-thread setters (null: a new one).
    Instance(HostPort& port, Shape shape, const ObjectArgs& args, CreationModel model, double sample_rate,
             bool channels_follow_method = false, std::shared_ptr<LiveControls> controls = nullptr);
    ~Instance();  // main thread; joins the engine's threads (a model call that hangs is left behind)
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    Engine& engine() { return *engine_; }
    const Engine& engine() const { return *engine_; }
    const Shape& shape() const { return shape_; }
    // any thread: the settings the audio thread reads, which outlive engine rebuilds.
    const std::shared_ptr<LiveControls>& controls() const { return controls_; }
    // The current method's channel counts (1 and 1 without a model).
    Shape method_shape() const;

    // Replaces the engine by one of `shape` playing the same thing (Engine::reshaped: every setting
    // carries over). While the host's audio does not run; blocks while the model loads. False when the
    // file cannot be read again: the old engine stays, and so does shape().
    bool reshape(Shape shape, double sample_rate);

    // Drains the engine's events to the port. Returns true while a load or a worker task is under way:
    // the host polls again a little later (its audio may be off, so perform cannot ask).
    bool drain();

    // ---- messages ---------------------------------------------------------------------------------
    void load(const std::string& name, const std::string& method);  // name: as typed (resolved here)
    void reload();
    void method(const std::string& name);
    void set(const std::vector<Atom>& args);  // <attribute> <values...>
    void get(const std::string& name);
    void bufsize(double samples);
    void headroom(double buffers);
    void policy(const Atom& value);  // wait|silence|hold or 0|1|2
    void enable(bool on);
    void info();  // `info`: each line to the console and to the message outlet
    void stats();
    void reset_stats();

private:
    HostPort& port_;
    std::shared_ptr<LiveControls> controls_;
    std::unique_ptr<Engine> engine_;
    Shape shape_;
    bool follow_;
};

}  // namespace nn
