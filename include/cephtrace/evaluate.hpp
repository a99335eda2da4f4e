// Landmark accuracy evaluation: radial errors in millimetres against ground truth, per-landmark
// and overall statistics (MRE, SD, median, p95, SDR), a bootstrap CI of the MRE, reports as
// JSON and Markdown, optionally the error of each clinical measure (analysis.hpp) from predicted vs
// true landmarks, and the ISBI 2015 literature protocol. Needs no model: predictions come
// from any system as a cephtrace predict JSON.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cephtrace/ground_truth.hpp"
#include "cephtrace/original_image_landmarks.hpp"

namespace cephtrace {

// ---- Metrics --------------------------------------------------------------------------------

struct ErrorStats {
  size_t n = 0;
  double mre = 0;     // mean radial error (mm)
  double sd = 0;      // sample standard deviation (n − 1); 0 when n < 2
  double median = 0;  // percentiles by linear interpolation (numpy's default)
  double p95 = 0;
  std::vector<double> sdr;  // per threshold: fraction of errors ≤ threshold (inclusive)
};

// Statistics of `errors_mm`; SDR counts an error equal to a threshold as detected.
ErrorStats compute_error_stats(std::span<const double> errors_mm, std::span<const double> thresholds_mm);

// Percentile q ∈ [0, 100] with linear interpolation between order statistics.
double percentile(std::vector<double> values, double q);

struct ConfidenceInterval {
  double low = 0, high = 0;
  double level = 0.95;
  int resamples = 0;
  uint64_t seed = 0;
};

// Percentile bootstrap CI of the mean error, resampling whole GROUPS (images) with
// replacement: errors of one image are correlated, so images are the independent units.
// Deterministic for a given seed on every platform (own index draw on std::mt19937_64).
ConfidenceInterval bootstrap_mre_ci(const std::vector<std::vector<double>>& groups, int resamples,
                                    uint64_t seed, double level = 0.95);

// ---- Predictions ----------------------------------------------------------------------------

struct PredictedImage {
  std::string key;   // image path (batch key) or source; matched to ground truth by file stem
  std::vector<NamedPoint> landmarks;
  std::optional<double> pixel_spacing_mm;  // e.g. from the image's DICOM header

  std::string stem() const;
};

// A cephtrace predict JSON, read by read_predict_json (original_image_landmarks.hpp): a batch
// (object mapping image path → result) or one result, keyed by its "source" or else by
// `origin`. Throws GroundTruthError naming the file.
std::vector<PredictedImage> read_predictions_file(const std::filesystem::path& file);
std::vector<PredictedImage> predictions_from_json(const nlohmann::json& j, const std::string& origin);
// Ground truth used as predictions (inter-annotator comparison).
PredictedImage as_prediction(const GroundTruth& gt);
// A prediction (e.g. landmarks_from_result of a model run) under `key` (its image path).
PredictedImage as_prediction(const OriginalImageLandmarks& landmarks, const std::string& key);

// ---- Selection ------------------------------------------------------------------------------

// Image ids "151-300,305,abc": numeric ids and ranges match numeric stems by value ("007" = 7),
// anything else matches the stem exactly. Throws std::invalid_argument for a bad range.
class IdSelection {
 public:
  static IdSelection parse(std::string_view spec);
  static IdSelection from_list_file(const std::filesystem::path& file);  // one id per line, # comments
  static IdSelection range(long first, long last);
  bool contains(std::string_view stem) const;
  IdSelection& add(const IdSelection& other);
  IdSelection& exclude(std::string_view id);

 private:
  std::vector<std::pair<long, long>> ranges_;
  std::vector<std::string> names_;
  std::vector<std::string> excluded_;
};

// ---- Evaluation -----------------------------------------------------------------------------

// How millimetres per pixel are chosen for an image:
//  Auto:      --pixel-spacing if given, else the ground truth's _pixel_spacing_mm, else the
//             prediction's pixel_spacing_mm (DICOM header), else S–N = 71 mm.
//  Recorded:  like Auto but never S–N: images without a known spacing are skipped.
//  SellaNasion: the reference evaluator: 71 mm / |S−N| of the ground truth for every image.
enum class ScaleMode { Auto, Recorded, SellaNasion };
std::optional<ScaleMode> parse_scale_mode(std::string_view name);  // "auto" | "recorded" | "sn71"

enum class ScaleSource { CommandLine, GroundTruth, Prediction, SellaNasion };
std::string_view scale_source_name(ScaleSource s);  // "pixel-spacing option", "ground truth", ...

struct EvaluationOptions {
  std::vector<double> sdr_thresholds_mm{2.0, 2.5, 3.0, 4.0};
  ScaleMode scale_mode = ScaleMode::Auto;
  std::optional<double> pixel_spacing_mm;  // global spacing (wins in Auto and Recorded)
  std::vector<std::string> landmarks;      // score only these names; empty = every shared name
  int bootstrap_resamples = 2000;
  uint64_t bootstrap_seed = 2015;
  // Also compare the clinical measures (analyze(), analysis.hpp) computed from the predicted
  // and the true landmarks of every scored image, at the image's scale. Uses every canonical
  // landmark of both sets, whatever `landmarks` selects.
  bool measures = false;
};

struct ImageOutcome {
  std::string stem;
  bool scored = false;
  std::string skip_reason;   // when not scored
  double mm_per_px = 0;
  ScaleSource scale_source = ScaleSource::CommandLine;
  size_t n = 0;
  double mre_mm = 0;
  std::vector<std::string> unpredicted;  // ground-truth landmarks the prediction lacks
};

struct LandmarkReport {
  std::string name;
  ErrorStats stats;
  size_t unpredicted = 0;
  // Mean signed error (prediction − truth, mm; image axes: x right, y down). A large bias
  // next to the MRE means a systematic offset — e.g. another annotation convention — rather
  // than scatter.
  double bias_x_mm = 0, bias_y_mm = 0;
};

struct Observation {
  std::string stem, landmark;
  double error_px = 0, error_mm = 0;
};

// One clinical measure (analyze()'s key) over the scored images: the error of the value from
// the predicted landmarks against the value from the ground truth.
struct MeasureComparison {
  std::string key, analysis;
  std::string unit;                // of the value and the errors: "deg" | "mm" | "%"
  ErrorStats abs_error;            // of |prediction − truth|: n, mean (the MAE), median, p95
  double bias = 0;                 // mean signed error, prediction − truth
  size_t missing_in_truth = 0;     // scored images whose ground truth cannot give the measure
  size_t missing_in_prediction = 0;  // ... whose ground truth can but the prediction cannot
  // The clinical reading of both values (analyze()'s interpretation: below −1 SD / within norm /
  // above +1 SD of the norm, e.g. ANB → skeletal Class III / I / II tendency): on how many of
  // the n images it is the same, and the table truth → prediction → images.
  size_t same_interpretation = 0;
  std::map<std::string, std::map<std::string, size_t>> interpretations;
};

struct MeasureObservation {
  std::string stem, key;
  double truth = 0, prediction = 0;
};

struct EvaluationReport {
  std::string title;
  std::vector<double> thresholds_mm;
  std::vector<LandmarkReport> landmarks;  // canonical order, then extra names
  ErrorStats overall;                     // over all observations
  ConfidenceInterval mre_ci;
  std::vector<ImageOutcome> images;       // every ground-truth image considered
  std::vector<std::string> unmatched_predictions;  // predictions without ground truth
  std::vector<Observation> observations;
  // With EvaluationOptions::measures: every measure analyze() can report, in its order.
  std::vector<MeasureComparison> measures;
  std::vector<MeasureObservation> measure_observations;
};

// Scores `predictions` against `ground_truth` (matched by stem). Images without a prediction
// are listed as skipped; a landmark in the ground truth but not in the prediction is counted
// as unpredicted (not as an error of some made-up size).
EvaluationReport evaluate(const std::vector<GroundTruth>& ground_truth,
                          const std::vector<PredictedImage>& predictions,
                          const EvaluationOptions& options = {});

nlohmann::json to_json(const EvaluationReport& report);
// Per-landmark table (sorted by MRE, worst first, when `sort_by_error`), the overall row with
// its CI, and the scale used per image (summarised when all images share it).
// Then, when the report has measures, the "Clinical measures" table (measures_markdown).
std::string to_markdown(const EvaluationReport& report, bool sort_by_error = true);
// The clinical-measure table alone: per measure n, MAE, median, p95, bias and how often the
// clinical interpretation agrees.
std::string measures_markdown(const EvaluationReport& report);

// ---- ISBI 2015 protocol ---------------------------------------------------------------------

struct IsbiProtocolOptions {
  std::filesystem::path data_dir;       // .../isbi2015 (annotations/senior, annotations/cl2023)
  std::vector<double> sdr_thresholds_mm{2.0, 2.5, 3.0, 4.0};
  int bootstrap_resamples = 2000;
  uint64_t bootstrap_seed = 2015;
  std::string method_name = "this run";
  // Compare the clinical measures too (EvaluationOptions::measures): Test1 and Test2 for the
  // protocol, Test1 for the inter-observer comparison.
  bool measures = false;
};

struct IsbiProtocolReport {
  EvaluationReport test1, test1_dedup, test2;         // the 19 ISBI landmarks, senior labels
  EvaluationReport extra_test1, extra_test2;          // CL-2023 Ba, Co, U1_root, L1_root, Prn
  std::vector<std::string> import_problems;
  std::string method_name;
};

// The ISBI 2015 splits by image id (the protocol below owns them).
enum class IsbiSplit {
  Train,       // 001-150
  Test1,       // 151-300
  Test1Dedup,  // Test1 without 173 and 283, byte-for-byte copies of 144 and 038
  Test2,       // 301-400
  Test,        // Test1 and Test2: every image the protocol scores
};
IdSelection isbi_split(IsbiSplit split);

// Ground truth of the protocol: senior 19 landmarks for images 151–400 at 0.1 mm/pixel plus
// the CL-2023 extra landmarks where the image has them.
std::vector<GroundTruth> isbi_test_ground_truth(const std::filesystem::path& data_dir,
                                                std::vector<std::string>& problems);
IsbiProtocolReport run_isbi_protocol(const std::vector<PredictedImage>& predictions,
                                     const IsbiProtocolOptions& options);
std::string to_markdown(const IsbiProtocolReport& report);
nlohmann::json to_json(const IsbiProtocolReport& report);

// Senior vs alternate annotations (the inter-observer floor), per split.
struct InterObserverReport {
  EvaluationReport all, train, test1, test2;
  std::vector<std::string> import_problems;
};
InterObserverReport run_isbi_interobserver(const IsbiProtocolOptions& options);
std::string to_markdown(const InterObserverReport& report);
nlohmann::json to_json(const InterObserverReport& report);

}  // namespace cephtrace
