// Subcommands of the `cephtrace` program. Each add_* registers its subcommand on `app`
// and returns the function that runs it (returning the process exit code).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace cephtrace::cli {

using CommandRunner = std::function<int()>;

CommandRunner add_predict_command(CLI::App& app);
CommandRunner add_evaluate_command(CLI::App& app);
CommandRunner add_import_command(CLI::App& app);
CommandRunner add_analyze_command(CLI::App& app);
CommandRunner add_download_command(CLI::App& app);
CommandRunner add_serve_command(CLI::App& app);

}  // namespace cephtrace::cli
