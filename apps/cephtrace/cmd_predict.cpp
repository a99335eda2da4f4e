// `cephtrace predict`: landmarks for one image or a folder of images.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cephtrace/analysis.hpp"
#include "cephtrace/overlay.hpp"
#include "cephtrace/constants.hpp"
#include "cephtrace/predictor.hpp"
#include "cli_util.hpp"
#include "commands.hpp"

namespace cephtrace::cli {
namespace {

namespace fs = std::filesystem;

struct PredictArgs {
  std::string image, image_dir, output, overlay, model_dir;
  bool visualize = false, strict = false, quiet = false, gpu = false, reference_exact = false,
       analyze = false;
  int threads = 0;
  int refine_passes = constants::kRefinePasses;
  std::string decoder = "reference";
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
  for (const auto& [stage, ms] : r.timings_ms)
    if (stage == "total") os << "  total " << static_cast<int>(ms) << " ms\n";
}

PredictorOptions make_options(const PredictArgs& a) {
  PredictorOptions o;
  o.model_dir = a.model_dir.empty() ? default_model_dir() : fs::path(a.model_dir);
  o.threads = a.threads;
  o.strict = a.strict;
  o.use_gpu = a.gpu;
  o.decoder = a.decoder == "dark" ? Decoder::Dark : Decoder::Reference;
  o.reference_exact = a.reference_exact;
  o.refine_passes = a.refine_passes;
  if (a.orientation == "left") o.orientation = Orientation::FacingLeft;
  if (a.orientation == "right") o.orientation = Orientation::FacingRight;
  return o;
}

// One image: load, predict, and return its result (the loaded RGB kept for overlays).
PredictionResult predict_one(Predictor& predictor, const fs::path& file, const PredictArgs& a,
                             cv::Mat* rgb_out) {
  LoadedImage image = load_image(file);
  if (a.pixel_spacing) image.pixel_spacing_mm = a.pixel_spacing;
  PredictionResult result = predictor.predict(image);
  if (rgb_out) *rgb_out = image.rgb;
  return result;
}

// The result as JSON, with the clinical analyses added when asked for (printed too).
nlohmann::ordered_json result_json(const PredictionResult& result, const PredictArgs& a) {
  auto j = to_json(result);
  if (a.analyze) {
    const auto report = analyze(landmarks_from_result(result));
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
  cv::Mat rgb;
  const bool want_rgb = a.visualize || !a.overlay.empty();
  const PredictionResult result = predict_one(predictor, a.image, a, want_rgb ? &rgb : nullptr);
  if (!a.quiet) print_table(result, std::cout);
  const auto json = result_json(result, a);
  if (!a.overlay.empty()) {
    write_png_atomic(a.overlay, overlay_of(rgb, result, a));
    if (!a.quiet) std::cout << "overlay written to " << a.overlay << "\n";
  }
  if (a.visualize) {
    const fs::path out = a.output.empty() ? fs::path(fs::path(a.image).stem().string() + "_overlay.png")
                                          : fs::path(a.output);
    write_png_atomic(out, overlay_of(rgb, result, a));
    if (!a.quiet) std::cout << "overlay written to " << out.string() << "\n";
  } else if (!a.output.empty()) {
    write_file_atomic(a.output, json.dump(2) + "\n");
    if (!a.quiet) std::cout << "JSON written to " << a.output << "\n";
  }
  return 0;
}

int run_batch(Predictor& predictor, const PredictArgs& a) {
  const auto files = list_images(a.image_dir);
  if (files.empty())
    throw std::runtime_error(a.image_dir + ": no images found (looked for .jpg .jpeg .png .bmp "
                                           ".tif .tiff .dcm)");
  if (a.visualize && a.output.empty())
    throw std::runtime_error("--visualize with --image-dir needs --output FOLDER for the overlays");
  nlohmann::ordered_json batch = nlohmann::ordered_json::object();
  int failures = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& file = files[i];
    const auto t = std::chrono::steady_clock::now();
    try {
      cv::Mat rgb;
      const bool want_rgb = a.visualize || !a.overlay.empty();
      const PredictionResult result = predict_one(predictor, file, a, want_rgb ? &rgb : nullptr);
      const std::string overlay_name = file.stem().string() + "_overlay.png";
      if (!a.quiet) print_table(result, std::cout);
      if (a.visualize) write_png_atomic(fs::path(a.output) / overlay_name, overlay_of(rgb, result, a));
      if (!a.overlay.empty())
        write_png_atomic(fs::path(a.overlay) / overlay_name, overlay_of(rgb, result, a));
      batch[file.string()] = result_json(result, a);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
      std::cerr << "[" << i + 1 << "/" << files.size() << "] " << file.filename().string() << " ok ("
                << static_cast<int>(ms) << " ms" << (result.degraded ? ", degraded" : "") << ")\n";
    } catch (const std::exception& e) {
      ++failures;
      std::cerr << "[" << i + 1 << "/" << files.size() << "] " << file.filename().string()
                << " FAILED: " << e.what() << "\n";
    }
  }
  if (!a.visualize && !a.output.empty()) write_file_atomic(a.output, batch.dump(2) + "\n");
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << files.size() - failures << " of " << files.size() << " images done in " << secs
            << " s" << (failures ? ", " + std::to_string(failures) + " failed" : "") << "\n";
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
  cmd->add_option("--output", args->output, "JSON file, or overlay PNG/folder with --visualize");
  cmd->add_flag("--visualize", args->visualize, "Write an annotated overlay PNG instead of JSON");
  cmd->add_option("--overlay", args->overlay,
                  "Also write the overlay PNG here (with --image-dir: a folder for "
                  "<stem>_overlay.png files), independently of --output");
  cmd->add_option("--model-dir", args->model_dir,
                  "Model folder (stage0/, stage1/); default: $CEPHTRACE_MODEL_DIR, ./models, or "
                  "the shipped models");
  cmd->add_flag("--strict", args->strict, "Fail instead of running degraded when a Stage 0 model is missing");
  cmd->add_flag("--quiet", args->quiet, "Do not print the landmark tables");
  cmd->add_flag("--gpu", args->gpu, "Run the models on a CUDA GPU through OpenCV DNN (fails if none)");
  cmd->add_option("--threads", args->threads, "CPU threads for inference (0 = one per core)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--decoder", args->decoder,
                  "Heatmap decoder: reference (DARK-lite, as published) or dark (full DARK)")
      ->check(CLI::IsMember({"reference", "dark"}));
  cmd->add_option("--refine-passes", args->refine_passes,
                  "Stage 2 local refinement passes when the model folder has stage2/refine.onnx "
                  "(the shipped models do; the published ones do not). Further models "
                  "stage2/refine_2.onnx, refine_3.onnx, ... join it as an ensemble: each pass "
                  "averages their positions. 0 = off")
      ->capture_default_str()->check(CLI::Range(0, 5));
  cmd->add_option("--orientation", args->orientation,
                  "Facing direction of the face: auto (detect), left, right")
      ->check(CLI::IsMember({"auto", "left", "right"}));
  cmd->add_flag("--reference-exact", args->reference_exact,
                "Use the reference's contour-to-polyline rule in Phase 0D (see the spec)");
  cmd->add_flag("--analyze", args->analyze,
                "Add the clinical analyses (Steiner, Downs, Tweed, ...) to each result and draw "
                "their lines on the overlay");
  cmd->add_option("--pixel-spacing", args->pixel_spacing,
                  "Pixel spacing in mm, recorded in the result (overrides DICOM)")
      ->check(CLI::PositiveNumber);

  return [args]() {
    if (args->image.empty() && args->image_dir.empty()) {
      std::cerr << "cephtrace predict: give --image FILE or --image-dir FOLDER (see --help)\n";
      return 2;
    }
    Predictor predictor(make_options(*args));
    for (const auto& [key, why] : predictor.missing_models())
      std::cerr << "warning: " << key << " model unavailable: " << why << "\n";
    if (!predictor.stage0_available())
      std::cerr << "warning: Stage 0 unavailable — running DEGRADED (zero attention priors)\n";
    return args->image_dir.empty() ? run_single(predictor, *args) : run_batch(predictor, *args);
  };
}

}  // namespace cephtrace::cli
