// The plugin's editor (see nn_editor.h).
#include "nn_editor.h"

#include <filesystem>

namespace {
const int kBufferSizes[] = {0, 256, 512, 1024, 2048, 4096, 8192};  // 0: the engine's default
}

NnEditor::NnEditor(NnProcessor& p) : AudioProcessorEditor(p), p_(p) {
    auto& params = p_.parameters();
    model_.setFont(juce::Font(18.0f, juce::Font::bold));
    addAndMakeVisible(model_);
    addAndMakeVisible(details_);
    details_.setJustificationType(juce::Justification::topLeft);
    addAndMakeVisible(load_);
    load_.onClick = [this] { choose_file(); };

    for (auto* l :
         {&method_label_, &buffer_label_, &headroom_label_, &policy_label_, &in_label_, &out_label_, &mix_label_})
        addAndMakeVisible(*l);
    addAndMakeVisible(method_);
    method_.onChange = [this] {
        const int i = method_.getSelectedItemIndex();
        if (i >= 0 && i < static_cast<int>(methods_.size())) p_.choose_method(methods_[static_cast<size_t>(i)]);
    };
    for (int size : kBufferSizes) buffer_.addItem(size == 0 ? "default" : juce::String(size), size + 1);
    buffer_.onChange = [this] { p_.set_buffer_size(buffer_.getSelectedId() - 1); };
    addAndMakeVisible(buffer_);
    for (int h = 0; h <= 4; ++h) headroom_.addItem(juce::String(h), h + 1);
    headroom_.onChange = [this] { p_.set_headroom(headroom_.getSelectedId() - 1); };
    addAndMakeVisible(headroom_);
    policy_.addItemList({"wait", "silence", "hold"}, 1);
    addAndMakeVisible(policy_);
    policy_attach_ = std::make_unique<ComboAttachment>(params, "policy", policy_);

    for (auto* s : {&in_gain_, &out_gain_, &mix_}) {
        s->setSliderStyle(juce::Slider::LinearHorizontal);
        s->setTextBoxStyle(juce::Slider::TextBoxRight, false, 60, 20);
        addAndMakeVisible(*s);
    }
    in_attach_ = std::make_unique<SliderAttachment>(params, "in_gain", in_gain_);
    out_attach_ = std::make_unique<SliderAttachment>(params, "out_gain", out_gain_);
    mix_attach_ = std::make_unique<SliderAttachment>(params, "mix", mix_);
    addAndMakeVisible(bypass_);
    bypass_attach_ = std::make_unique<ButtonAttachment>(params, "bypass", bypass_);
    for (size_t i = 0; i < NnProcessor::kAttributeSlots; ++i) {
        attr_.push_back(std::make_unique<juce::Slider>(juce::Slider::LinearHorizontal, juce::Slider::TextBoxRight));
        attr_label_.push_back(std::make_unique<juce::Label>());
        attr_attach_.push_back(
            std::make_unique<SliderAttachment>(params, "attr" + juce::String(static_cast<int>(i) + 1), *attr_.back()));
        addChildComponent(*attr_.back());
        addChildComponent(*attr_label_.back());
    }
    log_.setMultiLine(true);
    log_.setReadOnly(true);
    log_.setFont(juce::Font(juce::Font::getDefaultMonospacedFontName(), 12.0f, juce::Font::plain));
    addAndMakeVisible(log_);
    setSize(640, 600);
    refresh();
    startTimerHz(5);
}

NnEditor::~NnEditor() { stopTimer(); }

void NnEditor::paint(juce::Graphics& g) {
    g.fillAll(getLookAndFeel().findColour(juce::ResizableWindow::backgroundColourId));
}

void NnEditor::resized() {
    auto r = getLocalBounds().reduced(10);
    auto top = r.removeFromTop(28);
    load_.setBounds(top.removeFromRight(130));
    model_.setBounds(top);
    details_.setBounds(r.removeFromTop(60));
    auto row = [&r](juce::Label& label, juce::Component& c) {
        auto line = r.removeFromTop(26);
        label.setBounds(line.removeFromLeft(100));
        c.setBounds(line.removeFromLeft(300));
        r.removeFromTop(2);
    };
    row(method_label_, method_);
    row(buffer_label_, buffer_);
    row(headroom_label_, headroom_);
    row(policy_label_, policy_);
    row(in_label_, in_gain_);
    row(out_label_, out_gain_);
    row(mix_label_, mix_);
    bypass_.setBounds(r.removeFromTop(24).withWidth(120));
    for (size_t i = 0; i < NnProcessor::kAttributeSlots; ++i)
        if (attr_[i]->isVisible()) row(*attr_label_[i], *attr_[i]);
    log_.setBounds(r.reduced(0, 4));
}

void NnEditor::refresh() {
    const NnProcessor::Status s = p_.status();
    const std::string file =
        s.model.empty() ? std::string("(no model)") : std::filesystem::path(s.model).filename().string();
    model_.setText(s.model_name.empty() ? file : s.model_name + "  (" + file + ")", juce::dontSendNotification);
    juce::String d;
    d << "method " << s.method << ": " << s.inputs << " in, " << s.outputs << " out";
    if (s.batch > 1) d << " (" << s.batch << " host channels as batch items)";
    d << "\nlatency " << juce::String(s.sample_rate > 0 ? 1000.0 * s.latency / s.sample_rate : 0.0, 1) << " ms ("
      << s.latency << " samples), buffer " << s.buffer_size << ", headroom " << s.headroom << "\n"
      << "model cost " << juce::String(100.0 * s.cost, 1) << "% of real time, late " << static_cast<int64_t>(s.late)
      << ", dropped " << static_cast<int64_t>(s.dropped) << (s.playing ? "" : "   -- silent: see the messages");
    details_.setText(d, juce::dontSendNotification);
    if (s.methods != methods_) {
        methods_ = s.methods;
        method_.clear(juce::dontSendNotification);
        for (size_t i = 0; i < methods_.size(); ++i) method_.addItem(methods_[i], static_cast<int>(i) + 1);
    }
    for (size_t i = 0; i < methods_.size(); ++i)
        if (methods_[i] == s.method) method_.setSelectedId(static_cast<int>(i) + 1, juce::dontSendNotification);
    buffer_.setSelectedId(1, juce::dontSendNotification);
    for (int size : kBufferSizes)
        if (size == s.buffer_size) buffer_.setSelectedId(size + 1, juce::dontSendNotification);
    headroom_.setSelectedId(s.headroom + 1, juce::dontSendNotification);
    bool layout = false;
    for (size_t i = 0; i < attr_.size(); ++i) {
        const bool show = !s.attributes[i].empty();
        if (show != attr_[i]->isVisible()) layout = true;
        attr_[i]->setVisible(show);
        attr_label_[i]->setVisible(show);
        attr_label_[i]->setText(s.attributes[i], juce::dontSendNotification);
    }
    if (layout) resized();
    if (p_.log_version() != log_version_) {
        log_version_ = p_.log_version();
        juce::String text;
        for (const std::string& line : p_.log_lines()) text << line << "\n";
        log_.setText(text, false);
        log_.moveCaretToEnd();
    }
}

void NnEditor::timerCallback() { refresh(); }

void NnEditor::choose_file() {
    chooser_ = std::make_unique<juce::FileChooser>("Load an nn~ model", juce::File(), "*.ts");
    chooser_->launchAsync(juce::FileBrowserComponent::openMode | juce::FileBrowserComponent::canSelectFiles,
                          [this](const juce::FileChooser& fc) {
                              const juce::File f = fc.getResult();
                              if (f != juce::File()) p_.load_file(f.getFullPathName().toStdString(), "");
                          });
}

bool NnEditor::isInterestedInFileDrag(const juce::StringArray& files) { return files.size() == 1; }

void NnEditor::filesDropped(const juce::StringArray& files, int, int) {
    if (files.size() == 1) p_.load_file(files[0].toStdString(), "");
}
