// Shared helpers for the test suites.
#pragma once

#include <filesystem>
#include <optional>

#include <gtest/gtest.h>

namespace cephtrace::test {

// The repository root and the build tree.
std::filesystem::path source_dir();
std::filesystem::path binary_dir();

// ../shared/data/isbi2015 next to the repository (or $CEPHTRACE_ISBI_DIR), if present.
std::optional<std::filesystem::path> isbi_dir();

// A fresh, empty temporary directory unique to the running test.
std::filesystem::path temp_dir();

}  // namespace cephtrace::test

// Skips the current test, saying why, when the ISBI data set is absent.
#define CEPHTRACE_REQUIRE_ISBI(var)                                                     \
  const auto var##_opt = ::cephtrace::test::isbi_dir();                                 \
  if (!var##_opt) GTEST_SKIP() << "ISBI 2015 data not found (../shared/data/isbi2015 " \
                                  "or $CEPHTRACE_ISBI_DIR); skipping real-image test"; \
  const std::filesystem::path var = *var##_opt
