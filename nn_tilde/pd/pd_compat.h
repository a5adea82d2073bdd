// Every PureData compatibility guard of the nn~ external lives here: one binary runs in Debian's Pd
// 0.53 and in Pd 0.54+ (multichannel signals) without #ifs scattered through the adapter. A
// compile-time #if cannot tell which Pd loads the binary, so the multichannel API is looked up when
// the class is set up (nn_pd_compat_setup) and the adapter asks nn_pd_has_multichannel(). The
// worker's events are polled with a clock (pd_queue_mess, 0.56, is not used).
#pragma once

#include "m_pd.h"

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN  // GetModuleHandle/GetProcAddress only
#endif
#ifndef NOMINMAX
#define NOMINMAX  // keep std::min/std::max usable in the adapter
#endif
#include <windows.h>
#else
#include <dlfcn.h>
#endif

// The one symbol the external exports (everything else is built with hidden visibility).
#if defined(_WIN32)
#define NN_PD_EXPORT __declspec(dllexport)
#else
#define NN_PD_EXPORT __attribute__((visibility("default")))
#endif

// nn~ moves samples as t_sample at the adapter and as float in the engine (nn::ChannelRouter
// converts), so both single- and double-precision Pd (pd64, PD_FLOATSIZE 64) are supported; the
// double build is the nn~.linux-amd64-64.so that pd64 loads.
#if defined(PD_FLOATSIZE) && PD_FLOATSIZE != 32 && PD_FLOATSIZE != 64
#error "nn~ supports PD_FLOATSIZE 32 and 64"
#endif

// ---- multichannel signals (Pd 0.54+) ------------------------------------------------------------
// Declared here from Pd 0.54's m_pd.h notes, because Debian's 0.53 headers lack them:
//  - a class created with CLASS_MULTICHANNEL receives input signals of any channel count
//    (s_nchans channels of s_length samples, one after the other in s_vec), and its output signals
//    are not allocated: the dsp method must give every output its channel count with
//    signal_setmultiout(&sp[i], nchans) (at least 1).
//  - 0.53's class_new ignores the flag bit, but nn~ sets it only when the API was found.
#ifndef CLASS_MULTICHANNEL
#define CLASS_MULTICHANNEL 0x10
#endif

// The head of Pd 0.54's t_signal (later fields differ from 0.53's and are never read): s_length,
// s_vec and s_sr sit where 0.53 has s_n, s_vec and s_sr; s_nchans exists only in 0.54+, so it is
// read only when the multichannel API was found.
struct nn_pd_signal_head {
    int s_length;
    t_sample* s_vec;
    t_float s_sr;
    int s_nchans;
};

typedef void (*nn_pd_setmultiout_fn)(t_signal** sig, int nchans);

struct NnPdCompat {
    nn_pd_setmultiout_fn setmultiout = nullptr;  // null: Pd < 0.54
    int major = 0, minor = 0, bugfix = 0;
};

inline NnPdCompat& nn_pd_compat() {
    static NnPdCompat c;
    return c;
}

// Looks up the Pd that loaded us. main thread, once, from nn_tilde_setup.
inline void nn_pd_compat_setup() {
    NnPdCompat& c = nn_pd_compat();
    sys_getversion(&c.major, &c.minor, &c.bugfix);
#if defined(_WIN32)
    // Pd's API lives in pd.dll (the executable links it); a static Pd exports it from the executable.
    HMODULE pd = GetModuleHandleA("pd.dll");
    if (!pd) pd = GetModuleHandleA(nullptr);
    c.setmultiout = pd ? reinterpret_cast<nn_pd_setmultiout_fn>(GetProcAddress(pd, "signal_setmultiout")) : nullptr;
#else
    // RTLD_DEFAULT: the symbols the pd executable exports to its externals.
    c.setmultiout = reinterpret_cast<nn_pd_setmultiout_fn>(dlsym(RTLD_DEFAULT, "signal_setmultiout"));
#endif
}

inline bool nn_pd_has_multichannel() { return nn_pd_compat().setmultiout != nullptr; }

// Channels in the signal of an input (1 in Pd 0.53). main thread (dsp).
inline int nn_pd_nchans(t_signal* s) {
    return nn_pd_has_multichannel() ? reinterpret_cast<nn_pd_signal_head*>(s)->s_nchans : 1;
}

// Gives an output signal its channel count (multichannel Pd only; 0.53 allocates outputs itself).
inline void nn_pd_setmultiout(t_signal** sig, int nchans) {
    if (nn_pd_has_multichannel()) nn_pd_compat().setmultiout(sig, nchans < 1 ? 1 : nchans);
}
