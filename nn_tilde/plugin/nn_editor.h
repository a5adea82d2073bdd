// The plugin's editor: model, method, channels, latency, cost and late buffers, the settings, the
// parameters and the message log (the lines Pd's console would print). Message thread only; it talks
// to the processor (NnProcessor's editor calls), never to the engine.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>
#include <juce_gui_basics/juce_gui_basics.h>

#include <memory>
#include <vector>

#include "nn_processor.h"

class NnEditor final : public juce::AudioProcessorEditor, public juce::FileDragAndDropTarget, private juce::Timer {
public:
    explicit NnEditor(NnProcessor& p);
    ~NnEditor() override;
    void paint(juce::Graphics& g) override;
    void resized() override;
    bool isInterestedInFileDrag(const juce::StringArray& files) override;
    void filesDropped(const juce::StringArray& files, int x, int y) override;

private:
    void timerCallback() override;
    void refresh();
    void choose_file();

    using SliderAttachment = juce::AudioProcessorValueTreeState::SliderAttachment;
    using ButtonAttachment = juce::AudioProcessorValueTreeState::ButtonAttachment;
    using ComboAttachment = juce::AudioProcessorValueTreeState::ComboBoxAttachment;

    NnProcessor& p_;
    juce::Label model_, details_;
    juce::TextButton load_{"Load model..."};
    juce::ComboBox method_, buffer_, headroom_, policy_;
    juce::Label method_label_{{}, "method"}, buffer_label_{{}, "buffer"}, headroom_label_{{}, "headroom"},
        policy_label_{{}, "late policy"};
    juce::Slider in_gain_, out_gain_, mix_;
    juce::Label in_label_{{}, "input dB"}, out_label_{{}, "output dB"}, mix_label_{{}, "dry/wet"};
    juce::ToggleButton bypass_{"bypass"};
    std::vector<std::unique_ptr<juce::Slider>> attr_;
    std::vector<std::unique_ptr<juce::Label>> attr_label_;
    std::vector<std::unique_ptr<SliderAttachment>> attr_attach_;
    std::unique_ptr<SliderAttachment> in_attach_, out_attach_, mix_attach_;
    std::unique_ptr<ButtonAttachment> bypass_attach_;
    std::unique_ptr<ComboAttachment> policy_attach_;
    juce::TextEditor log_;
    std::unique_ptr<juce::FileChooser> chooser_;
    int log_version_ = -1;
    std::vector<std::string> methods_;
};
