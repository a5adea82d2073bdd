// Every PureData compatibility guard of the nn~ external lives here: the code builds against Debian's
// Pd 0.53 and against newer Pd without #ifs scattered through the adapter. nn~ uses no Pd API newer
// than 0.53: every model channel is its own inlet/outlet (no multichannel signals, 0.54) and the
// worker's events are polled with a clock (no pd_queue_mess, 0.56). A newer function, when one is
// needed, is looked up here when the class is set up: a compile-time #if cannot tell which Pd loads
// the binary.
#pragma once

#include "m_pd.h"

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
