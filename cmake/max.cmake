# Max/MSP externals nn~, mc.nn~ and nn.info (included from CMakeLists.txt when NN_BUILD_MAX is ON).
#
#   cmake -S . -B build-max -DNN_BUILD_MAX=ON -DMAX_SDK_PATH=<checkout of Cycling74/max-sdk-base>
#
# The SDK (MIT licence) is never downloaded by this build and never committed: clone it yourself.
# macOS: .mxo bundles (Max symbols resolved at load time, as the SDK's max-linker-flags.txt says);
# Windows: .mxe64 linked against the SDK's MaxAPI.lib and MaxAudio.lib; Linux (no Max exists there):
# modules named as the SDK names them (.mxl_<arch>) with Max's symbols left undefined, built so the
# adapters compile and link here and a mock of the Max API can run them (tests/max/).
if(NOT NN_WITH_TORCH)
  message(FATAL_ERROR "NN_BUILD_MAX needs NN_WITH_TORCH=ON (the externals run models with libtorch)")
endif()
if(NOT MAX_SDK_PATH OR NOT EXISTS "${MAX_SDK_PATH}/c74support/max-includes/ext.h")
  message(FATAL_ERROR "NN_BUILD_MAX: set MAX_SDK_PATH to a checkout of Cycling74/max-sdk-base (the folder holding "
                      "c74support/), e.g. `git clone https://github.com/Cycling74/max-sdk-base`; nn~ never downloads it")
endif()

set(NN_MAX_SUPPORT "${MAX_SDK_PATH}/c74support")
set(NN_MAX_PACKAGE "nn_tilde" CACHE STRING "Folder name of the Max package that `cmake --install` lays out")
set(NN_MAX_OUT "${CMAKE_BINARY_DIR}/max/${NN_MAX_PACKAGE}")

function(nn_add_max_external target output_name source)
  add_library(${target} MODULE ${source})
  # SYSTEM: the SDK's headers warn under C++20 (volatile parameters); our code keeps -Wall -Wextra.
  target_include_directories(${target} SYSTEM PRIVATE "${NN_MAX_SUPPORT}" "${NN_MAX_SUPPORT}/max-includes"
                                                       "${NN_MAX_SUPPORT}/msp-includes")
  target_link_libraries(${target} PRIVATE nn_core nn_host nn_warnings nn_version)
  target_compile_definitions(${target} PRIVATE ${ARGN})
  if(NOT MSVC)
    target_compile_options(${target} PRIVATE -Wno-cast-function-type)  # Max's (method) cast idiom
  endif()
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME "${output_name}" PREFIX ""
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${NN_MAX_OUT}/externals")
  if(APPLE)
    string(REPLACE "_" "-" NN_BUNDLE_ID "${target}")  # bundle identifiers: letters, digits, '-' and '.'
    configure_file("${CMAKE_SOURCE_DIR}/cmake/max-Info.plist.in" "${CMAKE_BINARY_DIR}/max-Info-${target}.plist.in" @ONLY)
    set_target_properties(${target} PROPERTIES BUNDLE TRUE BUNDLE_EXTENSION "mxo"
      MACOSX_BUNDLE_INFO_PLIST "${CMAKE_BINARY_DIR}/max-Info-${target}.plist.in"
      # nn~.mxo/Contents/MacOS/nn~ -> <package>/support holds libtorch when bundled
      INSTALL_RPATH "@loader_path/../../../../support${NN_TORCH_INSTALL_RPATH}" BUILD_RPATH "${NN_TORCH_LIBDIR}")
    # Max exports its API from the host process: every Max symbol may stay undefined (the SDK's list).
    file(STRINGS "${MAX_SDK_PATH}/script/max-linker-flags.txt" _flags)
    separate_arguments(_flags UNIX_COMMAND "${_flags}")
    target_link_options(${target} PRIVATE ${_flags})
    find_library(NN_MAX_AUDIO_API MaxAudioAPI PATHS "${NN_MAX_SUPPORT}/msp-includes" NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
    if(NN_MAX_AUDIO_API)
      target_link_libraries(${target} PRIVATE "${NN_MAX_AUDIO_API}")
    endif()
  elseif(WIN32)
    set_target_properties(${target} PROPERTIES SUFFIX ".mxe64")
    target_compile_definitions(${target} PRIVATE WIN_VERSION MAXAPI_USE_MSCRT _USE_MATH_DEFINES)
    target_link_libraries(${target} PRIVATE "${NN_MAX_SUPPORT}/max-includes/x64/MaxAPI.lib"
                                            "${NN_MAX_SUPPORT}/msp-includes/x64/MaxAudio.lib")
  else()
    set_target_properties(${target} PROPERTIES SUFFIX ".mxl_${CMAKE_SYSTEM_PROCESSOR}"
      BUILD_RPATH "${NN_TORCH_LIBDIR}" INSTALL_RPATH "$ORIGIN/../support${NN_TORCH_INSTALL_RPATH}")
    # Only ext_main is exported; libtorch's symbols stay local (as for the Pd external).
    target_link_options(${target} PRIVATE -Wl,--exclude-libs,ALL)
  endif()
  install(TARGETS ${target} ${NN_TORCH_DEPS_MAX}
          LIBRARY DESTINATION ${NN_MAX_PACKAGE}/externals BUNDLE DESTINATION ${NN_MAX_PACKAGE}/externals)
endfunction()

nn_add_max_external(nn_max "nn~" nn_tilde/max/nn_tilde_max.cpp)
nn_add_max_external(nn_max_mc "mc.nn~" nn_tilde/max/nn_tilde_max.cpp NN_MAX_MC=1)
nn_add_max_external(nn_max_info "nn.info" nn_tilde/max/nn_info_max.cpp)

# `cmake --install <build> --prefix "~/Documents/Max 9/Packages"` lays out the package <prefix>/nn_tilde/:
#   externals/ (nn~, mc.nn~, nn.info)  help/ (*.maxhelp)  patchers/ (overview)  models/ (demo.ts)
#   support/ (libtorch's libraries with -DNN_BUNDLE_LIBTORCH=ON)  package-info.json  README.md
install(FILES patches/max/nn~.maxhelp patches/max/mc.nn~.maxhelp patches/max/nn.info.maxhelp
        DESTINATION ${NN_MAX_PACKAGE}/help)
install(FILES "patches/max/nn~ overview.maxpat" DESTINATION ${NN_MAX_PACKAGE}/patchers)
# package-info.json carries the VERSION file's number (patches/max/package-info.json.in).
configure_file(patches/max/package-info.json.in "${CMAKE_BINARY_DIR}/max/package-info.json" @ONLY)
install(FILES "${CMAKE_BINARY_DIR}/max/package-info.json" README.md LICENSE DESTINATION ${NN_MAX_PACKAGE})
install(DIRECTORY models/ DESTINATION ${NN_MAX_PACKAGE}/models FILES_MATCHING PATTERN "*.ts" PATTERN "*.md")
if(NN_BUNDLE_LIBTORCH)
  # Max adds a package's support/ folder to the DLL search path on Windows; on macOS the externals'
  # rpath points there.
  nn_install_torch_libraries(nn_max_torch ${NN_MAX_PACKAGE}/support)
endif()
