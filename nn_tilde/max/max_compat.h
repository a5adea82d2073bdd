// Every Max SDK include and platform guard of the nn~ Max externals lives here (as pd_compat.h does
// for Pd). Built against Cycling74/max-sdk-base (MIT): the SDK infers MAC_VERSION, WIN_VERSION or
// LINUX_VERSION itself (ext_infer_system.h); Max runs on macOS and Windows only, the Linux build is a
// compile-and-link check (see README "Max/MSP").
#pragma once

#include "ext.h"
#include "ext_obex.h"
#include "ext_dictobj.h"
#include "ext_buffer.h"
#include "z_dsp.h"

// Max's perform routines take doubles since Max 6; the engine computes in float (router converts).
static_assert(sizeof(double) == 8, "perform64 hands doubles");

// Max assist strings are written into a caller's buffer of this size (ext_assist.h uses 512 too).
#define NN_MAX_ASSIST_CHARS 512
