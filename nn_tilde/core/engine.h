// The host-agnostic nn~ engine: one model method streamed through a StreamEngine, a persistent loader
// thread for load/reload, attribute commands run on the worker, and an event queue that the host's
// main thread drains (errors from the worker reach the console only through it). The Pd and Max
// adapters are thin layers over this class. torch-free header.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "contract.h"    // kDefaultBufferSize, kMaxBufferSize, choose_buffer_size
#include "exit_guard.h"  // Stoppable
#include "model.h"
#include "realtime.h"
#include "stream.h"

namespace nn {

// Creation-time load shared by the host adapters: reads the model (main thread; blocks) and picks the
// method (empty: the model's default), so the host can give the object one inlet per model input and
// one outlet per model output before handing the model to Engine::load. When the file cannot be
// loaded, `error` says why and the counts stay 1 and 1; an unknown method is reported by load().
struct CreationModel {
    LoadResult model;
    std::string method;
    int inputs = 1, outputs = 1;
    std::string error;
    std::vector<std::string> warnings;  // with an error: the file's other problems, for the console
};
CreationModel load_for_creation(const std::string& path, const std::string& method);

// How long deleting an engine waits for a running model call before leaving it to finish on its own
// (StreamEngine::retire), and how long a synchronous load waits for the worker. (The exit guard's
// wait, kExitWaitMs, is in exit_guard.h; delete_engine, the way hosts delete an engine, is below.)
constexpr int kRetireWaitMs = 2000;
constexpr int kSyncWaitMs = 2000;

class Engine final : public WorkerListener, public Stoppable {
public:
    enum class EventKind { Error, Warning, Value, Reconfigure, Loaded };
    struct Event {
        EventKind kind;
        std::string text;          // Error/Warning: the message; Value: the attribute name
        std::vector<Atom> values;  // Value: the attribute's elements
    };

    // controls: shared with the other engines of the same host object (see LiveControls); null: own.
    Engine(int batch, int host_inputs, int host_outputs, std::shared_ptr<LiveControls> controls = nullptr);
    // main thread; waits for a running load, and up to kRetireWaitMs for a running model call: a call
    // that takes longer is left to finish on the worker, which then frees the model (the host goes on).
    ~Engine() override;
    // Joins the loader and the worker now (idempotent); the engine then outputs silence. Called for
    // every live engine at process exit (see exit_guard.cpp). False when the worker is still inside a
    // model call after `wait`.
    bool stop_threads(std::chrono::milliseconds wait) override;

    // ---- main thread --------------------------------------------------------------------------
    // Synchronous load (object creation) of a model already read with load_model(), so the host can
    // size its inlets from the same read: the model plays from the first sample. Empty method: the
    // model's default. Returns false with `error` set; warnings are appended to `warnings`.
    bool load(LoadResult model, const std::string& method, double sample_rate, std::string& error,
              std::vector<std::string>& warnings);
    // Asynchronous load on the loader thread; the current model keeps playing until it is ready.
    void load_async(const std::string& path, const std::string& method);
    bool reload(std::string& error);
    bool set_method(const std::string& name, std::string& error, std::vector<std::string>& warnings);
    // Values are checked against the attribute's types and count here; the setter runs on the worker.
    bool set_attribute(const std::string& name, const std::vector<AttributeValue>& values, std::string& error);
    bool get_attribute(const std::string& name, std::string& error);  // answer arrives as a Value event
    // The values set with set_attribute since the model file was (re)loaded, in the order first set,
    // the last value of each: what a host replays on an engine it builds for the same file.
    using AttributeSetting = std::pair<std::string, std::vector<AttributeValue>>;
    const std::vector<AttributeSetting>& attribute_settings() const { return settings_; }
    // Returns true when the host must re-run prepare() (restart DSP) for the new size to take effect.
    bool set_buffer_size(int requested, std::string& error, std::string& note);
    // Extra buffers of latency (0..StreamEngine::kMaxHeadroom, checked by parse_headroom in host.h).
    // Returns true when the host must re-run prepare() (restart DSP) for it to take effect.
    bool set_headroom(int buffers);
    // For a host whose signal connections follow the method's channel counts (Pd's -m): a method
    // with other counts than the engine's is then not warned about. Set before the first load.
    void set_channels_follow_method(bool on) { follow_channels_.store(on, std::memory_order_relaxed); }
    // any thread: they write the LiveControls this engine shares (stream.h)
    void set_enabled(bool on) { stream_->set_enabled(on); }
    void set_policy(LatePolicy p) { stream_->set_policy(p); }
    const std::shared_ptr<LiveControls>& controls() const { return stream_->controls(); }
    void reset_stats() { stream_->reset_stats(); }

    // A new engine of another shape (Pd's -v/-m and mc.nn~ when the cable's width or the method's
    // channel counts change) playing what this one plays: the same file read again and loaded with
    // the same method, buffer size, headroom, channel following and attribute values set with
    // set_attribute, sharing this engine's LiveControls (policy and enable state) (set again on the model read afresh; its streaming state starts
    // fresh). Blocks while the model loads. Null, with `error` set, when the file cannot be read
    // again: the host keeps this engine. Errors after that (a refused load, a refused value) are
    // appended to `errors`, warnings to `warnings`.
    std::unique_ptr<Engine> reshaped(int batch, int host_inputs, int host_outputs, double sample_rate,
                                     std::string& error, std::vector<std::string>& errors,
                                     std::vector<std::string>& warnings) const;

    // The host's audio is stopped for this engine while this runs (Pd: the dsp method).
    void prepare(double sample_rate, int max_block);

    // Drains the event queue; installs finished loads. Returns the events the host must show.
    std::vector<Event> poll();
    bool busy() const;  // a load, a worker task or events are pending: keep polling
    bool has_events() const noexcept { return inbox_->pending.load(std::memory_order_relaxed) > 0; }  // audio thread OK

    std::shared_ptr<const ModelInfo> info() const { return info_; }
    const std::string& method() const { return method_; }
    const std::string& path() const { return path_; }
    const AttributeInfo* attribute(const std::string& name) const;
    std::vector<InfoLine> describe() const;     // `info`
    InfoLine stats_line() const;                // `stats`
    int buffer_size() const;                    // B in use (or that will be used at the next prepare)
    int latency() const;                        // samples; exact for the current configuration
    int headroom() const { return headroom_; }  // extra buffers of latency (set_headroom)
    int host_inputs() const { return stream_->host_inputs(); }
    int host_outputs() const { return stream_->host_outputs(); }
    double sample_rate() const { return sample_rate_; }
    bool model_failed() const;

    // ---- audio thread -------------------------------------------------------------------------
    // audio thread; wait-free under the live policies; no allocation, no lock, no exception.
    void process(const float* const* in, float* const* out, int n) noexcept { stream_->process(in, out, n); }

private:
    struct Node {
        Event event;
        std::shared_ptr<const ModelInfo> info;  // Loaded
        std::unique_ptr<Processor> processor;   // Loaded
        std::string path, method;               // Loaded
        int buffer_size = 0;                    // Loaded
        Node* next = nullptr;
    };
    struct Request {
        std::string path, method;
        int requested_buffer = 0;
        int batch = 1;
        double sample_rate = 0;
    };

    // The event queue the main thread drains. Shared with the tasks that report from the worker, so
    // a task still inside a model call when the engine is deleted (see ~Engine) reports into a live
    // queue, which nobody reads any more, instead of into freed memory.
    struct Inbox {
        MpscQueue<Node> events;
        std::atomic<int> pending{0};
        void push(Node* n) {
            pending.fetch_add(1);
            events.push(n);
        }
        void push(EventKind kind, std::string text, std::vector<Atom> values = {});
    };

    // WorkerListener: worker thread; only enqueues
    void on_worker_error(const std::string& message) override;
    void on_worker_warning(const std::string& message) override;
    void push(EventKind kind, std::string text, std::vector<Atom> values = {});

    // loader thread
    void loader_main();
    bool build(const Request& rq, LoadResult lr, Node& result, std::string& error, std::vector<std::string>& warnings);
    bool adopt(Node& n);  // main thread: make a finished load current; true if prepare() must run again
    void install(std::unique_ptr<Processor> p);  // main thread: hands the processor to the worker
    void warn_channels(const MethodInfo& m, std::vector<std::string>& warnings) const;

    std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
    std::unique_ptr<StreamEngine> stream_;  // handed to its worker by ~Engine if a model call hangs

    // main thread state
    std::shared_ptr<const ModelInfo> info_;
    std::string path_, method_;
    int requested_buffer_ = 0;                  // 0: default
    int planned_buffer_ = 0;                    // B to use at the next prepare()
    int headroom_ = 0;                          // extra buffers of latency at the next prepare()
    std::atomic<bool> follow_channels_{false};  // read by the loader (warn_channels)
    int max_block_ = 0;                         // from the last prepare()
    double sample_rate_ = 0;
    bool prepared_ = false;
    std::unique_ptr<Processor> parked_;       // a loaded processor waiting for prepare() (new buffer size)
    std::vector<AttributeSetting> settings_;  // attribute_settings()

    // loader
    std::atomic<Request*> request_{nullptr};
    std::atomic<int> loading_{0};  // loads requested and not finished
    std::atomic<bool> stop_{false};
    AutoResetEvent wake_loader_;
    std::thread loader_;
};

// main thread; how hosts delete an engine (null is fine). Returns false, with `message` set for the
// console, when its model was still inside a call after kRetireWaitMs and was left to its worker,
// which frees it when the call returns (see ~Engine).
bool delete_engine(Engine* engine, std::string& message);

}  // namespace nn
