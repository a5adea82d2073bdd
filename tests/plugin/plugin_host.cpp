// A headless test host on JUCE's hosting classes: loads the built nn~ VST3 or LV2, renders a raw
// float32 file through it and writes the output, so tests/plugin can compare it with the model run in
// Python. The plugin prints its messages on stderr ([nn~] ...); this host prints `latency <samples>`
// and `error ...` on stdout.
//
//   nn_plugin_host --vst3 <bundle.vst3> | --lv2 <folder holding the .lv2 bundle> <uri>
//       --in <planar f32> --out <planar f32> [--channels 1|2] [--rate 44100] [--block 512]
//       [--state-in <file>] [--state-out <file>] [--swap-state <file> <block index>]
//       [--param <name> <normalised value>]... [--realtime]
//   nn_plugin_host --load-while-rendering <model> <swap block> --in <mono f32> --out <mono f32>
//       the plugin's processor in this process, rendering offline in blocks of 512 while the message
//       loop runs between blocks; at <swap block> it loads <model> as the editor's Load button does
//       (NnProcessor::load_file: a background load, the old model plays until the new one is ready)
//       and prints `loaded_at <block>` for the first block after the plugin's log said `loaded`
//   nn_plugin_host --editor-shot <png>
//       builds the plugin's processor in this process (its sources are compiled in), opens its editor
//       in a window on $DISPLAY, writes what the editor drew to <png> and prints `label <text>` for
//       each label it shows (the model's name among them), then `ready`; it quits on a line on stdin
// Input and output are planar: all of channel 0, then channel 1. The render is offline
// (setNonRealtime) unless --realtime.
#include <juce_audio_processors/juce_audio_processors.h>
#include <juce_gui_basics/juce_gui_basics.h>

#include "nn_processor.h"

#include <X11/Xlib.h>

#include <cstdio>
#include <iostream>
#include <map>

juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter();  // nn_tilde/plugin/nn_processor.cpp

namespace {

juce::MemoryBlock read_file(const juce::String& path) {
    juce::MemoryBlock m;
    juce::File(path).loadFileAsData(m);
    return m;
}

int fail(const juce::String& text) {
    std::cout << "error " << text << std::endl;
    return 1;
}

void print_labels(juce::Component& c) {
    for (auto* child : c.getChildren()) {
        if (auto* label = dynamic_cast<juce::Label*>(child); label && label->isVisible())
            std::cout << "label " << label->getText().replace("\n", " | ") << std::endl;
        print_labels(*child);
    }
}

int load_while_rendering(const juce::String& model, int swap_block, const juce::String& in_path,
                         const juce::String& out_path) {
    juce::MemoryBlock input;
    juce::File(in_path).loadFileAsData(input);
    const int frames = static_cast<int>(input.getSize() / sizeof(float)), block = 512;
    const auto* in = static_cast<const float*>(input.getData());
    std::vector<float> out(static_cast<size_t>(frames));
    NnProcessor processor;
    juce::AudioProcessor::BusesLayout layout;
    layout.inputBuses.add(juce::AudioChannelSet::mono());
    layout.outputBuses.add(juce::AudioChannelSet::mono());
    if (!processor.setBusesLayout(layout)) return fail("mono refused");
    processor.setNonRealtime(true);
    processor.prepareToPlay(44100, block);
    juce::AudioBuffer<float> buffer(1, block);
    juce::MidiBuffer midi;
    int loaded_at = -1;
    for (int start = 0, index = 0; start < frames; start += block, ++index) {
        if (index == swap_block) processor.load_file(model.toStdString(), "");
        juce::MessageManager::getInstance()->runDispatchLoopUntil(20);  // the processor's timer drains
        if (loaded_at < 0 && index > swap_block)
            for (const std::string& line : processor.log_lines())
                if (line.rfind("loaded ", 0) == 0) loaded_at = index;
        const int n = std::min(block, frames - start);
        buffer.setSize(1, n, false, false, true);
        std::copy(in + start, in + start + n, buffer.getWritePointer(0));
        processor.processBlock(buffer, midi);
        std::copy(buffer.getReadPointer(0), buffer.getReadPointer(0) + n, out.begin() + start);
    }
    std::cout << "latency " << processor.getLatencySamples() << std::endl;
    std::cout << "loaded_at " << loaded_at << std::endl;
    juce::File(out_path).replaceWithData(out.data(), out.size() * sizeof(float));
    processor.releaseResources();
    return 0;
}

int editor_shot(const juce::String& png) {
    std::unique_ptr<juce::AudioProcessor> processor(createPluginFilter());
    processor->setPlayConfigDetails(2, 2, 44100, 512);
    processor->prepareToPlay(44100, 512);
    std::unique_ptr<juce::AudioProcessorEditor> editor(processor->createEditorIfNeeded());
    juce::DocumentWindow window("nn~", juce::Colours::black, 0);
    window.setUsingNativeTitleBar(true);
    window.setContentNonOwned(editor.get(), true);
    window.setVisible(true);
    juce::MessageManager::getInstance()->runDispatchLoopUntil(1500);  // timers refresh the editor
    const juce::Image image = editor->createComponentSnapshot(editor->getLocalBounds());
    juce::File(png).deleteFile();
    juce::FileOutputStream out{juce::File(png)};
    if (!out.openedOk() || !juce::PNGImageFormat().writeImageToStream(image, out)) return fail("cannot write " + png);
    print_labels(*editor);
    // The window stays on screen until a line arrives on stdin, so the test can capture the screen.
    std::cout << "ready" << std::endl;
    std::string line;
    std::getline(std::cin, line);
    window.clearContentComponent();
    editor.reset();
    processor->releaseResources();
    return 0;
}

}  // namespace

// JUCE looks up the window manager's atoms with "only if it exists" when it connects to the display
// and then sets properties with them: on a bare Xvfb (no window manager) they are 0 and Xlib's
// default error handler ends the process (BadAtom). Interning them first, as a window manager would,
// lets the editor open on a bare Xvfb.
// This connection stays open until the process ends.
void intern_window_manager_atoms() {
    Display* display = XOpenDisplay(nullptr);
    if (!display) return;  // JUCE reports the missing display itself
    for (const char* name : {"WM_PROTOCOLS",
                             "WM_TAKE_FOCUS",
                             "WM_DELETE_WINDOW",
                             "_NET_WM_PING",
                             "WM_CHANGE_STATE",
                             "WM_STATE",
                             "_NET_WM_WINDOW_TYPE",
                             "_NET_WM_STATE",
                             "_NET_WM_STATE_HIDDEN",
                             "_NET_FRAME_EXTENTS",
                             "_NET_WORKAREA",
                             "_MOTIF_WM_HINTS",
                             "_NET_WM_WINDOW_TYPE_NORMAL",
                             "_NET_WM_WINDOW_TYPE_DIALOG",
                             "_NET_WM_STATE_SKIP_TASKBAR",
                             "_NET_WM_STATE_ABOVE",
                             "_NET_WM_ICON",
                             "_NET_WM_NAME",
                             "_NET_WM_PID",
                             "_NET_ACTIVE_WINDOW"})
        XInternAtom(display, name, False);
    // Left open: Xvfb resets (and forgets its atoms) when its last client disconnects.
}

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (juce::String(argv[i]) == "--editor-shot") intern_window_manager_atoms();
    juce::ScopedJuceInitialiser_GUI init;
    juce::String vst3, lv2_dir, lv2_uri, in_path, out_path, state_in, state_out, swap_state;
    int channels = 1, block = 512, swap_block = -1;
    double rate = 44100;
    bool realtime = false;
    juce::String load_model;
    int load_block = -1;
    std::vector<std::pair<juce::String, float>> params;
    for (int i = 1; i < argc; ++i) {
        const juce::String a(argv[i]);
        auto next = [&]() { return i + 1 < argc ? juce::String(argv[++i]) : juce::String(); };
        if (a == "--vst3")
            vst3 = next();
        else if (a == "--lv2") {
            lv2_dir = next();
            lv2_uri = next();
        } else if (a == "--in")
            in_path = next();
        else if (a == "--out")
            out_path = next();
        else if (a == "--channels")
            channels = next().getIntValue();
        else if (a == "--rate")
            rate = next().getDoubleValue();
        else if (a == "--block")
            block = next().getIntValue();
        else if (a == "--state-in")
            state_in = next();
        else if (a == "--state-out")
            state_out = next();
        else if (a == "--swap-state") {
            swap_state = next();
            swap_block = next().getIntValue();
        } else if (a == "--param") {
            const auto name = next();
            params.emplace_back(name, next().getFloatValue());
        } else if (a == "--realtime")
            realtime = true;
        else if (a == "--load-while-rendering") {
            const auto model = next();
            load_model = model;
            load_block = next().getIntValue();
        } else if (a == "--editor-shot")
            return editor_shot(next());
        else
            return fail("unknown argument " + a);
    }

    if (load_model.isNotEmpty()) return load_while_rendering(load_model, load_block, in_path, out_path);

    juce::AudioPluginFormatManager formats;
    juce::OwnedArray<juce::PluginDescription> found;
    juce::AudioPluginFormat* format = nullptr;
    juce::String id;
    if (vst3.isNotEmpty()) {
        format = new juce::VST3PluginFormat();
        id = vst3;
    } else {
        format = new juce::LV2PluginFormat();
        id = lv2_uri;
    }
    formats.addFormat(format);
    if (lv2_dir.isNotEmpty()) format->searchPathsForPlugins(juce::FileSearchPath(lv2_dir), false, false);
    format->findAllTypesForFile(found, id);
    if (found.isEmpty()) return fail("no plugin found in " + id);

    juce::String error;
    std::unique_ptr<juce::AudioPluginInstance> plugin = formats.createPluginInstance(*found[0], rate, block, error);
    if (!plugin) return fail("cannot instantiate: " + error);

    juce::AudioProcessor::BusesLayout layout;
    const auto set = channels == 1 ? juce::AudioChannelSet::mono() : juce::AudioChannelSet::stereo();
    layout.inputBuses.add(set);
    layout.outputBuses.add(set);
    if (!plugin->setBusesLayout(layout)) return fail("the plugin refuses " + juce::String(channels) + " channels");

    if (state_in.isNotEmpty()) {
        const auto m = read_file(state_in);
        plugin->setStateInformation(m.getData(), static_cast<int>(m.getSize()));
    }
    for (const auto& [name, value] : params) {
        bool set_one = false;
        for (auto* p : plugin->getParameters())
            if (p->getName(100) == name) {
                p->setValue(value);
                set_one = true;
            }
        if (!set_one) return fail("no parameter named " + name);
    }
    plugin->setNonRealtime(!realtime);
    plugin->prepareToPlay(rate, block);
    // The plugin drains its engine's events on its message thread (timers): let them run.
    juce::MessageManager::getInstance()->runDispatchLoopUntil(300);
    std::cout << "latency " << plugin->getLatencySamples() << std::endl;

    juce::MemoryBlock input = read_file(in_path);
    const int frames = static_cast<int>(input.getSize() / sizeof(float)) / channels;
    const auto* in = static_cast<const float*>(input.getData());
    std::vector<float> out(static_cast<size_t>(frames) * static_cast<size_t>(channels));
    juce::AudioBuffer<float> buffer(std::max(channels, plugin->getTotalNumOutputChannels()), block);
    juce::MidiBuffer midi;
    int index = 0;
    for (int start = 0; start < frames; start += block, ++index) {
        if (index == swap_block && swap_state.isNotEmpty()) {
            const auto m = read_file(swap_state);
            plugin->setStateInformation(m.getData(), static_cast<int>(m.getSize()));
        }
        const int n = std::min(block, frames - start);
        buffer.setSize(buffer.getNumChannels(), n, false, false, true);
        buffer.clear();
        for (int c = 0; c < channels; ++c)
            std::copy(in + static_cast<size_t>(c) * frames + start, in + static_cast<size_t>(c) * frames + start + n,
                      buffer.getWritePointer(c));
        plugin->processBlock(buffer, midi);
        for (int c = 0; c < channels; ++c)
            std::copy(buffer.getReadPointer(c), buffer.getReadPointer(c) + n,
                      out.begin() + static_cast<long>(c) * frames + start);
    }
    std::cout << "latency_after " << plugin->getLatencySamples() << std::endl;
    juce::File(out_path).replaceWithData(out.data(), out.size() * sizeof(float));
    if (state_out.isNotEmpty()) {
        juce::MemoryBlock m;
        plugin->getStateInformation(m);
        juce::File(state_out).replaceWithData(m.getData(), m.getSize());
    }
    plugin->releaseResources();
    plugin.reset();
    return 0;
}
