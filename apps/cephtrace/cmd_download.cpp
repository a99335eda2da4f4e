// Placeholder: replaced by the real `cephtrace download` implementation.
#include <iostream>

#include "commands.hpp"

namespace cephtrace::cli {

CommandRunner add_download_command(CLI::App& app) {
  app.add_subcommand("download", "(not implemented yet)");
  return [] {
    std::cerr << "cephtrace download: not implemented yet\n";
    return 2;
  };
}

}  // namespace cephtrace::cli
