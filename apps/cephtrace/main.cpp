// `cephtrace`: automatic cephalometric landmark detection (CephTrace v4 pipeline).
#include <exception>
#include <iostream>
#include <map>

#include "cephtrace/predictor.hpp"
#include "cephtrace/version.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  cephtrace::keep_freed_memory();  // before any thread allocates (predictor.hpp)
  CLI::App app{
      "cephtrace — automatic cephalometric landmark detection (CephTrace v4 pipeline).\n"
      "Finds 25 landmarks on a lateral cephalogram, evaluates accuracy against ground truth,\n"
      "and computes clinical cephalometric analyses."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cephtrace " CEPHTRACE_VERSION_STRING);

  std::map<CLI::App*, cephtrace::cli::CommandRunner> runners;
  auto add = [&](auto&& adder) {
    const size_t before = app.get_subcommands({}).size();
    auto runner = adder(app);
    runners[app.get_subcommands({}).at(before)] = std::move(runner);
  };
  add(cephtrace::cli::add_predict_command);
  add(cephtrace::cli::add_evaluate_command);
  add(cephtrace::cli::add_import_command);
  add(cephtrace::cli::add_analyze_command);
  add(cephtrace::cli::add_download_command);
  add(cephtrace::cli::add_serve_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto* sub : app.get_subcommands())
      if (auto it = runners.find(sub); it != runners.end()) return it->second();
  } catch (const std::exception& e) {
    std::cerr << "cephtrace: error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
