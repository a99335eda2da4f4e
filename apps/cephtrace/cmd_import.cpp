// `cephtrace import`: public annotation formats -> canonical ground truth (one <stem>.json each).
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cephtrace/ground_truth.hpp"
#include "cephtrace/image_io.hpp"
#include "cli_util.hpp"
#include "commands.hpp"

namespace cephtrace::cli {
namespace {

namespace fs = std::filesystem;

struct ImportArgs {
  std::string format, input, output_dir, image_dir, aliases;
  std::optional<double> pixel_spacing;
  bool strict = false, quiet = false;
};

int run_import(const ImportArgs& a) {
  const auto format = parse_import_format(a.format);
  if (!format) throw std::runtime_error("--format: unknown format '" + a.format + "'");
  ImportOptions options;
  options.pixel_spacing_mm = a.pixel_spacing;
  if (!a.aliases.empty()) options.aliases.load(a.aliases);
  if (!a.image_dir.empty()) {
    // Image sizes (for the out-of-image check) are read lazily, only for imported stems.
    auto files = std::make_shared<std::map<std::string, fs::path>>();
    const auto listing = list_images(a.image_dir);
    for (const auto& skipped : listing.skipped) std::cerr << "cephtrace import: skipped " << skipped << "\n";
    for (const auto& f : listing.images) files->emplace(f.stem().string(), f);
    options.image_size = [files](const std::string& stem) -> std::optional<std::pair<int, int>> {
      const auto it = files->find(stem);
      if (it == files->end()) return std::nullopt;
      try {
        const LoadedImage image = load_image(it->second);
        return std::pair{image.grey.cols, image.grey.rows};
      } catch (const std::exception& e) {  // an unreadable image only disables its bounds check
        std::cerr << "cephtrace import: warning: " << e.what() << "; no out-of-image check for " << stem << "\n";
        return std::nullopt;
      }
    };
  }

  protect_input(a.input);
  if (fs::is_directory(a.input))
    for (const auto& entry : fs::directory_iterator(a.input)) protect_input(entry.path());
  const ImportResult result = import_ground_truth(*format, a.input, options);
  size_t refused = 0;
  for (const auto& issue : result.issues) {
    refused += issue.image_refused ? 1 : 0;
    std::cerr << "cephtrace import: " << describe(issue) << "\n";
  }
  if (a.strict && !result.issues.empty()) {
    std::cerr << "cephtrace import: --strict: " << result.issues.size() << " problem(s); nothing written\n";
    return 1;
  }
  fs::create_directories(a.output_dir);
  for (const auto& gt : result.records)
    write_file_atomic(fs::path(a.output_dir) / (gt.stem + ".json"), ground_truth_text(gt));
  if (!a.quiet)
    std::cout << "imported " << result.records.size() << " image(s) into " << a.output_dir << "; "
              << result.issues.size() << " problem(s) reported, " << refused << " image(s) refused\n";
  return result.records.empty() ? 1 : 0;
}

}  // namespace

CommandRunner add_import_command(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  auto* sub = app.add_subcommand(
      "import",
      "Convert annotations (ISBI 2015 senior CSV / alternate points.csv, CL-Detection 2023 txt, "
      "LabelMe JSON, canonical JSON) into canonical ground truth: one <stem>.json per image");
  sub->add_option("--format", args->format, "isbi-senior | isbi-alternate | cl2023 | labelme | canonical")
      ->required()
      ->check(CLI::IsMember({"isbi-senior", "isbi-alternate", "cl2023", "labelme", "canonical"}));
  sub->add_option("--input", args->input, "annotation file, or folder (cl2023, labelme, canonical)")
      ->required()
      ->check(CLI::ExistingPath);
  sub->add_option("--output-dir", args->output_dir, "folder for the <stem>.json files")
      ->required()
      ->check(nonempty_path());
  sub->add_option("--image-dir", args->image_dir, "the images, for their sizes (out-of-image check)")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--pixel-spacing", args->pixel_spacing, "mm per pixel, recorded in every file")
      ->check(pixel_spacing_mm());
  sub->add_option("--aliases", args->aliases, "JSON {\"label\": \"canonical name\"} extending the alias table")
      ->check(CLI::ExistingFile);
  sub->add_flag("--strict", args->strict, "write nothing when any problem is found");
  sub->add_flag("--quiet", args->quiet, "no summary on stdout");
  add_limit_options(sub);
  return [args] { return run_import(*args); };
}

}  // namespace cephtrace::cli
