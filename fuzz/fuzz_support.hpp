// Shared by the libFuzzer targets: the parsers that read files get the input through a
// temporary file; an exception is a rejected input (the expected outcome), while a crash,
// a sanitizer report, a timeout or an out-of-memory is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

namespace cephtrace::fuzz {

// A per-process file holding `data`, named with `suffix` (e.g. ".csv").
inline std::filesystem::path as_file(const uint8_t* data, size_t size, const std::string& suffix) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("cephtrace_fuzz_" + std::to_string(::getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace cephtrace::fuzz
