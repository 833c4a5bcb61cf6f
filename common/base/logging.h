#pragma once

// Minimal leveled logging to stderr. The data path logs only at debug level,
// which is compiled in but off unless WEFT_LOG=debug.

#include <cstdio>

namespace weft {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

LogLevel currentLogLevel();
void logLine(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace weft

#define WEFT_LOG(level, ...)                                    \
  do {                                                          \
    if (::weft::LogLevel::level >= ::weft::currentLogLevel()) { \
      ::weft::logLine(::weft::LogLevel::level, __VA_ARGS__);    \
    }                                                           \
  } while (0)

#define LOG_DEBUG(...) WEFT_LOG(kDebug, __VA_ARGS__)
#define LOG_INFO(...) WEFT_LOG(kInfo, __VA_ARGS__)
#define LOG_WARN(...) WEFT_LOG(kWarn, __VA_ARGS__)
#define LOG_ERROR(...) WEFT_LOG(kError, __VA_ARGS__)
