// Shared helpers for the test suites.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

namespace cephtrace::test {

// The repository root and the build tree.
std::filesystem::path source_dir();
std::filesystem::path binary_dir();

// Tiny ONNX fixture models written by tools/make_fixture_models.py (a CTest fixture).
std::filesystem::path fixture_models_dir(const std::string& variant = "models");

// The project's shipped models (models/ in the repository), if complete.
std::optional<std::filesystem::path> shipped_models_dir();

// ../shared/data/isbi2015 next to the repository (or $CEPHTRACE_ISBI_DIR), if present.
std::optional<std::filesystem::path> isbi_dir();

// A crude synthetic lateral "cephalogram" (8-bit BGR): a bright head on dark air, the
// face on the `facing_left` side. Good enough to run the pipeline, not to locate anatomy.
cv::Mat synthetic_cephalogram(cv::Size size, bool facing_left = true);

// A fresh, empty temporary directory unique to the running test.
std::filesystem::path temp_dir();

// The whole content of a file ("" when it cannot be read).
std::string read_text(const std::filesystem::path& file);

// Runs the built `cephtrace <args>` (args as the shell sees them) and captures its output;
// a crash shows as an exit code above 128 (the shell's signal code).
struct CliRun {
  int exit_code;
  std::string out, err;
};
CliRun run_cephtrace(const std::string& args);

}  // namespace cephtrace::test

// Skips the current test, saying why, when the ISBI data set is absent.
#define CEPHTRACE_REQUIRE_ISBI(var)                                                     \
  const auto var##_opt = ::cephtrace::test::isbi_dir();                                 \
  if (!var##_opt) GTEST_SKIP() << "ISBI 2015 data not found (../shared/data/isbi2015 " \
                                  "or $CEPHTRACE_ISBI_DIR); skipping real-image test"; \
  const std::filesystem::path var = *var##_opt
