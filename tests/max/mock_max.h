// A mock of the part of the Max API that nn~, mc.nn~ and nn.info call, so that the Linux builds of
// the real externals (NN_BUILD_MAX=ON) can be loaded with dlopen and driven here: object creation
// with attribute arguments, messages (deferred to a "main thread" when sent from another), qelems
// and clocks, dsp64/perform64 with multichannel inlet counts, outlets, console, buffer~ and
// dictionaries. It follows the SDK's documented semantics; it is not Max, and passing here says
// nothing about Max's scheduler, threading or UI (docs/MAX.md).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace mock {

struct Message {
    std::vector<std::string> atoms;  // atoms[0]: the selector; numbers printed with %g
    std::string text() const;        // joined with spaces
};

void init(const std::vector<std::string>& search_path, double sample_rate);
bool load_external(const std::string& path, std::string& error);  // dlopen + ext_main

void* create(const std::string& cls, const std::string& args);  // nullptr when the class refuses
void free_object(void* obj);
void send(void* obj, const std::string& message);                    // "set drive 8": from the main thread
void send_from_other_thread(void* obj, const std::string& message);  // as Max's scheduler would
void pump();                                                         // run deferred calls, qelems, clocks
bool pump_until(const std::function<bool()>& done, int timeout_ms);

long signal_inlets(void* obj);
std::vector<std::string> outlet_types(void* obj);        // left to right ("" for a message outlet)
std::vector<Message> outlet_log(void* obj, int outlet);  // left-to-right index
bool outlet_has(void* obj, int outlet, const std::string& text_prefix);
std::vector<std::string> console();  // "post: ...", "warn: ...", "error: ..."
bool console_has(const std::string& level, const std::string& fragment);
void clear_console();
std::string assist(void* obj, bool inlet, long index);

bool dsp(void* obj, double sample_rate, long max_block, const std::vector<long>& inlet_channels);
long multichannel_outputs(void* obj, long outlet);  // -1: the class has no multichanneloutputs
void perform(void* obj, std::vector<double*> ins, std::vector<double*> outs, long n);

void add_buffer(const std::string& name, const std::vector<float>& interleaved, long channels);
std::string dictionary_json(const std::string& name);  // "" when no such registered dictionary

}  // namespace mock
