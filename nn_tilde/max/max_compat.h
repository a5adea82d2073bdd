// Every Max SDK include and platform guard of the nn~ Max externals lives here (as pd_compat.h does
// for Pd). Built against Cycling74/max-sdk-base (MIT): the SDK infers MAC_VERSION, WIN_VERSION or
// LINUX_VERSION itself (ext_infer_system.h); Max runs on macOS and Windows only, the Linux build is a
// compile-and-link check (see docs/MAX.md).
#pragma once

#include <string>

#include "ext.h"
#include "ext_buffer.h"
#include "ext_dictobj.h"
#include "ext_obex.h"
#include "host.h"
#include "z_dsp.h"

// Max's perform routines take doubles since Max 6; the engine computes in float (router converts).
static_assert(sizeof(double) == 8, "perform64 hands doubles");

// Max assist strings are written into a caller's buffer of this size (ext_assist.h uses 512 too).
#define NN_MAX_ASSIST_CHARS 512

// Resolve a model name typed in a box or a message: an absolute path as is; else Max's search path
// (the patcher's folder, the packages, the user's paths); else the models/ folder of the package the
// external `c` was loaded from (<package>/externals/ -> <package>/models/), which Max need not search.
// ".ts" is tried first when missing. main thread.
static inline bool nn_max_resolve_model(t_class* c, const char* name, std::string& path) {
    if (nn::is_absolute_path(name)) {
        path = name;
        return true;
    }
    const std::vector<std::string> candidates = nn::model_file_candidates(name);
    for (const std::string& cand : candidates) {
        char file[MAX_FILENAME_CHARS];
        strncpy_zero(file, cand.c_str(), MAX_FILENAME_CHARS);
        short vol = 0;
        t_fourcc type = 0;
        if (locatefile_extended(file, &vol, &type, nullptr, 0) != 0) continue;
        char full[MAX_PATH_CHARS], native[MAX_PATH_CHARS];
        if (path_toabsolutesystempath(vol, file, full) != MAX_ERR_NONE) continue;
        path_nameconform(full, native, PATH_STYLE_NATIVE, PATH_TYPE_BOOT);
        path = native;
        return true;
    }
    char dir[MAX_PATH_CHARS], native[MAX_PATH_CHARS];
    const short home = c ? class_getpath(c) : 0;
    if (home == 0 || path_toabsolutesystempath(home, "", dir) != MAX_ERR_NONE) return false;
    path_nameconform(dir, native, PATH_STYLE_NATIVE, PATH_TYPE_BOOT);
    std::string package = native;
    while (!package.empty() && (package.back() == '/' || package.back() == '\\')) package.pop_back();
    const size_t cut = package.find_last_of("/\\");
    if (cut == std::string::npos) return false;
    package.resize(cut);
    const std::string shipped = nn::package_model_file(package, name);
    if (shipped.empty()) return false;
    path = shipped;
    return true;
}
