// `cephtrace evaluate`: landmark accuracy against ground truth, from saved predictions
// (--predictions) or by running the model (--image-dir), plus the ISBI 2015 protocol
// (--protocol isbi2015) and the inter-observer table (--protocol isbi2015-interobserver).
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cephtrace/batch.hpp"
#include "cephtrace/evaluate.hpp"
#include "cephtrace/constants.hpp"
#include "cephtrace/limits.hpp"
#include "cephtrace/predictor.hpp"
#include "cli_util.hpp"
#include "commands.hpp"

namespace cephtrace::cli {
namespace {

namespace fs = std::filesystem;

struct EvaluateArgs {
  ModelArgs model;  // model.strict also makes unusable ground truth an error
  std::string image_dir, gt_dir, predictions, output, markdown, save_predictions;
  std::string scale = "auto", ids, id_list, protocol, data_dir, aliases;
  std::string priors = "stage0";
  std::vector<double> thresholds{2.0, 2.5, 3.0, 4.0};
  std::vector<std::string> landmarks;  // --landmarks: score only these
  std::optional<double> pixel_spacing;
  int limit = 0, bootstrap = 2000, jobs = 1;
  uint64_t seed = 2015;
  bool quiet = false;
  bool measures = false;
};

// Ground truth as Stage 1 prior positions, by image stem (for --priors ground-truth).
std::map<std::string, OriginalImageLandmarks> priors_from_truth(const std::vector<GroundTruth>& truth) {
  std::map<std::string, OriginalImageLandmarks> out;
  for (const auto& g : truth) out[g.stem] = landmarks_from_ground_truth(g);
  return out;
}

// Runs the model over `images` (progress N/M on stderr); failures are reported and skipped.
// With --priors ground-truth, `truth` supplies each image's priors.
std::vector<PredictedImage> run_model(const std::vector<fs::path>& images, const EvaluateArgs& a,
                                      const std::vector<GroundTruth>& truth) {
  PredictorOptions o = predictor_options(a.model);
  o.priors = a.priors == "zero" ? PriorSource::Zero : PriorSource::Stage0;
  auto predictors = load_predictors(o, a.jobs);
  BatchOptions batch;
  if (a.priors == "ground-truth")
    batch.priors = [gt_priors = priors_from_truth(truth)](const fs::path& image) {
      const auto it = gt_priors.find(image.stem().string());
      if (it == gt_priors.end()) throw std::runtime_error("no ground truth for its priors");
      return it->second;
    };
  std::vector<PredictedImage> out;
  nlohmann::ordered_json saved = nlohmann::ordered_json::object();
  // Pipeline health over the run: how often each Stage 0 phase fully succeeds, degraded
  // results, facing directions, and the per-image latency.
  std::map<std::string, int> phase_ok;
  int degraded = 0, facing_right = 0;
  double total_ms = 0;
  run_batch(pointers(predictors), images, batch, [&](const BatchItem& item) {
    std::cerr << "[" << item.index + 1 << "/" << item.total << "] " << item.image.filename().string();
    if (!item.ok()) {
      std::cerr << " FAILED: " << item.error << "\n";
      return;
    }
    const PredictionResult& r = *item.result;
    out.push_back(as_prediction(landmarks_from_result(r), item.image.string()));
    for (const auto& [phase, ok] : r.stage0_status) phase_ok[phase] += ok ? 1 : 0;
    degraded += r.degraded ? 1 : 0;
    facing_right += r.orientation == Orientation::FacingRight ? 1 : 0;
    total_ms += r.time_ms(TimedStage::Total);
    if (!a.save_predictions.empty()) saved[item.image.string()] = to_json(r);
    std::cerr << (r.degraded ? " (degraded)\n" : "\n");
  });
  if (!a.save_predictions.empty()) write_file_atomic(a.save_predictions, saved.dump(1) + "\n");
  if (!out.empty() && !a.quiet) {
    const double n = static_cast<double>(out.size());
    std::cout << "## Pipeline run: " << out.size() << " images, priors " << a.priors << "\n\n"
              << "| Stage 0 phase | 0A | 0B | 0C | 0D | 0E | degraded | facing right | mean ms/image |\n"
              << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n| success rate |";
    for (const char* phase : {"0A", "0B", "0C", "0D", "0E"})
      std::cout << " " << std::lround(100.0 * phase_ok[phase] / n) << " % |";
    std::cout << " " << std::lround(100.0 * degraded / n) << " % | "
              << std::lround(100.0 * facing_right / n) << " % | " << std::lround(total_ms / n)
              << " |\n\n";
  }
  return out;
}

// Images of `dir` whose stem is accepted, sorted, at most `limit` (0 = all).
std::vector<fs::path> pick_images(const fs::path& dir, const std::function<bool(const std::string&)>& accept,
                                  int limit) {
  std::vector<fs::path> out;
  const auto listing = list_images(dir);
  for (const auto& skipped : listing.skipped) std::cerr << "cephtrace evaluate: skipped " << skipped << "\n";
  for (const auto& f : listing.images)
    if (accept(f.stem().string()) && (limit <= 0 || static_cast<int>(out.size()) < limit)) out.push_back(f);
  return out;
}

void emit(const EvaluateArgs& a, const std::string& markdown, const nlohmann::json& json) {
  if (!a.quiet) std::cout << markdown;
  if (!a.output.empty()) write_file_atomic(a.output, json.dump(1) + "\n");
  if (!a.markdown.empty()) write_file_atomic(a.markdown, markdown);
}

fs::path isbi_data_dir(const EvaluateArgs& a) {
  if (!a.data_dir.empty()) return a.data_dir;
  if (const char* env = std::getenv("CEPHTRACE_ISBI_DIR")) return env;
  return "../shared/data/isbi2015";
}

int run_protocol(const EvaluateArgs& a) {
  IsbiProtocolOptions o;
  o.data_dir = isbi_data_dir(a);
  if (!fs::is_directory(o.data_dir / "annotations" / "senior"))
    throw std::runtime_error(o.data_dir.string() + ": no annotations/senior folder (give --data-dir)");
  o.sdr_thresholds_mm = a.thresholds;
  o.bootstrap_resamples = a.bootstrap;
  o.bootstrap_seed = a.seed;
  o.measures = a.measures;
  if (a.protocol == "isbi2015-interobserver") {
    const auto r = run_isbi_interobserver(o);
    emit(a, to_markdown(r), to_json(r));
    return 0;
  }
  std::vector<PredictedImage> preds;
  if (!a.predictions.empty()) {
    preds = read_predictions_file(a.predictions);
    o.method_name = fs::path(a.predictions).filename().string();
  } else {
    const auto test_ids = isbi_split(IsbiSplit::Test);
    std::vector<std::string> problems;
    const auto truth = a.priors == "ground-truth" ? isbi_test_ground_truth(o.data_dir, problems)
                                                  : std::vector<GroundTruth>{};
    // The shipped default learnt from the test images too; the protocol is scored with the
    // models trained on 001-150 only, unless --model-dir names others.
    EvaluateArgs run = a;
    if (run.model.model_dir.empty() && fs::is_directory(protocol_model_dir())) {
      run.model.model_dir = protocol_model_dir().string();
      if (!a.quiet) std::cerr << "cephtrace evaluate: ISBI protocol with " << run.model.model_dir << "\n";
    }
    preds = run_model(pick_images(o.data_dir / "images", [&](const std::string& s) { return test_ids.contains(s); },
                                  a.limit),
                      run, truth);
    o.method_name = "cephtrace (" + predictor_options(run.model).model_dir.string() + ")";
  }
  const auto r = run_isbi_protocol(preds, o);
  emit(a, to_markdown(r), to_json(r));
  return 0;
}

int run_evaluate(const EvaluateArgs& a) {
  check_bootstrap(a.bootstrap);
  if (!a.predictions.empty()) protect_input(a.predictions);
  if (!a.protocol.empty()) return run_protocol(a);
  if (a.gt_dir.empty()) throw std::runtime_error("give --gt-dir (or --protocol); see --help");
  if (a.predictions.empty() == a.image_dir.empty())
    throw std::runtime_error("give exactly one of --predictions FILE and --image-dir FOLDER");

  AliasTable aliases = AliasTable::builtin();
  if (!a.aliases.empty()) aliases.load(a.aliases);
  std::vector<std::string> problems;
  auto truth = read_ground_truth_dir(a.gt_dir, problems, aliases);
  for (const auto& entry : fs::directory_iterator(a.gt_dir)) protect_input(entry.path());
  for (const auto& p : problems) std::cerr << "cephtrace evaluate: ground truth skipped: " << p << "\n";
  if (a.model.strict && !problems.empty()) throw std::runtime_error("--strict: unusable ground-truth files");

  // Subset: --ids / --id-list, then --limit.
  if (!a.ids.empty() || !a.id_list.empty()) {
    IdSelection ids;
    if (!a.ids.empty()) ids.add(IdSelection::parse(a.ids));
    if (!a.id_list.empty()) ids.add(IdSelection::from_list_file(a.id_list));
    std::erase_if(truth, [&](const GroundTruth& g) { return !ids.contains(g.stem); });
  }
  std::vector<PredictedImage> preds;
  if (!a.predictions.empty()) {
    if (a.limit > 0 && truth.size() > static_cast<size_t>(a.limit)) truth.resize(static_cast<size_t>(a.limit));
    preds = read_predictions_file(a.predictions);
  } else {
    // A model run scores the images of --image-dir that have ground truth (at most --limit).
    std::set<std::string> with_truth;
    for (const auto& g : truth) with_truth.insert(g.stem);
    const auto images = pick_images(a.image_dir, [&](const std::string& s) { return with_truth.count(s) > 0; }, a.limit);
    std::set<std::string> picked;
    for (const auto& f : images) picked.insert(f.stem().string());
    std::erase_if(truth, [&](const GroundTruth& g) { return !picked.count(g.stem); });
    preds = run_model(images, a, truth);
  }
  if (truth.empty()) throw std::runtime_error(a.gt_dir + ": no usable ground truth selected");

  EvaluationOptions o;
  o.sdr_thresholds_mm = a.thresholds;
  o.scale_mode = *parse_scale_mode(a.scale);
  o.pixel_spacing_mm = a.pixel_spacing;
  o.bootstrap_resamples = a.bootstrap;
  o.bootstrap_seed = a.seed;
  o.measures = a.measures;
  o.landmarks = a.landmarks;
  auto report = evaluate(truth, preds, o);
  report.title = "Evaluation of " + (a.predictions.empty() ? a.image_dir : a.predictions) + " against " + a.gt_dir;
  if (report.overall.n == 0) {  // an empty report must not replace an earlier, real one
    std::cerr << "cephtrace evaluate: no landmark was scored; nothing written\n";
    return 1;
  }
  emit(a, to_markdown(report), to_json(report));
  return 0;
}

}  // namespace

CommandRunner add_evaluate_command(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  auto* sub = app.add_subcommand(
      "evaluate",
      "Landmark accuracy against ground truth (one <stem>.json per image in --gt-dir), from saved "
      "predictions (--predictions) or by running the model (--image-dir).\n"
      "Per landmark and overall: n, MRE, SD, median, p95, SDR (error <= threshold), bootstrap 95 % CI;\n"
      "per landmark also the bias (mean signed error x, y in mm).\n"
      "--measures: also the clinical measures of `cephtrace analyze` from predicted vs true landmarks.\n"
      "--protocol isbi2015: the literature protocol (Test1, Test1 without duplicates, Test2, 0.1 mm/px),\n"
      "  run with the models trained on 001-150 only (<models>/isbi2015-protocol) unless --model-dir is given;\n"
      "--protocol isbi2015-interobserver: senior vs alternate annotations.");
  sub->add_option("--gt-dir", args->gt_dir, "folder of canonical ground truth <stem>.json")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--predictions", args->predictions, "cephtrace predict JSON (batch or single result)")
      ->check(CLI::ExistingFile);
  sub->add_option("--image-dir", args->image_dir, "run the model on these images")->check(CLI::ExistingDirectory);
  sub->add_option("--save-predictions", args->save_predictions, "with a model run: also write its batch JSON")
      ->check(nonempty_path());
  sub->add_option("--output", args->output, "write the report as JSON (not when nothing was scored)")
      ->check(nonempty_path());
  sub->add_option("--markdown", args->markdown, "write the report as Markdown")->check(nonempty_path());
  sub->add_option("--sdr-thresholds-mm", args->thresholds, "SDR thresholds in mm (default 2.0 2.5 3.0 4.0)")
      ->expected(1, -1)
      ->check(CLI::PositiveNumber);
  sub->add_option("--landmarks", args->landmarks,
                  "score only these landmarks, comma-separated (e.g. the 25 canonical ones when the "
                  "ground truth has CL-2023's 38 and the predictions the extended 14); default: "
                  "every landmark both sides have")
      ->delimiter(',');
  sub->add_option("--pixel-spacing", args->pixel_spacing, "mm per pixel for every image")
      ->check(pixel_spacing_mm());
  sub->add_option("--scale", args->scale,
                  "auto: --pixel-spacing, else the ground truth's, else the image's (DICOM), else S-N = 71 mm; "
                  "recorded: like auto without S-N; sn71: the reference's S-N = 71 mm for every image")
      ->check(CLI::IsMember({"auto", "recorded", "sn71"}));
  sub->add_option("--ids", args->ids, "evaluate only these image ids, e.g. 151-300 or 301-400,17");
  sub->add_option("--id-list", args->id_list, "file with one image id per line")->check(CLI::ExistingFile);
  sub->add_option("--limit", args->limit, "evaluate at most N images")->check(CLI::NonNegativeNumber);
  sub->add_option("--bootstrap", args->bootstrap, "bootstrap resamples for the MRE CI (default 2000)")
      ->check(CLI::Range(0, limits().max_bootstrap));
  sub->add_option("--seed", args->seed, "bootstrap seed (default 2015)");
  sub->add_option("--aliases", args->aliases, "JSON {\"label\": \"canonical\"} for ground-truth labels")
      ->check(CLI::ExistingFile);
  sub->add_option("--protocol", args->protocol, "isbi2015 | isbi2015-interobserver")
      ->check(CLI::IsMember({"isbi2015", "isbi2015-interobserver"}));
  sub->add_option("--data-dir", args->data_dir,
                  "ISBI 2015 folder for --protocol (default $CEPHTRACE_ISBI_DIR or ../shared/data/isbi2015)");
  sub->add_option("--priors", args->priors,
                  "model runs: stage0 (the pipeline), zero (no priors) or ground-truth (priors at the "
                  "true positions) -- an ablation of what Stage 0 is worth")
      ->check(CLI::IsMember({"stage0", "zero", "ground-truth"}));
  sub->add_flag("--strict", args->model.strict, "missing Stage 0 models or unusable ground truth are errors");
  add_model_options(sub, args->model, "Model runs (--image-dir, --protocol without --predictions)");
  add_jobs_option(sub, args->jobs);
  sub->add_flag("--measures", args->measures,
                "also compare the clinical measures (SNA, ANB, FMA, ...; cephtrace analyze) computed from "
                "the predicted and the true landmarks: per measure n, mean and median absolute error, and "
                "how often the clinical reading (below / within / above the norm +-1 SD) agrees");
  sub->add_flag("--quiet", args->quiet, "do not print the table");
  add_limit_options(sub);
  return [args] { return run_evaluate(*args); };
}

}  // namespace cephtrace::cli
