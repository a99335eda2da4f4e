// `cephtrace predict`: landmarks for one image or a folder of images.
#include <cstdio>
#include <fstream>
#include <map>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cephtrace/analysis.hpp"
#include "cephtrace/batch.hpp"
#include "cephtrace/overlay.hpp"
#include "cephtrace/constants.hpp"
#include "cephtrace/limits.hpp"
#include "cephtrace/predictor.hpp"
#include "cli_util.hpp"
#include "commands.hpp"

namespace cephtrace::cli {
namespace {

namespace fs = std::filesystem;

struct PredictArgs {
  ModelArgs model;
  std::string image, image_dir, output, overlay;
  bool visualize = false, quiet = false, reference_exact = false, analyze = false, resume = false;
  std::vector<std::string> analyses;  // --analyses (with --analyze)
  int jobs = 1;
  std::string orientation = "auto";
  std::optional<double> pixel_spacing;
};

void print_table(const PredictionResult& r, std::ostream& os) {
  os << r.source << "  (" << r.original_width << "x" << r.original_height
     << ", facing " << orientation_name(r.orientation) << (r.degraded ? ", DEGRADED" : "")
     << ")\n";
  os << "  idx  name        x          y          peak   confidence  tier\n";
  for (const auto& l : r.landmarks) {
    char line[160];
    std::snprintf(line, sizeof line, "  %3d  %-10s %9.1f  %9.1f  %6.3f  %-10s  %s\n", l.index,
                  l.name.c_str(), l.x, l.y, l.peak, l.confidence.c_str(),
                  std::string(tier_name(l.tier)).c_str());
    os << line;
  }
  os << "  total " << static_cast<int>(r.time_ms(TimedStage::Total)) << " ms\n";
}

PredictorOptions make_options(const PredictArgs& a) {
  PredictorOptions o = predictor_options(a.model);
  o.reference_exact = a.reference_exact;
  if (a.orientation == "left") o.orientation = Orientation::FacingLeft;
  if (a.orientation == "right") o.orientation = Orientation::FacingRight;
  return o;
}

BatchOptions batch_options(const PredictArgs& a) {
  BatchOptions o;
  o.pixel_spacing_mm = a.pixel_spacing;
  o.keep_pixels = a.visualize || !a.overlay.empty();  // the overlays are drawn on them
  return o;
}

// The result as JSON, with the clinical analyses added when asked for (printed too).
nlohmann::ordered_json result_json(const PredictionResult& result, const PredictArgs& a) {
  auto j = to_json(result);
  if (a.analyze) {
    AnalysisOptions options;
    options.analyses = a.analyses;
    const auto report = analyze(landmarks_from_result(result), options);
    if (!a.quiet) std::cout << format_table(report) << "\n";
    j["analysis"] = to_json(report);
  }
  return j;
}

cv::Mat overlay_of(const cv::Mat& rgb, const PredictionResult& result, const PredictArgs& a) {
  return draw_overlay(rgb, result,
                      a.analyze ? analysis_lines(landmarks_from_result(result))
                                : std::vector<AnalysisLine>{});
}

int run_single(Predictor& predictor, const PredictArgs& a) {
  protect_input(a.image);
  for (const auto& out : {a.output, a.overlay})
    if (!out.empty()) refuse_protected(out);
  run_batch(predictor, {a.image}, batch_options(a), [&](const BatchItem& item) {
    if (!item.ok()) throw std::runtime_error(item.error);
    const PredictionResult& result = *item.result;
    if (!a.quiet) print_table(result, std::cout);
    const auto json = result_json(result, a);
    if (!a.overlay.empty()) {
      write_png_atomic(a.overlay, overlay_of(item.rgb, result, a));
      if (!a.quiet) std::cout << "overlay written to " << a.overlay << "\n";
    }
    if (a.visualize) {
      const fs::path out = a.output.empty() ? fs::path(fs::path(a.image).stem().string() + "_overlay.png")
                                            : fs::path(a.output);
      write_png_atomic(out, overlay_of(item.rgb, result, a));
      if (!a.quiet) std::cout << "overlay written to " << out.string() << "\n";
    } else if (!a.output.empty()) {
      write_file_atomic(a.output, json.dump(2) + "\n");
      if (!a.quiet) std::cout << "JSON written to " << a.output << "\n";
    }
  });
  return 0;
}

// Overlay file name for each image: <stem>_overlay.png, or <stem>_<ext>_overlay.png when
// two images share a stem (p.jpg and p.png), so that no overlay replaces another.
std::map<fs::path, std::string> overlay_names(const std::vector<fs::path>& files) {
  std::map<std::string, int> stems;
  for (const auto& f : files) ++stems[f.stem().string()];
  std::map<fs::path, std::string> names;
  for (const auto& f : files) {
    std::string name = f.stem().string();
    if (stems[name] > 1) name += "_" + f.extension().string().substr(1);
    names[f] = name + "_overlay.png";
  }
  return names;
}

// A folder run appends each finished result to <output>.partial.jsonl (one
// {"image": path, "result": {...}} per line), so that a run killed mid-way keeps what it
// finished; --resume reads it back and skips those images. The file is removed once the
// final JSON is written.
fs::path progress_file(const PredictArgs& a) { return a.output + ".partial.jsonl"; }

nlohmann::ordered_json read_progress(const fs::path& file) {
  nlohmann::ordered_json done = nlohmann::ordered_json::object();
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    try {  // the last line of a killed run may be cut off: it is simply run again
      const auto j = parse_json(line, file.string());
      done[j.at("image").get<std::string>()] = j.at("result");
    } catch (const std::exception&) {
    }
  }
  return done;
}

int run_folder(const std::vector<Predictor*>& predictors, const PredictArgs& a) {
  const auto listing = list_images(a.image_dir);
  const auto& files = listing.images;
  if (files.empty() && listing.skipped.empty())
    throw std::runtime_error(a.image_dir + ": no images found (looked for .jpg .jpeg .png .bmp "
                                           ".tif .tiff .dcm)");
  if (a.visualize && a.output.empty())
    throw std::runtime_error("--visualize with --image-dir needs --output FOLDER for the overlays");
  const bool json_out = !a.visualize && !a.output.empty();
  if (a.resume && !json_out) throw std::runtime_error("--resume needs --output FILE.json (the batch JSON)");
  for (const auto& f : files) protect_input(f);
  if (json_out) refuse_protected(a.output);
  const auto names = overlay_names(files);

  nlohmann::ordered_json batch = nlohmann::ordered_json::object();
  std::ofstream progress;
  if (json_out) {
    if (a.resume) batch = read_progress(progress_file(a));
    if (!a.resume) fs::remove(progress_file(a));
    if (fs::path(a.output).has_parent_path()) fs::create_directories(fs::path(a.output).parent_path());
    // Rewritten from what was read back, so that a cut-off last line does not stay behind.
    std::ofstream(progress_file(a), std::ios::trunc) << [&] {
      std::string lines;
      for (const auto& [image, result] : batch.items())
        lines += nlohmann::ordered_json{{"image", image}, {"result", result}}.dump() + "\n";
      return lines;
    }();
    progress.open(progress_file(a), std::ios::app);
    if (!progress) throw std::runtime_error(progress_file(a).string() + ": cannot open for writing");
  }
  // Progress lines count the skipped entries first, then every image in name order.
  const size_t total = files.size() + listing.skipped.size();
  size_t failures = 0, n = 0;
  for (const auto& skipped : listing.skipped) {
    ++failures;
    std::cerr << "[" << ++n << "/" << total << "] SKIPPED: " << skipped << "\n";
  }
  std::vector<fs::path> todo;
  std::vector<size_t> number;  // each image's progress number
  for (const auto& file : files) {
    ++n;
    if (batch.contains(file.string())) {
      std::cerr << "[" << n << "/" << total << "] " << file.filename().string() << " done before (--resume)\n";
      continue;
    }
    todo.push_back(file);
    number.push_back(n);
  }
  const auto summary = run_batch(predictors, todo, batch_options(a), [&](const BatchItem& item) {
    const std::string prefix =
        "[" + std::to_string(number[item.index]) + "/" + std::to_string(total) + "] " + item.image.filename().string();
    try {
      if (!item.ok()) throw std::runtime_error(item.error);
      const PredictionResult& result = *item.result;
      if (!a.quiet) print_table(result, std::cout);
      if (a.visualize) write_png_atomic(fs::path(a.output) / names.at(item.image), overlay_of(item.rgb, result, a));
      if (!a.overlay.empty())
        write_png_atomic(fs::path(a.overlay) / names.at(item.image), overlay_of(item.rgb, result, a));
      const auto json = result_json(result, a);
      batch[item.image.string()] = json;
      if (progress.is_open()) {
        progress << nlohmann::ordered_json{{"image", item.image.string()}, {"result", json}}.dump() << "\n";
        progress.flush();
        if (!progress) throw std::runtime_error(progress_file(a).string() + ": write failed (disk full?)");
      }
      std::cerr << prefix << " ok (" << static_cast<int>(item.ms) << " ms"
                << (result.degraded ? ", degraded" : "") << ")\n";
    } catch (const std::exception& e) {
      ++failures;
      std::cerr << prefix << " FAILED: " << e.what() << "\n";
    }
  });
  if (json_out) {
    write_file_atomic(a.output, batch.dump(2) + "\n");
    progress.close();
    fs::remove(progress_file(a));
  }
  std::cerr << total - failures << " of " << total << " images done in " << summary.seconds
            << " s" << (failures ? ", " + std::to_string(failures) + " failed or skipped" : "") << "\n";
  return failures ? 1 : 0;
}

}  // namespace

CommandRunner add_predict_command(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand(
      "predict",
      "Find the 25 landmarks on one cephalogram (--image) or every image of a folder "
      "(--image-dir).\nPrints a table per image; --output writes JSON (single image: the result; "
      "folder: image path -> result),\nor with --visualize an overlay PNG (folder: one "
      "<stem>_overlay.png per image in the --output folder).");
  auto* image = cmd->add_option("--image", args->image, "Cephalogram file (JPEG, PNG, BMP, TIFF, DICOM)")
                    ->check(CLI::ExistingFile);
  auto* dir = cmd->add_option("--image-dir", args->image_dir, "Folder of cephalograms (sorted by name)");
  image->excludes(dir);
  cmd->add_option("--output", args->output, "JSON file, or overlay PNG/folder with --visualize")
      ->check(nonempty_path());
  cmd->add_flag("--visualize", args->visualize, "Write an annotated overlay PNG instead of JSON");
  cmd->add_option("--overlay", args->overlay,
                  "Also write the overlay PNG here (with --image-dir: a folder for "
                  "<stem>_overlay.png files; <stem>_<ext>_overlay.png when two images share a "
                  "stem), independently of --output")
      ->check(nonempty_path());
  cmd->add_flag("--resume", args->resume,
                "Folder runs: skip the images already finished by an earlier, interrupted run "
                "(read from <output>.partial.jsonl, which a folder run appends each result to)");
  add_jobs_option(cmd, args->jobs);
  cmd->add_flag("--strict", args->model.strict,
                "Fail instead of running degraded when a Stage 0 model is missing");
  cmd->add_flag("--quiet", args->quiet, "Do not print the landmark tables");
  add_model_options(cmd, args->model);
  cmd->add_option("--orientation", args->orientation,
                  "Facing direction of the face: auto (detect), left, right")
      ->check(CLI::IsMember({"auto", "left", "right"}));
  cmd->add_flag("--reference-exact", args->reference_exact,
                "Use the reference's contour-to-polyline rule in Phase 0D (see the spec)");
  auto* analyze_flag = cmd->add_flag("--analyze", args->analyze,
                "Add the clinical analyses (Steiner, Downs, Tweed, ...) to each result and draw "
                "their lines on the overlay");
  add_analyses_option(cmd, args->analyses)->needs(analyze_flag);
  cmd->add_option("--pixel-spacing", args->pixel_spacing,
                  "Pixel spacing in mm, recorded in the result (overrides DICOM)")
      ->check(pixel_spacing_mm());
  add_limit_options(cmd);

  return [args]() {
    if (args->image.empty() && args->image_dir.empty()) {
      std::cerr << "cephtrace predict: give --image FILE or --image-dir FOLDER (see --help)\n";
      return 2;
    }
    auto predictors = load_predictors(make_options(*args), args->image_dir.empty() ? 1 : args->jobs);
    return args->image_dir.empty() ? run_single(predictors.front(), *args)
                                   : run_folder(pointers(predictors), *args);
  };
}

}  // namespace cephtrace::cli
