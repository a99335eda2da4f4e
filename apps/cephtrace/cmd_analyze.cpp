// Placeholder: replaced by the real `cephtrace analyze` implementation.
#include <iostream>

#include "commands.hpp"

namespace cephtrace::cli {

CommandRunner add_analyze_command(CLI::App& app) {
  app.add_subcommand("analyze", "(not implemented yet)");
  return [] {
    std::cerr << "cephtrace analyze: not implemented yet\n";
    return 2;
  };
}

}  // namespace cephtrace::cli
