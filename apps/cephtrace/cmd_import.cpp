// Placeholder: replaced by the real `cephtrace import` implementation.
#include <iostream>

#include "commands.hpp"

namespace cephtrace::cli {

CommandRunner add_import_command(CLI::App& app) {
  app.add_subcommand("import", "(not implemented yet)");
  return [] {
    std::cerr << "cephtrace import: not implemented yet\n";
    return 2;
  };
}

}  // namespace cephtrace::cli
