// Minimal assertion helpers for the C++ tests (each test is one executable run by ctest).
#pragma once
#include <cstdio>
#include <cstdlib>

inline int g_failures = 0;
#define EXPECT(cond)                                                                      \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++g_failures;                                                                 \
        }                                                                                 \
    } while (0)
#define EXPECT_MSG(cond, ...)                                                             \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            std::fprintf(stderr, __VA_ARGS__);                                            \
            std::fputc('\n', stderr);                                                     \
            ++g_failures;                                                                 \
        }                                                                                 \
    } while (0)
#define TEST_MAIN_END()                                               \
    do {                                                              \
        if (g_failures)                                               \
            std::fprintf(stderr, "%d check(s) failed\n", g_failures); \
        else                                                          \
            std::printf("all checks passed\n");                       \
        return g_failures ? 1 : 0;                                    \
    } while (0)
