// `cephtrace analyze`: clinical cephalometric analyses of a landmark file (a `predict`
// result or batch, or a ground-truth JSON).
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cephtrace/analysis.hpp"
#include "cli_util.hpp"
#include "commands.hpp"

namespace cephtrace::cli {
namespace {

struct AnalyzeArgs {
  std::string landmarks, output;
  std::optional<double> pixel_spacing;
  std::vector<std::string> analyses;
  bool allow_low_confidence = false, sn_scale = false, quiet = false;
};

int run_analyze(const AnalyzeArgs& a) {
  protect_input(a.landmarks);
  const auto sets = load_landmark_sets(a.landmarks);
  AnalysisOptions options;
  options.pixel_spacing_mm = a.pixel_spacing;
  options.allow_low_confidence = a.allow_low_confidence;
  options.sn_scaled = a.sn_scale;
  options.analyses = a.analyses;

  // A single set gives the bare report; a predict batch gives path -> report.
  const bool batch = sets.size() != 1 || !sets.front().first.empty();
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [name, set] : sets) {
    const AnalysisReport report = analyze(set, options);
    if (!a.quiet) {
      if (batch) std::cout << "== " << name << " ==\n";
      std::cout << format_table(report) << (batch ? "\n" : "");
    }
    if (batch)
      out[name] = to_json(report);
    else
      out = to_json(report);
  }
  if (!a.output.empty()) {
    write_file_atomic(a.output, out.dump(2) + "\n");
    if (!a.quiet) std::cout << "analysis written to " << a.output << "\n";
  }
  return 0;
}

}  // namespace

CommandRunner add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  auto* sub = app.add_subcommand(
      "analyze",
      "Clinical cephalometric analyses (Steiner, Wits, Downs, Tweed, Björk–Jarabak, McNamara, "
      "Ricketts, Holdaway, Burstone–Legan) of a landmark file: a `predict` result or batch, or a "
      "ground-truth JSON. Measures that need the extended landmarks (molars, PT, columella, "
      "soft-tissue points) are listed as not available when the file lacks them");
  sub->add_option("--landmarks", args->landmarks, "landmark JSON file")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--pixel-spacing", args->pixel_spacing,
                  "mm per pixel (overrides the file's); without it lengths are in pixels")
      ->check(pixel_spacing_mm());
  sub->add_option("--output", args->output, "write the analysis as JSON")->check(nonempty_path());
  sub->add_flag(
      "--allow-low-confidence", args->allow_low_confidence,
      "use low-confidence landmarks instead of reporting their measures as not available");
  sub->add_flag("--sn-scale", args->sn_scale,
                "without a pixel spacing, scale lengths so that S–N = 71 mm (labelled as such)");
  add_analyses_option(sub, args->analyses);
  sub->add_flag("--quiet", args->quiet, "do not print the table");
  add_limit_options(sub);
  return [args] { return run_analyze(*args); };
}

}  // namespace cephtrace::cli
