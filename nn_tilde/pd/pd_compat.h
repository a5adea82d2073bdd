// Every PureData version guard of the nn~ external lives here (STYLE.md item 8): the code builds
// against Debian's Pd 0.53 and against newer Pd without #ifs scattered through the adapter.
#pragma once

#include "m_pd.h"

#define NN_PD_VERSION (PD_MAJOR_VERSION * 10000 + PD_MINOR_VERSION * 100 + PD_BUGFIX_VERSION)

// Multichannel signals (signal_setmultiout, CLASS_MULTICHANNEL) appeared in Pd 0.54. nn~ does not use
// them yet: every model channel is its own inlet/outlet, which works in every Pd. When multichannel
// support lands it goes behind this macro.
#define NN_PD_HAS_MULTICHANNEL (NN_PD_VERSION >= 5400)

// pd_queue_mess (0.56) would let a worker post a message to the main thread; nn~ polls its event
// queue with a clock instead, which works in every version.
#define NN_PD_HAS_QUEUE_MESS (NN_PD_VERSION >= 5600)

// The one symbol the external exports (everything else is built with hidden visibility).
#if defined(_WIN32)
#define NN_PD_EXPORT __declspec(dllexport)
#else
#define NN_PD_EXPORT __attribute__((visibility("default")))
#endif

// nn~ moves samples as 32-bit floats. A double-precision Pd (PD_FLOATSIZE 64) needs a conversion
// in the perform routine that is not written yet; refuse to build rather than corrupt audio.
#if defined(PD_FLOATSIZE) && PD_FLOATSIZE != 32
#error "nn~ supports single-precision Pd (PD_FLOATSIZE 32) only"
#endif
