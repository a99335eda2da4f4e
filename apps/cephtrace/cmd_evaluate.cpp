// Placeholder: replaced by the real `cephtrace evaluate` implementation.
#include <iostream>

#include "commands.hpp"

namespace cephtrace::cli {

CommandRunner add_evaluate_command(CLI::App& app) {
  app.add_subcommand("evaluate", "(not implemented yet)");
  return [] {
    std::cerr << "cephtrace evaluate: not implemented yet\n";
    return 2;
  };
}

}  // namespace cephtrace::cli
