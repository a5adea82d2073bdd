# The DAW plugin (nn_tilde/plugin/, docs/PLUGIN.md): VST3, LV2 and a standalone app built with Debian's
# JUCE 7 (juce-modules-source; find_package(JUCE CONFIG)), over the same nn::Instance as the Pd and Max
# objects. Included by the top CMakeLists.txt when NN_BUILD_PLUGIN is on.

# The LV2 plugin's identity, kept in every host's saved session: a placeholder until the project has
# its own web address (changing it later orphans the LV2 sessions saved with the old one).
set(NN_PLUGIN_LV2_URI "https://github.com/nn-tilde/nn-tilde/plugin" CACHE STRING "The LV2 plugin's URI (http or https)")

# The fewest JUCE modules the plugin needs: the plugin client, the editor's widgets (juce_gui_basics
# comes with them) and the audio formats the standalone app's file player links.
juce_add_plugin(nn_plugin
  PRODUCT_NAME "nn~"
  COMPANY_NAME "nn~ project"
  VERSION "${PROJECT_VERSION}"
  PLUGIN_MANUFACTURER_CODE Nnpj
  PLUGIN_CODE Nntl
  FORMATS VST3 LV2 Standalone
  IS_SYNTH FALSE
  NEEDS_MIDI_INPUT FALSE
  NEEDS_MIDI_OUTPUT FALSE
  EDITOR_WANTS_KEYBOARD_FOCUS FALSE
  COPY_PLUGIN_AFTER_BUILD FALSE
  VST3_CATEGORIES Fx
  LV2URI "${NN_PLUGIN_LV2_URI}")
target_sources(nn_plugin PRIVATE nn_tilde/plugin/nn_processor.cpp nn_tilde/plugin/nn_editor.cpp)
target_compile_definitions(nn_plugin PUBLIC
  JUCE_WEB_BROWSER=0 JUCE_USE_CURL=0 JUCE_VST3_CAN_REPLACE_VST2=0 JUCE_DISPLAY_SPLASH_SCREEN=0
  # Debian's JUCE defines JucePlugin_LV2URI as the product name unless it comes from the command line:
  # the LV2 binary and its manifest would then disagree and no host could instantiate it.
  JucePlugin_LV2URI="${NN_PLUGIN_LV2_URI}"
  NN_PLUGIN_MODELS_DIR="${CMAKE_SOURCE_DIR}/models")
target_compile_options(nn_plugin PRIVATE ${NN_TORCH_FLAGS})
target_link_libraries(nn_plugin
  PRIVATE nn_core nn_host nn_version juce::juce_audio_utils
  PUBLIC juce::juce_recommended_config_flags juce::juce_recommended_warning_flags)
# Debian's JUCE builds its Ogg Vorbis and FLAC readers on the system's libraries, which the standalone
# app (it links juce_audio_formats through juce_audio_utils) must then link.
find_package(PkgConfig REQUIRED)
pkg_check_modules(NN_JUCE_CODECS REQUIRED IMPORTED_TARGET vorbisfile vorbisenc flac)
target_link_libraries(nn_plugin PRIVATE PkgConfig::NN_JUCE_CODECS)
# libvorbis itself (vorbis_comment_add_tag), which the linker wants named for the standalone app.
pkg_check_modules(NN_JUCE_VORBIS REQUIRED IMPORTED_TARGET vorbis ogg)
target_link_libraries(nn_plugin_Standalone PRIVATE PkgConfig::NN_JUCE_VORBIS)
foreach(format VST3 LV2 Standalone)
  if(TARGET nn_plugin_${format})
    set_target_properties(nn_plugin_${format} PROPERTIES BUILD_RPATH "${NN_TORCH_LIBDIR}" INSTALL_RPATH "$ORIGIN${NN_TORCH_INSTALL_RPATH}")
    # Only the format's entry points are exported (they live in the format target's own objects);
    # the shared code's, nn~'s and libtorch's template symbols stay local, so they cannot clash with
    # another plugin's in the same host (as the Pd external does).
    target_link_options(nn_plugin_${format} PRIVATE -Wl,--exclude-libs,ALL)
  endif()
endforeach()

# The demo model a new instance plays, inside each bundle where the plugin looks first (models/ beside
# the binary: the LV2 bundle and the standalone app; Contents/Resources/models in the VST3 bundle).
# The plugin also looks in this source tree's models/ (NN_PLUGIN_MODELS_DIR), for a build-tree plugin.
add_custom_command(TARGET nn_plugin_VST3 POST_BUILD
  COMMAND ${CMAKE_COMMAND} -E make_directory "$<TARGET_FILE_DIR:nn_plugin_VST3>/../Resources/models"
  COMMAND ${CMAKE_COMMAND} -E copy_if_different "${CMAKE_SOURCE_DIR}/models/demo.ts" "$<TARGET_FILE_DIR:nn_plugin_VST3>/../Resources/models/demo.ts"
  VERBATIM)
foreach(format LV2 Standalone)
  add_custom_command(TARGET nn_plugin_${format} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E make_directory "$<TARGET_FILE_DIR:nn_plugin_${format}>/models"
    COMMAND ${CMAKE_COMMAND} -E copy_if_different "${CMAKE_SOURCE_DIR}/models/demo.ts" "$<TARGET_FILE_DIR:nn_plugin_${format}>/models/demo.ts"
    VERBATIM)
endforeach()

# The headless test host of tests/plugin (JUCE's VST3 and LV2 hosting classes).
if(NN_BUILD_TESTS)
  juce_add_console_app(nn_plugin_host PRODUCT_NAME nn_plugin_host)
  # The plugin's own sources too: --editor-shot opens its editor in this process (tests/plugin/test_editor.py).
  target_sources(nn_plugin_host PRIVATE tests/plugin/plugin_host.cpp nn_tilde/plugin/nn_processor.cpp nn_tilde/plugin/nn_editor.cpp)
  target_compile_definitions(nn_plugin_host PRIVATE
    JUCE_PLUGINHOST_VST3=1 JUCE_PLUGINHOST_LV2=1 JUCE_WEB_BROWSER=0 JUCE_USE_CURL=0 JUCE_MODAL_LOOPS_PERMITTED=1
    NN_PLUGIN_MODELS_DIR="${CMAKE_SOURCE_DIR}/models")
  target_include_directories(nn_plugin_host PRIVATE nn_tilde/plugin)
  target_compile_options(nn_plugin_host PRIVATE ${NN_TORCH_FLAGS})
  target_link_libraries(nn_plugin_host PRIVATE juce::juce_audio_processors juce::juce_recommended_config_flags
                                               nn_core nn_host nn_version)
  set_target_properties(nn_plugin_host PROPERTIES BUILD_RPATH "${NN_TORCH_LIBDIR}")
  pkg_check_modules(NN_X11 REQUIRED IMPORTED_TARGET x11)  # the editor test on a bare Xvfb (plugin_host.cpp)
  target_link_libraries(nn_plugin_host PRIVATE PkgConfig::NN_X11)
endif()

# The lilv host of tests/plugin (Debian's liblilv-dev): the LV2 bundle in a host that is not JUCE.
if(NN_BUILD_TESTS)
  pkg_check_modules(NN_LILV IMPORTED_TARGET lilv-0)
  if(NN_LILV_FOUND)
    enable_language(C)
    add_executable(nn_lv2_host tests/plugin/lv2_host.c)
    target_link_libraries(nn_lv2_host PRIVATE PkgConfig::NN_LILV)
  endif()
endif()
